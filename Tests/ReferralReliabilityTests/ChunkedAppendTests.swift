import Foundation
@testable import ReferralEvents
import Testing

/// `EventStore.appendChunked`: a long import handed over in parts, in one transaction. It
/// must write what one `append` of all the events writes, byte for byte; a refusal in any
/// part must name the event by its number in the whole import and write nothing; and an id
/// is a duplicate only when the log held it before the import.
@Suite struct ChunkedAppendTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory("chunked-append") }

    /// `events` handed to `appendChunked` in parts of `size`.
    static func appendInParts(_ store: EventStore, _ events: [ProposedEvent], size: Int) throws -> ChunkedAppendResult {
        try store.appendChunked { append in
            for start in stride(from: 0, to: events.count, by: size) {
                try append(Array(events[start..<min(start + size, events.count)]))
            }
        }
    }

    @Test func partsWriteWhatOneAppendWrites() throws {
        defer { dir.remove() }
        let events = try EncodeAheadTests.demoEvents(RunSize.pick(6_000, heavy: 60_000), in: dir.sub("source"))
        let whole = try EventStore(at: dir.sub("whole"), create: true, durable: false, clock: { DemoTestStore.clock })
        try whole.append(events)
        // Parts of both sizes: under the encode-ahead threshold (one thread) and over it.
        for size in [100, 1_000] {
            let store = try EventStore(at: dir.sub("parts-\(size)"), create: true, durable: false, clock: { DemoTestStore.clock })
            let result = try Self.appendInParts(store, events, size: size)
            #expect(result.events == events.count)
            #expect(result.written == events.count)
            #expect(result.firstPosition == 1)
            #expect(result.headPosition == UInt64(events.count))
            #expect(try store.verify().isValid)
            let (a, b) = (try EncodeAheadTests.dump(whole), try EncodeAheadTests.dump(store))
            for name in ["events", "event_ids", "streams", "rules"] {
                let same = a[name] == b[name]  // not in the expectation: its rows would be printed
                #expect(same, "\(name) differs between one append and parts of \(size)")
            }
        }
    }

    @Test func aRefusalInAnyPartNamesTheEventAndWritesNothing() throws {
        defer { dir.remove() }
        let store = try EventStore(at: dir.sub("store"), create: true, durable: false, clock: { Samples.now })
        try store.append(Samples.registry)
        let head = try store.head()
        let base = try EncodeAheadTests.dump(store)
        // Event 751 (index 750) is in the fourth part of 200 and the second of 500.
        let cases: [(String, [ProposedEvent], LogError.Code, String)] = [
            ("a rule violation", EncodeAheadTests.batch(violationAt: 750, count: 1_000), .ruleViolation, "event 751 (case-closed): "),
            ("an oversize record", EncodeAheadTests.batch(oversizeAt: 750, count: 1_000), .invalidInput, "event 751 of the batch (consent-given)"),
            ("an invalid envelope", EncodeAheadTests.batch(invalidAt: 750, count: 1_000), .invalidInput, "actor is empty"),
        ]
        for size in [200, 500] {
            for (what, events, code, message) in cases {
                let error = try #require(throws: LogError.self, "\(what), parts of \(size)") {
                    try Self.appendInParts(store, events, size: size)
                }
                #expect(error.code == code, "\(what): \(error.message)")
                #expect(error.eventIndex == 750, "\(what), parts of \(size): \(error.message)")
                #expect(error.message.contains(message), "\(what): \(error.message)")
                #expect(try store.head() == head)
                #expect(try EncodeAheadTests.dump(store) == base, "\(what): a refused import changed the store")
            }
        }
        // A producer that throws between parts writes nothing either.
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try store.appendChunked { append in
                try append(EncodeAheadTests.batch(count: 300))
                throw Stop()
            }
        }
        #expect(try EncodeAheadTests.dump(store) == base)
    }

    @Test func anIDGivenTwiceIsRefusedAndOneInTheLogIsSkipped() throws {
        defer { dir.remove() }
        let store = try EventStore(at: dir.sub("store"), create: true, durable: false, clock: { Samples.now })
        try store.append(Samples.registry)
        let events = EncodeAheadTests.batch(count: 1_000)
        let before = try store.head()

        // The first event's id again in a later part: a repeat within the import.
        var repeated = events
        let e = repeated[900]
        repeated[900] = ProposedEvent(id: events[10].id, stream: e.stream, payload: e.payload, occurredAt: e.occurredAt,
                                      actor: e.actor, organisation: e.organisation)
        let error = try #require(throws: LogError.self) { try Self.appendInParts(store, repeated, size: 250) }
        #expect(error.code == .invalidInput)
        #expect(error.eventIndex == 900)
        #expect(error.message.contains("event 901 repeats the id \(events[10].id.uuidString.lowercased()) of an earlier event in the same import;"), "\(error.message)")
        #expect(try store.head() == before)

        // The clean import, then the same again: every id is in the log, nothing is written.
        let first = try Self.appendInParts(store, events, size: 250)
        #expect(first.written == 1_000)
        #expect(first.firstPosition == before.position + 1)
        let head = try store.head()
        let again = try Self.appendInParts(store, events, size: 250)
        #expect(again.events == 1_000)
        #expect(again.written == 0)
        #expect(again.duplicates == 1_000)
        #expect(again.firstPosition == nil)
        #expect(again.headPosition == head.position)
        #expect(try store.head() == head)

        // Half old, half new: the old half is skipped, the new half written after the head.
        let more = EncodeAheadTests.batch(count: 1_500)  // new ids
        let mixed = Array(events[500...]) + Array(more[1_000...])
        let mixedResult = try Self.appendInParts(store, mixed, size: 300)
        #expect(mixedResult.duplicates == 500)
        #expect(mixedResult.written == 500)
        #expect(mixedResult.firstPosition == head.position + 1)
        #expect(try store.verify().isValid)
    }

    @Test func aFullMapStartsTheImportOverAndReservingRoomAvoidsIt() throws {
        defer { dir.remove() }
        let events = EncodeAheadTests.batch(count: 3_000)
        var calls = 0
        let small = try EventStore(at: dir.sub("small"), create: true, durable: false, initialMapSize: 64 << 10, clock: { Samples.now })
        try small.append(Samples.registry)
        let result = try small.appendChunked { append in
            calls += 1
            for start in stride(from: 0, to: events.count, by: 500) { try append(Array(events[start..<start + 500])) }
        }
        #expect(calls > 1, "a 64 KiB map cannot hold 3,000 events: the import should have started over")
        #expect(result.written == 3_000)
        #expect(try small.verify().isValid)

        calls = 0
        let reserved = try EventStore(at: dir.sub("reserved"), create: true, durable: false, initialMapSize: 64 << 10, clock: { Samples.now })
        try reserved.append(Samples.registry)
        try reserved.reserveSpace(bytes: 64 << 20)
        #expect(reserved.mapSize >= 64 << 20)
        let second = try reserved.appendChunked { append in
            calls += 1
            for start in stride(from: 0, to: events.count, by: 500) { try append(Array(events[start..<start + 500])) }
        }
        #expect(calls == 1)
        #expect(second.written == 3_000)
    }
}
