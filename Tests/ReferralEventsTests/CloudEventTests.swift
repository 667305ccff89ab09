import Foundation
import Testing
@testable import ReferralEvents

/// Export to CloudEvents JSON and import back, for every event type.
struct CloudEventTests {
    /// The exported line parsed by Foundation, independently of the project's parser.
    static func object(_ line: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test(arguments: EventType.all)
    func jsonRoundTripGivesBackTheEvent(type: EventType) throws {
        for sample in Samples.recorded where sample.envelope.type == type {
            let line = sample.cloudEventJSON()
            let imported = try ProposedEvent.fromCloudEventJSON(line)
            #expect(imported == sample.asProposed)
            #expect(imported.payload == sample.payload)
            // Same text again: export is a pure function of the event.
            #expect(RecordedEvent(envelope: sample.envelope, payload: imported.payload).cloudEventJSON() == line)
        }
    }

    @Test(arguments: EventType.all)
    func exportCarriesEveryEnvelopeField(type: EventType) throws {
        let sample = Samples.recorded(type)
        let e = sample.envelope
        let line = sample.cloudEventJSON()
        #expect(!line.contains("\n"))
        let o = try Self.object(line)
        #expect(o["specversion"] as? String == "1.0")
        #expect(o["id"] as? String == e.id.uuidString.lowercased())
        #expect(o["source"] as? String == "urn:referral:org:" + e.organisation)
        #expect(o["type"] as? String == type.cloudEventType)
        #expect(o["subject"] as? String == e.stream.rawValue)
        #expect(o["time"] as? String == e.occurredAt.iso8601)
        #expect(o["datacontenttype"] as? String == "application/json")
        #expect(o["dataschema"] as? String == "Schemas/\(type.name).v\(type.schemaVersion).json")
        #expect(o["actor"] as? String == e.actor)
        #expect(o["organisation"] as? String == e.organisation)
        #expect(o["recordedat"] as? String == e.recordedAt.iso8601)
        #expect((o["position"] as? NSNumber)?.uint64Value == e.position)
        #expect((o["streamversion"] as? NSNumber)?.uint64Value == e.version)
        #expect((o["schemaversion"] as? NSNumber)?.intValue == Int(type.schemaVersion))
        #expect(o["correlationid"] as? String == e.correlationId?.uuidString.lowercased())
        #expect(o["causationid"] as? String == e.causationId?.uuidString.lowercased())
        #expect(o["previoushash"] as? String == e.previousHash.hex)
        #expect(o["hash"] as? String == e.hash.hex)
        #expect(o["data"] is [String: Any])
        // Extension attribute names are lowercase letters and digits (CloudEvents 1.0).
        for key in o.keys { #expect(key.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }, "\(key)") }
    }

    @Test(arguments: EventType.all)
    func keysAreSortedAtEveryLevel(type: EventType) throws {
        let line = Samples.recorded(type).cloudEventJSON()
        let reserialised = try JSONSerialization.data(withJSONObject: Self.object(line), options: [.sortedKeys, .withoutEscapingSlashes])
        #expect(try Self.object(String(decoding: reserialised, as: UTF8.self)).keys.sorted() == Self.object(line).keys.sorted())
        let topKeys = try Self.object(line).keys.sorted()
        let positions = topKeys.map { line.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
    }

    /// Pins the exact text, so that a change to the JSON form is a deliberate one.
    @Test func exportedTextIsStable() {
        let line = Samples.recorded(.placementStarted).cloudEventJSON()
        #expect(line == #"{"actor":"jc-viborg-ahj","correlationid":"5a3b1e00-0000-4000-8000-000000009001","data":{"employer":"dagli-brugsen-viborg","hoursPerWeek":18.5,"kind":"work-placement","placementId":"VIB-0001-P1","plannedEndDate":"2024-04-29","referralId":"VIB-0001-R1","startDate":"2024-04-02"},"datacontenttype":"application/json","dataschema":"Schemas/placement-started.v1.json","hash":"\#(Samples.recorded(.placementStarted).envelope.hash.hex)","id":"5a3b1e00-0000-4000-8000-000000000012","organisation":"jobcenter-viborg","position":21,"previoushash":"\#(Samples.recorded(.placementStarted).envelope.previousHash.hex)","recordedat":"2024-04-04T08:03:00.123Z","schemaversion":1,"source":"urn:referral:org:jobcenter-viborg","specversion":"1.0","streamversion":8,"subject":"case-VIB-0001","time":"2024-04-02T08:00:00.000Z","type":"dk.referral.placement-started.v1"}"#)
    }

    @Test func hoursAndUUIDsAreCanonical() throws {
        let retraction = try Self.object(Samples.recorded(.eventRetracted).cloudEventJSON())
        let data = try #require(retraction["data"] as? [String: Any])
        #expect(data["retractedEventId"] as? String == "5a3b1e00-0000-4000-8000-000000000010")
        #expect(Samples.recorded(.sharedHoursLogged).cloudEventJSON().contains(#""hours":7.25"#))
        #expect(Samples.recorded(.hoursAgreementMade).cloudEventJSON().contains(#""hoursPerWeek":15,"#))
    }

    @Test func sourceCanBeChosenAndIsPercentEncoded() throws {
        let sample = Samples.recorded(.caseClosed)
        #expect(try Self.object(sample.cloudEventJSON(source: "urn:referral:store:viborg"))["source"] as? String == "urn:referral:store:viborg")
        #expect(CloudEvent.defaultSource(organisation: "bo/lig ø") == "urn:referral:org:bo%2Flig%20%C3%B8")
        var renamed = sample
        renamed.envelope.organisation = "boligkontoret fredericia"
        #expect(try ProposedEvent.fromCloudEventJSON(renamed.cloudEventJSON()).organisation == "boligkontoret fredericia")
    }

    @Test func jsonLinesWriterPutsOneEventPerLine() throws {
        let text = Samples.recorded.cloudEventJSONLines()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == Samples.recorded.count + 1)
        #expect(lines.last == "")
        let read = CloudEventLines.read(text)
        #expect(read.isValid)
        #expect(read.events.map(\.event) == Samples.recorded.map(\.asProposed))
        #expect(read.events.map(\.line) == Array(1...Samples.recorded.count))
    }

    @Test func textWithEscapesAndNonASCIIRoundTrips() throws {
        var sample = Samples.recorded(.caseClosed)
        let reason = "Flyttet til Ishøj \"Vejleåparken\"\nlinje 2\t\\ / \u{1} \u{2028} 😀"
        sample.payload = .caseClosed(.init(reason: reason))
        let line = sample.cloudEventJSON()
        #expect(!line.contains("\n"))
        #expect(try ProposedEvent.fromCloudEventJSON(line).payload == .caseClosed(.init(reason: reason)))
        #expect(try Self.object(line)["data"].flatMap { $0 as? [String: Any] }?["reason"] as? String == reason)
    }
}
