import Foundation
import ReferralEvents
import Testing

/// Issue 6.4, the JSON import: thousands of malformed CloudEvents JSON Lines files, each the
/// export of a valid group of events with one thing broken. Every one is refused with a clear
/// error (by the reader or by the log), nothing is written, nothing crashes.
///
/// The import path modelled here is what an import command does: `CloudEventLines.read`,
/// then one atomic `append` of every event read.
@Suite struct JSONImportFuzzTests {
    let dir: TempDirectory
    let store: EventStore

    init() throws {
        dir = try TempDirectory("json-fuzz")
        store = try EventStore(at: dir.sub("store"), create: true, durable: false, clock: { Samples.now })
        try store.append(Samples.registry)
    }

    /// What broke an input.
    enum Damage: String, CaseIterable, Sendable {
        case none, truncated, wrongType, hugeString, invalidUTF8, dateOutOfRange, unknownType, duplicateID
        case unknownAttribute, duplicateKey, garbage, randomBytes

        /// Every input with this damage must be refused (random byte changes may happen to be harmless).
        var mustBeRefused: Bool { self != .none && self != .randomBytes }
    }

    /// A fresh valid group (prerequisites and one event of `type`), as CloudEvents JSON lines.
    static func validLines(_ type: EventType, _ n: Int) -> [String] {
        HostileAppendTests.batch(type, n).map { e in
            // Import ignores position, recorded-at and the hashes; any well-formed values do.
            let envelope = EventEnvelope(position: 1, id: e.id, stream: e.stream, version: 1, type: e.payload.type, occurredAt: e.occurredAt,
                                         recordedAt: e.occurredAt, actor: e.actor, organisation: e.organisation,
                                         correlationId: e.correlationId, causationId: e.causationId, previousHash: .zero, hash: .zero)
            return RecordedEvent(envelope: envelope, payload: e.payload).cloudEventJSON()
        }
    }

    static func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    static func text(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    static func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T { items[Int(rng.next() % UInt64(items.count))] }

    /// A value of another JSON type than `value`.
    static func wrongType(for value: Any, _ rng: inout SplitMix64) -> Any {
        switch value {
        case is String: pick([7, true, ["a"], ["k": "v"]] as [Any], &rng)
        case is NSNumber: pick(["7", ["7"], ["k": 7]] as [Any], &rng)
        case is [Any]: pick(["a", 7, ["k": "v"]] as [Any], &rng)
        case is [String: Any]: pick(["a", 7, [1, 2]] as [Any], &rng)
        default: "x"
        }
    }

    static let badDates = ["1899-12-31", "2200-01-01", "2023-02-29", "2024-13-01", "2024-00-10", "0000-01-01", "99999-01-01",
                           "2024-1-1", "01.13.2024", "2024-03-01T10:00:00Z", "", "2024-03-01 "]
    static let badTimes = ["1800-01-01T00:00:00Z", "2200-01-01T00:00:00Z", "2024-03-01T25:00:00Z", "2024-03-01T10:00:00",
                           "2024-03-01T10:00:00+24:00", "2024-02-30T10:00:00Z", "9999999999999", "2024-03-01T10:00:00.1234567891Z",
                           "1899-12-31T23:00:00-01:00"]

    /// Breaks the last line of `lines` (or the whole file) in the way `damage` names.
    static func damage(_ lines: [String], _ damage: Damage, _ rng: inout SplitMix64) throws -> [UInt8] {
        var lines = lines
        var last = lines.removeLast()
        var tail: [UInt8]?
        switch damage {
        case .none:
            break
        case .truncated:
            let bytes = Array(last.utf8)
            tail = Array(bytes[..<(1 + Int(rng.next() % UInt64(bytes.count - 1)))])
        case .wrongType:
            var o = try object(last)
            if rng.next() % 2 == 0, var data = o["data"] as? [String: Any], !data.isEmpty {
                let key = pick(data.keys.sorted(), &rng)
                data[key] = wrongType(for: data[key] as Any, &rng)
                o["data"] = data
            } else {
                let key = pick(["specversion", "id", "source", "type", "subject", "time", "actor", "organisation", "data"], &rng)
                o[key] = wrongType(for: o[key] as Any, &rng)
            }
            last = try text(o)
        case .hugeString:
            var o = try object(last)
            // A megabyte takes the debug-built reader a third of a second, so most are smaller.
            let huge = String(repeating: pick(["x", "æ", "-"], &rng), count: rng.next() % 16 == 0 ? 1 << 20 : pick([5_000, 70_000], &rng))
            if rng.next() % 2 == 0, var data = o["data"] as? [String: Any], let key = data.keys.sorted().filter({ data[$0] is String }).randomElement(using: &rng) {
                data[key] = huge
                o["data"] = data
            } else {
                // Not `source`: a URI reference of any length is accepted and then ignored (not stored).
                o[pick(["id", "type", "subject", "time", "actor", "organisation"], &rng)] = huge
            }
            last = try text(o)
        case .invalidUTF8:
            var bytes = Array(last.utf8)
            let junk = pick([[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80]] as [[UInt8]], &rng)
            bytes.insert(contentsOf: junk, at: Int(rng.next() % UInt64(bytes.count)))
            tail = bytes
        case .dateOutOfRange:
            var o = try object(last)
            if var data = o["data"] as? [String: Any],
               let key = data.keys.sorted().filter({ (data[$0] as? String).map { CalendarDate(parsing: $0) != nil } ?? false }).randomElement(using: &rng),
               rng.next() % 3 != 0 {
                data[key] = pick(badDates, &rng)
                o["data"] = data
            } else {
                o["time"] = pick(badTimes, &rng)
            }
            last = try text(o)
        case .unknownType:
            var o = try object(last)
            let type = o["type"] as? String ?? ""
            switch rng.next() % 4 {
            case 0: o["type"] = type.replacingOccurrences(of: ".v1", with: ".v\(2 + rng.next() % 50)")
            case 1: o["type"] = pick(["dk.referral.no-such-event.v1", "dk.referral.", "", "com.example.other.v1", "case-opened", "dk.referral.case-opened.",
                                      "dk.referral..v1", "dk.referral.case-opened.v01", String(repeating: "t", count: rng.next() % 8 == 0 ? 1 << 20 : 70_000)], &rng)
            case 2: o["schemaversion"] = pick([0, 2, 255, -1, 1.5] as [Any], &rng)
            default: o["type"] = type.uppercased()
            }
            last = try text(o)
        case .duplicateID:
            var o = try object(last)
            if let previous = lines.last {
                o["id"] = try object(previous)["id"]  // another event of the same batch
                last = try text(o)
            } else {
                lines.append(last)  // the same event twice
            }
        case .unknownAttribute:
            var o = try object(last)
            switch rng.next() % 4 {
            case 0: o["extra"] = 1
            case 1: o["ID"] = o["id"]; o["id"] = nil
            case 2: o["data_base64"] = "AAAA"; o["data"] = nil
            default: o[pick(["id", "source", "subject", "time", "actor", "organisation", "specversion"], &rng)] = nil  // a required one missing
            }
            last = try text(o)
        case .duplicateKey:
            let key = pick(["actor", "id", "type", "subject", "time"], &rng)
            var bytes = Array(last.utf8)
            bytes.insert(contentsOf: Array("\"\(key)\":\"x\",".utf8), at: 1)
            tail = bytes
        case .garbage:
            let depth = Int(1 + rng.next() % 100_000)
            tail = Array(pick(["[]", "null", "{}", "0", "\"text\"", "1e999999", "{\"a\":", String(repeating: "[", count: depth),
                               String(repeating: "{\"a\":", count: depth % 5_000) + "1" + String(repeating: "}", count: depth % 5_000),
                               "{\"specversion\":\"1.0\"}", "\u{0}\u{1}\u{2}", "NaN", "[1,2,3]"], &rng).utf8)
        case .randomBytes:
            var bytes = Array(last.utf8)
            for _ in 0...(rng.next() % 4) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.insert(pick(Array("{}[]\",:\\0123456789eE+-.tfn ".utf8), &rng), at: i)
                default: bytes.remove(at: i)
                }
            }
            tail = bytes
        }
        var file = Array(lines.joined(separator: "\n").utf8)
        if !lines.isEmpty { file.append(0x0A) }
        file += tail ?? Array(last.utf8)
        return file + [0x0A]
    }

    /// Imports `file`: returns nil if it went in, else the error message (reader's or log's).
    func importFile(_ file: [UInt8], _ label: String) throws -> String? {
        let before = try store.head()
        let result = CloudEventLines.read(Data(file))
        var refusal: String?
        if !result.errors.isEmpty {
            for e in result.errors {
                #expect(e.line != nil, "\(label): the error names no line")
                #expect(e.message.count > 10 && e.message.count <= 1_200, "\(label): the message should be short and say what is wrong: \(e.message.prefix(300))… (\(e.message.count) characters)")
            }
            refusal = result.errors[0].message
        } else if result.events.isEmpty {
            refusal = "no events"
        } else {
            do {
                try store.append(result.events.map(\.event))
            } catch let e as LogError {
                #expect([.invalidInput, .ruleViolation].contains(e.code), "\(label): \(e.code): \(e.message.prefix(300))")
                #expect(e.message.count > 10 && e.message.count <= 1_200, "\(label): \(e.message.prefix(300))… (\(e.message.count) characters)")
                refusal = e.message
            }
        }
        if refusal != nil { #expect(try store.head() == before, "\(label): refused, yet the head moved") }
        return refusal
    }

    @Test(arguments: Damage.allCases)
    func malformedImportsAreRefusedClearlyAndWriteNothing(_ damage: Damage) throws {
        defer { dir.remove() }
        // Megabyte strings cost the debug-built reader a third of a second each: fewer of those.
        let count = RunSize.pick(damage == .none ? 100 : 300, heavy: damage == .hugeString ? 2_000 : 10_000)
        var rng = SplitMix64(seed: RunSize.seed ^ UInt64(Damage.allCases.firstIndex(of: damage)! + 1) &* 0x9E37)
        var refused = 0
        let clock = ContinuousClock(), start = clock.now
        for i in 0..<count {
            let type = Self.pick(EventType.all, &rng)
            let file = try Self.damage(Self.validLines(type, 100_000 + i), damage, &rng)
            let label = "\(damage) \(type.name) #\(i)"
            let refusal = try importFile(file, label)
            if refusal != nil { refused += 1 }
            if damage == .none, let refusal { Issue.record("\(label): a valid file was refused: \(refusal)") }
            if damage.mustBeRefused, refusal == nil {
                Issue.record("\(label): accepted: \(String(decoding: file.prefix(400), as: UTF8.self))")
            }
        }
        #expect(try store.verify().isValid)
        report("json-import-\(damage)", ["inputs": count, "refused": refused, "seconds": clock.now - start, "seed": RunSize.seed])
    }

    /// An id names one event. Re-importing it is idempotent (nothing written, the answer
    /// names the original position); a line with that id but other content is refused, not
    /// silently dropped, and names what differs.
    @Test func anIDAlreadyInTheLogWritesNothingAndADifferentEventWithItIsRefused() throws {
        defer { dir.remove() }
        let existing = try #require(try store.event(at: 3))
        var o = try Self.object(Self.validLines(.organisationRegistered, 7)[0])
        o["id"] = existing.id.uuidString
        let events = try CloudEventLines.decode(Data(try Self.text(o).utf8))
        let before = try store.head()
        let refusal = try #require(throws: LogError.self) { try store.append(events) }
        #expect(refusal.code == .invalidInput)
        #expect(refusal.message.contains("of the event at position 3, but its"), "\(refusal.message)")
        #expect(try store.head() == before)

        let same = ProposedEvent(id: existing.id, stream: existing.stream, payload: existing.payload, occurredAt: existing.envelope.occurredAt,
                                 actor: existing.envelope.actor, organisation: existing.envelope.organisation,
                                 correlationId: existing.envelope.correlationId, causationId: existing.envelope.causationId)
        let result = try store.append([same])
        #expect(result.events[0].duplicate && result.events[0].position == 3)
        #expect(try store.head() == before)
    }
}
