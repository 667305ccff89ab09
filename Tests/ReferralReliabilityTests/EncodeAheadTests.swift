import Foundation
import ReferralDemo
@testable import ReferralEvents
import Testing

/// A large append encodes its records on a second thread while the rules are checked
/// (`EncodeAhead`). The log it writes must be the one the one-thread path writes, byte for
/// byte, and a batch that fails must fail on the same event and write nothing.
@Suite struct EncodeAheadTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory("encode-ahead") }

    /// Both ways through `append`: one thread, and encoding ahead from the first event.
    static let oneThread = Int.max
    static let encodingAhead = 1

    /// Every key and value of the log's databases but `meta` (which holds the store's own id).
    static func dump(_ store: EventStore) throws -> [String: [[UInt8]]] {
        try store.env.read { txn in
            var out: [String: [[UInt8]]] = [:]
            for (name, db) in [("events", store.events), ("event_ids", store.eventIDs), ("streams", store.streams), ("rules", store.rules)] {
                var rows: [[UInt8]] = []
                try txn.forEach(db) { key, value in
                    rows.append(Array(key) + [0xFF, 0xFF] + Array(value))
                    return true
                }
                out[name] = rows
            }
            return out
        }
    }

    /// The events of a demo log, to append again.
    static func demoEvents(_ count: Int, in dir: String) throws -> [ProposedEvent] {
        let source = try EventStore(at: dir, create: true, durable: false, clock: { DemoTestStore.clock })
        _ = try DemoGenerator(size: .events(count), seed: 11).write(to: source)
        return try source.read(from: 1).map { e in
            ProposedEvent(id: e.id, stream: e.stream, payload: e.payload, occurredAt: e.envelope.occurredAt,
                          actor: e.envelope.actor, organisation: e.envelope.organisation,
                          correlationId: e.envelope.correlationId, causationId: e.envelope.causationId)
        }
    }

    @Test func aDemoLogIsWrittenByteForByteAsByOneThread() throws {
        defer { dir.remove() }
        let events = try Self.demoEvents(RunSize.pick(6_000, heavy: 60_000), in: dir.sub("source"))
        let batchSize = 400
        // The retraction path (earlier records put before the check) must be exercised.
        let retractionsInsideBatches = events.indices.filter { i in
            if case .eventRetracted = events[i].payload { return i % batchSize != 0 } else { return false }
        }
        try #require(!retractionsInsideBatches.isEmpty, "the demo log should hold a retraction inside a batch")

        var dumps: [[String: [[UInt8]]]] = []
        for threshold in [Self.oneThread, Self.encodingAhead] {
            let store = try EventStore(at: dir.sub("store-\(threshold)"), create: true, durable: false, clock: { DemoTestStore.clock })
            for start in stride(from: 0, to: events.count, by: batchSize) {
                try store.append(Array(events[start..<min(start + batchSize, events.count)]), encodeAheadFrom: threshold)
            }
            #expect(try store.head().position == UInt64(events.count))
            #expect(try store.verify().isValid)
            for i in retractionsInsideBatches {
                guard case .eventRetracted(let p) = events[i].payload else { continue }
                #expect(try store.isRetracted(p.retractedEventId))
            }
            dumps.append(try Self.dump(store))
        }
        for name in ["events", "event_ids", "streams", "rules"] {
            let (a, b) = (dumps[0][name] ?? [], dumps[1][name] ?? [])
            #expect(!a.isEmpty)
            #expect(a.count == b.count, "\(name): \(a.count) rows one thread, \(b.count) encoding ahead")
            let firstDifference = a.indices.first { $0 < b.count && a[$0] != b[$0] }
            #expect(firstDifference == nil, "\(name): row \(firstDifference ?? -1) differs")
        }
    }

    // MARK: - Failures

    /// Hours under agreement A1 of `Samples.registry`, with a consent of 7,000 parties (a
    /// record over the 64 KiB limit that passes every rule) and an event for a case that does
    /// not exist (a rule violation) put in where asked.
    static func batch(oversizeAt: Int? = nil, violationAt: Int? = nil, invalidAt: Int? = nil, repeatAt: Int? = nil,
                      count: Int = 300) -> [ProposedEvent] {
        var events = (0..<count).map { i in
            if i == oversizeAt {
                return Samples.event(.case("C1"), .consentGiven(.init(consentId: "K-many", parties: Array(repeating: "jobcenter", count: 7_000),
                                                                      purposes: [.referral], form: .written, validUntil: nil)))
            }
            if i == violationAt {
                return Samples.event(.case("NO-SUCH-CASE"), .caseClosed(.init(reason: "Findes ikke")))
            }
            return LimitsTests.hours(i)
        }
        if let i = invalidAt {  // an envelope without an actor
            let e = events[i]
            events[i] = ProposedEvent(id: e.id, stream: e.stream, payload: e.payload, occurredAt: e.occurredAt, actor: "", organisation: e.organisation)
        }
        if let i = repeatAt {  // the id of the batch's first event again
            let e = events[i]
            events[i] = ProposedEvent(id: events[0].id, stream: e.stream, payload: e.payload, occurredAt: e.occurredAt, actor: e.actor, organisation: e.organisation)
        }
        return events
    }

    func freshStore(_ name: String, registry: [ProposedEvent] = Samples.registry) throws -> EventStore {
        let store = try EventStore(at: dir.sub(name), create: true, durable: false, clock: { Samples.now })
        try store.append(registry)
        return store
    }

    @Test(arguments: [EncodeAheadTests.oneThread, EncodeAheadTests.encodingAhead])
    func theFirstFailingEventIsReportedAndNothingIsWritten(threshold: Int) throws {
        defer { dir.remove() }
        let store = try freshStore("store")
        let head = try store.head()
        let base = try Self.dump(store)
        // (oversize at, violation at, invalid envelope at, first id repeated at) → the error
        // expected: an invalid envelope or a repeated id wherever it is (the batch is
        // validated before anything else), else the earlier of the other two.
        let cases: [(Int?, Int?, Int?, Int?, LogError.Code, Int)] = [
            (100, 200, nil, nil, .invalidInput, 100),
            (nil, 200, nil, nil, .ruleViolation, 200),
            (250, 200, nil, nil, .ruleViolation, 200),
            (299, nil, nil, nil, .invalidInput, 299),
            (nil, 0, nil, nil, .ruleViolation, 0),
            (nil, 10, 250, nil, .invalidInput, 250),
            (20, nil, 290, nil, .invalidInput, 290),
            (nil, 10, nil, 280, .invalidInput, 280),
            (nil, nil, 150, 280, .invalidInput, 150),
        ]
        for (oversize, violation, invalid, repeated, code, index) in cases {
            let error = try #require(throws: LogError.self) {
                try store.append(Self.batch(oversizeAt: oversize, violationAt: violation, invalidAt: invalid, repeatAt: repeated),
                                 encodeAheadFrom: threshold)
            }
            #expect(error.code == code, "\(String(describing: (oversize, violation, invalid, repeated))): \(error.message)")
            #expect(error.eventIndex == index, "\(error.message)")
            #expect(try store.head() == head)
            #expect(try Self.dump(store) == base, "a failed batch changed the store")
        }
        // The oversize message names the event and the limit.
        let oversize = try #require(throws: LogError.self) {
            try store.append(Self.batch(oversizeAt: 5), encodeAheadFrom: threshold)
        }
        #expect(oversize.message.contains("event 6 of the batch (consent-given)"))
        #expect(oversize.message.contains("at most 65536"))

        // And the same store takes a clean batch after all that.
        let clean = Self.batch()
        let result = try store.append(clean, encodeAheadFrom: threshold)
        #expect(result.events.map(\.position) == Array((head.position + 1)...(head.position + 300)))
        #expect(result.events.map(\.version) == Array(2...301), "A1's versions follow its agreement event")
        #expect(try store.verify().isValid)
        // A retry of it is answered from the log, but not with an invalid envelope in it.
        let retry = try store.append(clean, encodeAheadFrom: threshold)
        #expect(retry.events.allSatisfy { $0.duplicate })
        var damaged = clean
        damaged[200] = ProposedEvent(id: clean[200].id, stream: clean[200].stream, payload: clean[200].payload,
                                     occurredAt: clean[200].occurredAt, actor: "lis-01", organisation: "")
        let invalid = try #require(throws: LogError.self) { try store.append(damaged, encodeAheadFrom: threshold) }
        #expect(invalid.code == .invalidInput)
        #expect(invalid.eventIndex == 200)
    }

    @Test func aRetractionOfAnEventOfTheSameBatchIsCheckedAgainstIt() throws {
        defer { dir.remove() }
        // The same events (ids included) for both ways.
        let registry = Samples.registry
        var batch = Self.batch()
        let target = batch[120].id
        batch[150] = Samples.event(.agreement("A1"), .eventRetracted(.init(retractedEventId: target, reason: "Forkert dag")))
        // A second retraction of the same event in the batch is refused: the first is seen.
        var twice = batch
        twice[200] = Samples.event(.agreement("A1"), .eventRetracted(.init(retractedEventId: target, reason: "Igen")))
        var dumps: [[String: [[UInt8]]]] = []
        for threshold in [Self.oneThread, Self.encodingAhead] {
            let store = try freshStore("store-\(threshold)", registry: registry)
            let error = try #require(throws: LogError.self) { try store.append(twice, encodeAheadFrom: threshold) }
            #expect(error.rule == .alreadyRetracted)
            #expect(error.eventIndex == 200)

            try store.append(batch, encodeAheadFrom: threshold)
            #expect(try store.isRetracted(target))
            #expect(try store.verify().isValid)
            dumps.append(try Self.dump(store))
        }
        for name in ["events", "event_ids", "streams", "rules"] {
            let same = dumps[0][name] == dumps[1][name]  // not in the expectation: its rows would be printed
            #expect(same, "\(name) differs between the two ways")
        }
    }

    @Test func aFullMapGrowsUnderAnEncodingAheadBatch() throws {
        defer { dir.remove() }
        let store = try EventStore(at: dir.sub("store"), create: true, durable: false, initialMapSize: 64 << 10, clock: { Samples.now })
        try store.append(Samples.registry)
        let startMap = store.mapSize
        var batch = (0..<2_000).map(LimitsTests.hours)
        batch[1_000] = Samples.event(.agreement("A1"), .eventRetracted(.init(retractedEventId: batch[10].id, reason: "Forkert dag")))
        try store.append(batch, encodeAheadFrom: Self.encodingAhead)
        #expect(store.mapSize > startMap)
        let stored = try store.read(from: UInt64(Samples.registry.count) + 1)
        #expect(stored.map(\.id) == batch.map(\.id))
        #expect(try store.verify().isValid)
    }
}
