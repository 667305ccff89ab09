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

    /// Everything `Reader` gives, in order, as `read` gives it: events, then errors, by line.
    static func readAll(_ reader: CloudEventLines.Reader) throws -> CloudEventLines.Result {
        var result = CloudEventLines.Result()
        while let next = try reader.next() {
            switch next {
            case .success(let entry): result.events.append(entry)
            case .failure(let error): result.errors.append(error)
            }
        }
        return result
    }

    /// The streaming reader against the whole-input one, on an input of many of its blocks
    /// (4 KiB here, for speed; 1 MiB by default): lines across block ends, a byte order mark, CRLF, blank and bad lines, and a
    /// last line without its newline.
    @Test func theReaderReadsWhatReadReads() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        var i = 0
        while bytes.count < 256 << 10 {
            // Mostly blank and short bad lines, cheap to read, between the events.
            switch i % 10 {
            case 0: bytes += Array((Self.good1 + "\n").utf8)
            case 1: bytes += Array((Self.badKind + "\n").utf8)
            case 2: bytes += Array((Self.good2 + "\r\n").utf8)
            case 3, 5: bytes += Array("[\(i)]\n".utf8)
            default: bytes += Array((String(repeating: " ", count: 300 + 97 * i % 5_000) + "\r\n").utf8)
            }
            i += 1
        }
        bytes += Array(Self.good2.utf8)  // no newline at the end
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID()).jsonl").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let whole = CloudEventLines.read(Data(bytes), maxErrors: .max)
        let reader = try CloudEventLines.Reader(path: path, blockSize: 4_096)
        let streamed = try Self.readAll(reader)
        #expect(reader.offset == bytes.count, "the offset (for progress) ends at the input's end")
        let first = try CloudEventLines.Reader(path: path, blockSize: 4_096)
        _ = try first.next()
        #expect(first.offset == 3 + Self.good1.utf8.count + 1, "the offset after the first line: BOM, line, newline")
        #expect(whole.events.count > 20)
        #expect(streamed.events.count == whole.events.count)
        #expect(streamed.errors.count == whole.errors.count)
        #expect(streamed == whole, "the streaming reader differs from read(_:)")
        #expect(streamed.events.last?.event == Samples.recorded(.referralAnswered).asProposed)

        // From a pipe, whose reads come back short.
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (input, writeEnd) = (bytes, fds[1])
        let writer = Thread {
            input.withUnsafeBytes { b in
                var off = 0
                while off < b.count {
                    let n = write(writeEnd, b.baseAddress! + off, min(4_093, b.count - off))
                    if n <= 0 { break }
                    off += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        let piped = try Self.readAll(CloudEventLines.Reader(fileDescriptor: fds[0], blockSize: 4_096))
        close(fds[0])
        #expect(piped == whole, "read from a pipe, the reader differs from read(_:)")

        #expect(throws: ImportError.self) { try CloudEventLines.Reader(path: path + ".missing") }
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
