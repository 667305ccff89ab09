import Foundation
import Testing
@testable import ReferralEvents

/// A sample event changed in one place, and the exact error import must give.
struct BadEvent: Sendable, CustomTestStringConvertible {
    var name: String
    var type: EventType
    var change: @Sendable (inout [String: Any]) -> Void
    var message: String

    var testDescription: String { name }

    init(_ name: String, _ type: EventType, _ message: String, _ change: @escaping @Sendable (inout [String: Any]) -> Void) {
        self.name = name
        self.type = type
        self.message = message
        self.change = change
    }

    /// Changes one field of `data`.
    static func data(_ name: String, _ type: EventType, _ field: String, _ value: (any Sendable)?, _ message: String) -> BadEvent {
        BadEvent(name, type, message) { o in
            var d = o["data"] as! [String: Any]
            d[field] = value
            o["data"] = d
        }
    }

    /// Changes one attribute.
    static func attribute(_ name: String, _ type: EventType, _ attribute: String, _ value: (any Sendable)?, _ message: String) -> BadEvent {
        BadEvent(name, type, message) { o in o[attribute] = value }
    }

    /// The sample of `type` as exported, with the change made.
    func line() throws -> String {
        var o = try #require(JSONSerialization.jsonObject(with: Data(Samples.recorded(type).cloudEventJSON().utf8)) as? [String: Any])
        change(&o)
        return String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }
}

struct CloudEventImportErrorTests {
    static let cases: [BadEvent] = [
        // Attributes
        .attribute("unknown type", .caseOpened, "type", "dk.referral.foo.v1",
                   "type: unknown event type 'dk.referral.foo.v1'; the known types are listed in Schemas/README.md"),
        .attribute("unknown version", .caseOpened, "type", "dk.referral.case-opened.v2",
                   "type: 'dk.referral.case-opened.v2' is a version this build does not read; it reads case-opened v1"),
        .attribute("type of another vendor", .caseOpened, "type", "com.example.thing",
                   "type: 'com.example.thing' is not an event type of this project; expected dk.referral.<name>.v<version>"),
        .attribute("type missing", .caseOpened, "type", nil, "type: required but missing"),
        .attribute("specversion 0.3", .caseOpened, "specversion", "0.3", "specversion: '0.3' is not supported; expected '1.0'"),
        .attribute("specversion as number", .caseOpened, "specversion", 1.0, "specversion: expected a string, found a number"),
        .attribute("subject missing", .caseOpened, "subject", nil, "subject: required but missing"),
        .attribute("id not a UUID", .caseOpened, "id", "VIB-0001-1",
                   "id: 'VIB-0001-1' is not a UUID; expected 8-4-4-4-12 hex digits such as 0b9e3c9e-5f0a-4c1e-9d3b-2f6a1e7c8d90"),
        .attribute("time not a real date", .caseOpened, "time", "2024-02-30T10:00:00Z", "time: '2024-02-30T10:00:00Z' is not a real date"),
        .attribute("time a bare impossible date", .caseOpened, "time", "2024-02-30", "time: '2024-02-30' is not a real date"),
        .attribute("time without a time of day", .caseOpened, "time", "2024-03-01",
                   "time: '2024-03-01' is a date without a time; expected an RFC 3339 date-time such as 2024-03-01T09:30:00Z"),
        .attribute("time in Danish form", .caseOpened, "time", "01.03.2024 09:30",
                   "time: '01.03.2024 09:30' is not an RFC 3339 date-time such as 2024-03-01T09:30:00Z"),
        .attribute("time hour 25", .caseOpened, "time", "2024-03-01T25:00:00Z",
                   "time: '2024-03-01T25:00:00Z' is not an RFC 3339 date-time such as 2024-03-01T09:30:00Z"),
        .attribute("time a leap second", .caseOpened, "time", "2016-12-31T23:59:60Z",
                   "time: '2016-12-31T23:59:60Z' is not an RFC 3339 date-time such as 2024-03-01T09:30:00Z"),
        .attribute("time without zone", .caseOpened, "time", "2024-03-01T09:30:00",
                   "time: '2024-03-01T09:30:00' is not an RFC 3339 date-time such as 2024-03-01T09:30:00Z"),
        .attribute("actor empty", .caseOpened, "actor", "", "actor: must not be empty"),
        .attribute("organisation null", .caseOpened, "organisation", NSNull(), "organisation: must not be null; expected a string"),
        .attribute("source with spaces", .caseOpened, "source", "my system",
                   "source: 'my system' is not a URI reference; use RFC 3986 characters only (no spaces; percent-encode the rest)"),
        .attribute("datacontenttype not JSON", .caseOpened, "datacontenttype", "text/plain",
                   "datacontenttype: 'text/plain' is not supported; expected 'application/json'"),
        .attribute("dataschema of another type", .caseOpened, "dataschema", "Schemas/case-closed.v1.json",
                   "dataschema: 'Schemas/case-closed.v1.json' does not name this event type's schema; expected a URI ending in 'case-opened.v1.json', e.g. 'Schemas/case-opened.v1.json'"),
        .attribute("schemaversion disagrees with type", .caseOpened, "schemaversion", 2, "schemaversion: 2 does not match; expected 1"),
        .attribute("position zero", .caseOpened, "position", 0, "position: 0 is out of range; expected an integer from 1 to 2147483647"),
        .attribute("position beyond a CloudEvents Integer", .caseOpened, "position", 3_000_000_000,
                   "position: 3000000000 is out of range; expected an integer from 1 to 2147483647"),
        .attribute("streamversion as text", .caseOpened, "streamversion", "1", "streamversion: expected an integer, found a string"),
        .attribute("recordedat not a date-time", .caseOpened, "recordedat", "yesterday",
                   "recordedat: 'yesterday' is not an RFC 3339 date-time such as 2024-03-01T09:30:00Z"),
        .attribute("hash too short", .caseOpened, "hash", "abc123", "hash: 'abc123' is not a SHA-256 digest; expected 64 lowercase hex digits"),
        .attribute("correlationid not a UUID", .caseOpened, "correlationid", 42, "correlationid: expected a UUID string, found a number"),
        .attribute("unknown attribute", .caseOpened, "organization", "secretariat-viborg",
                   "organization: unknown attribute; events of this project have specversion, id, source, type, subject, time, datacontenttype, dataschema, data, actor, organisation, recordedat, position, streamversion, schemaversion, correlationid, causationid, previoushash, hash"),
        .attribute("binary data", .caseOpened, "data_base64", "AAAA", "data_base64: binary data is not supported; send data as a JSON object"),
        BadEvent("attribute in capitals", .caseOpened, "Subject: attribute names are lowercase; write 'subject'") { o in
            o["Subject"] = o.removeValue(forKey: "subject")
        },
        .attribute("data missing", .caseOpened, "data", nil, "data: required but missing"),
        .attribute("data an array", .caseOpened, "data", [1, 2], "data: expected an object, found an array"),
        // data
        .data("hours as text", .placementStarted, "hoursPerWeek", "18.5", "data.hoursPerWeek: expected a number, found a string"),
        .data("hours with three decimals", .sharedHoursLogged, "hours", 7.333,
              "data.hours: 7.333 has more than two decimals; hours are kept to the hundredth (e.g. 7.25)"),
        .data("negative hours", .sharedHoursLogged, "hours", -2, "data.hours: -2 is negative; hours are never below 0"),
        .data("referral kind unknown", .referralMade, "kind", "foo",
              "data.kind: 'foo' is not one of jobcenter-contact, work-placement, wage-subsidy, apprenticeship, education, mentor, health, leisure-job, other"),
        .data("age band unknown", .caseOpened, "ageBand", "25-30",
              "data.ageBand: '25-30' is not one of under-18, 18-24, 25-29, 30-39, 40-49, 50-59, 60+"),
        .data("unknown data field", .caseOpened, "colour", "blue",
              "data.colour: unknown field; a case-opened v1 event's data has resident, areaId, organisationId, liaisonId, targetGroup, ageBand, gender, personalData"),
        BadEvent("field name in the wrong case", .caseOpened, "data.ageband: unknown field; did you mean 'ageBand'?") { o in
            var d = o["data"] as! [String: Any]
            d["ageband"] = d.removeValue(forKey: "ageBand")
            o["data"] = d
        },
        .data("required field missing", .caseOpened, "gender", nil, "data.gender: required but missing"),
        .data("optional field null", .consentGiven, "validUntil", NSNull(),
              "data.validUntil: null is not allowed; leave the field out when it has no value"),
        .data("pseudonym in capitals", .caseOpened, "resident", "3F9A6C02D18E4B7AA0C55E91B27D4F60",
              "data.resident: '3F9A6C02D18E4B7AA0C55E91B27D4F60' is not a pseudonym; expected 32 lowercase hex digits"),
        .data("CPR number instead of a pseudonym", .caseOpened, "resident", "010190-1234",
              "data.resident: '010190-1234' is not a pseudonym; expected 32 lowercase hex digits"),
        .data("sealed data not base64", .caseOpened, "personalData", "Anna Hansen, 010190-1234",
              "data.personalData: is not base64 (RFC 4648 standard alphabet, padded with '=')"),
        .data("sealed data too short", .caseOpened, "personalData", "AAAA",
              "data.personalData: holds 3 bytes; sealed data has at least 28 (12-byte nonce, ciphertext, 16-byte tag)"),
        .data("date in Danish form", .placementStarted, "startDate", "02.04.2024",
              "data.startDate: '02.04.2024' is not a date in the form YYYY-MM-DD"),
        .data("date not real", .placementEnded, "endDate", "2023-02-29", "data.endDate: '2023-02-29' is not a real date"),
        .data("date out of range", .housingAreaRegistered, "planFrom", "1850-01-01",
              "data.planFrom: '1850-01-01' is outside the years 1900–2199"),
        .data("no parties", .consentGiven, "parties", [String](), "data.parties: has 0 items; at least 1 is needed"),
        .data("unknown purpose", .consentGiven, "purposes", ["referral", "marketing"],
              "data.purposes[1]: 'marketing' is not one of referral, information-sharing, personal-details"),
        .data("party not a string", .consentGiven, "parties", ["jobcenter-viborg", 7] as [any Sendable], "data.parties[1]: expected a string, found a number"),
        .data("months not allowed", .outcomeRecorded, "monthsAfterClose", 2, "data.monthsAfterClose: 2 is not one of 1, 3, 6, 12"),
        .data("months fractional", .outcomeRecorded, "monthsAfterClose", 2.5, "data.monthsAfterClose: expected an integer, found 2.5"),
        .data("accepted as text", .referralAnswered, "accepted", "yes", "data.accepted: expected true or false, found a string"),
        .data("retracted id not a UUID", .eventRetracted, "retractedEventId", "10",
              "data.retractedEventId: '10' is not a UUID; expected 8-4-4-4-12 hex digits such as 0b9e3c9e-5f0a-4c1e-9d3b-2f6a1e7c8d90"),
        .data("empty identifier", .caseAssigned, "liaisonId", "", "data.liaisonId: must not be empty"),
        .data("nested object for text", .caseClosed, "reason", ["text": "moved"], "data.reason: expected a string, found an object"),
    ]

    @Test(arguments: cases)
    func malformedEventGivesPreciseError(bad: BadEvent) throws {
        let line = try bad.line()
        let error = #expect(throws: ImportError.self) { try ProposedEvent.fromCloudEventJSON(line) }
        #expect(error?.message == bad.message)
        #expect(error?.line == nil)
        #expect(error?.logError.code == .invalidInput)
    }

    /// Raw text that is not a CloudEvent at all.
    struct BadText: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var message: String
        var testDescription: String { name }
        init(_ name: String, _ text: String, _ message: String) { self.init(name, Array(text.utf8), message) }
        init(_ name: String, _ bytes: [UInt8], _ message: String) {
            self.name = name
            self.bytes = bytes
            self.message = message
        }
    }

    static let texts: [BadText] = [
        BadText("empty", "", "not valid JSON at column 1: the line is empty; expected a JSON object"),
        BadText("an array", "[1,2]", "expected a JSON object (one CloudEvent), found an array"),
        BadText("a string", #""case-opened""#, "expected a JSON object (one CloudEvent), found a string"),
        BadText("cut off", #"{"specversion":"1.0","id":"#, "not valid JSON at column 27: unexpected end of the line; the JSON value is incomplete"),
        BadText("duplicate key", #"{"id":"a","id":"b"}"#, "not valid JSON at column 11: 'id' appears twice; each member may appear once"),
        BadText("duplicate data key", #"{"data":{"reason":"a","reason":"b"}}"#,
                "not valid JSON at column 23: 'data.reason' appears twice; each member may appear once"),
        BadText("single quotes", "{'id':'a'}", "not valid JSON at column 2: expected a member name in double quotes, found '''"),
        BadText("trailing comma", #"{"id":"a",}"#, "not valid JSON at column 11: expected a member name in double quotes, found '}'"),
        BadText("two objects", "{} {}", "not valid JSON at column 4: unexpected text after the JSON value; put one event per line"),
        BadText("decimal comma", #"{"a":7,5}"#, "not valid JSON at column 8: expected a member name in double quotes, found '5'"),
        BadText("leading zero", #"{"a":07}"#, "not valid JSON at column 7: numbers may not have leading zeros"),
        BadText("bad escape", #"{"a":"\x"}"#, #"not valid JSON at column 7: '\x' is not a JSON escape; use \" \\ \/ \b \f \n \r \t or \uXXXX"#),
        BadText("lone surrogate", #"{"a":"\udc00"}"#, #"not valid JSON at column 13: a \u escape holds a lone low surrogate, which is not a character"#),
        BadText("raw tab in string", "{\"a\":\"x\ty\"}", "not valid JSON at column 8: a control character (0x09) must be escaped inside a string"),
        BadText("Latin-1 text", [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xF8, 0x22, 0x7D],
                "not valid JSON at column 7: not valid UTF-8 (byte 0xf8 at byte offset 6); save the file as UTF-8"),
        BadText("overlong UTF-8", [0x7B, 0xC0, 0xAF, 0x7D], "not valid JSON at column 2: not valid UTF-8 (byte 0xc0 at byte offset 1); save the file as UTF-8"),
        BadText("UTF-8 surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], "not valid JSON at column 2: not valid UTF-8 (byte 0xed at byte offset 1); save the file as UTF-8"),
        BadText("too deep", String(repeating: "[", count: 40), "not valid JSON at column 33: nested more than 32 levels deep"),
    ]

    @Test(arguments: texts)
    func textThatIsNoCloudEventGivesPreciseError(bad: BadText) {
        let error = #expect(throws: ImportError.self) { try ProposedEvent.fromCloudEventJSON(bytes: bad.bytes) }
        #expect(error?.message == bad.message)
    }

    @Test func envelopeFieldsTheLogAssignsAreIgnored() throws {
        var o = try #require(JSONSerialization.jsonObject(with: Data(Samples.recorded(.referralMade).cloudEventJSON().utf8)) as? [String: Any])
        o["position"] = 999
        o["streamversion"] = 77
        o["recordedat"] = "2030-01-01T00:00:00Z"
        o["hash"] = String(repeating: "ab", count: 32)
        o["previoushash"] = String(repeating: "0", count: 64)
        let line = String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
        #expect(try ProposedEvent.fromCloudEventJSON(line) == Samples.recorded(.referralMade).asProposed)
    }

    @Test func optionalAttributesMayBeLeftOut() throws {
        var o = try #require(JSONSerialization.jsonObject(with: Data(Samples.recorded(.referralMade).cloudEventJSON().utf8)) as? [String: Any])
        for key in ["datacontenttype", "dataschema", "recordedat", "position", "streamversion", "schemaversion",
                    "correlationid", "causationid", "previoushash", "hash"] {
            o.removeValue(forKey: key)
        }
        let line = String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
        var expected = Samples.recorded(.referralMade).asProposed
        expected.correlationId = nil
        expected.causationId = nil
        #expect(try ProposedEvent.fromCloudEventJSON(line) == expected)
    }

    @Test func otherSystemsSpellingsAreAccepted() throws {
        var o = try #require(JSONSerialization.jsonObject(with: Data(Samples.recorded(.sharedHoursLogged).cloudEventJSON().utf8)) as? [String: Any])
        o["id"] = (o["id"] as! String).uppercased()
        o["time"] = "2024-01-09T17:00:00.000+01:00"
        o["dataschema"] = "https://example.org/referral/Schemas/shared-hours-logged.v1.json"
        o["schemaversion"] = 1.0
        var d = o["data"] as! [String: Any]
        d["hours"] = 7.25
        o["data"] = d
        let line = String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
        #expect(try ProposedEvent.fromCloudEventJSON(line) == Samples.recorded(.sharedHoursLogged).asProposed)
        #expect(try ProposedEvent.fromCloudEventJSON(line.replacingOccurrences(of: "7.25", with: "725e-2")).payload
                == Samples.recorded(.sharedHoursLogged).payload)
    }
}
