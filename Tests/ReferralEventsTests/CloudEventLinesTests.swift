import Foundation
import Testing
@testable import ReferralEvents

/// Reading JSON Lines: every bad line reported with its number, the good ones kept.
struct CloudEventLinesTests {
    static let good1 = Samples.recorded(.referralMade).cloudEventJSON()
    static let good2 = Samples.recorded(.referralAnswered).cloudEventJSON()
    static let badKind = good1.replacingOccurrences(of: #""kind":"work-placement""#, with: #""kind":"foo""#)

    @Test func errorsCarryTheirLineNumbers() throws {
        var bytes = Array((Self.good1 + "\n" + Self.badKind + "\n\n").utf8)
        bytes += [0x7B, 0x22, 0xE6, 0x22, 0x7D, 0x0A]  // {"æ"} in Latin-1
        bytes += Array((Self.good2 + "\r\n").utf8)
        let result = CloudEventLines.read(Data(bytes))

        #expect(result.events.map(\.line) == [1, 5])
        #expect(result.events.map(\.event) == [Samples.recorded(.referralMade).asProposed, Samples.recorded(.referralAnswered).asProposed])
        #expect(result.errors.map(\.line) == [2, 4])
        #expect(result.errors.map(\.message) == [
            "line 2: data.kind: 'foo' is not one of jobcenter-contact, work-placement, wage-subsidy, apprenticeship, education, mentor, health, leisure-job, other",
            "line 4: not valid JSON at column 3: not valid UTF-8 (byte 0xe6 at byte offset 2); save the file as UTF-8",
        ])
        #expect(result.errors.first?.field == "data.kind")
        #expect(result.errors.first?.logError.code == .invalidInput)
        #expect(!result.isValid)
    }

    @Test func decodeThrowsTheFirstError() throws {
        let text = Self.good1 + "\n" + Self.good2 + "\n" + Self.badKind + "\n" + "[]\n"
        let error = #expect(throws: ImportError.self) { try CloudEventLines.decode(Data(text.utf8)) }
        #expect(error?.line == 3)
        #expect(error?.field == "data.kind")
    }

    @Test func decodeReadsAWholeValidFile() throws {
        let text = "\u{FEFF}" + Samples.recorded.cloudEventJSONLines()
        #expect(try CloudEventLines.decode(Data(text.utf8)) == Samples.recorded.map(\.asProposed))
    }

    @Test func emptyInputHasNoEventsAndNoErrors() {
        for text in ["", "\n", "  \n\t\n"] {
            let result = CloudEventLines.read(text)
            #expect(result.events.isEmpty && result.errors.isEmpty)
        }
    }

    @Test func aPrettyPrintedEventIsNotOneLine() {
        let result = CloudEventLines.read("{\n\"specversion\": \"1.0\"\n}\n")
        #expect(result.errors.map(\.message) == [
            "line 1: not valid JSON at column 2: expected a member name in double quotes, found the end of the line",
            "line 2: not valid JSON at column 14: unexpected text after the JSON value; put one event per line",
            "line 3: not valid JSON at column 1: expected a JSON value, found '}'",
        ])
    }

    @Test func readingStopsAfterMaxErrors() {
        let text = String(repeating: "nonsense\n", count: 50)
        #expect(CloudEventLines.read(text, maxErrors: 5).errors.count == 5)
    }
}
