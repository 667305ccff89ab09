import Foundation
import ReferralDemo
import ReferralEvents

/// Demo stores the benchmarks read from, made once per size and seed in the work directory
/// and reused, since the demo is deterministic.
enum DemoSource {
    static let seed: UInt64 = 2025

    /// The directory of a demo store of about `events` events, made if missing.
    static func store(work: String, events: Int, seed: UInt64 = DemoSource.seed) throws -> String {
        // The layout is in the name too: a build opening an older layout's store migrates it,
        // and the build that made it could then no longer read it.
        let dir = "\(work)/demo-\(events)-seed\(seed)-v\(DemoGenerator.dataVersion)-layout\(EventStore.layoutFormat)"
        try madeOnce(dir, marker: dir + "/demo-complete", "demo store") {
            let result = try generate(into: dir, events: events, seed: seed, durable: false, sealing: false, quiet: true)
            return "\(result.summary.events) events in \(fmt(result.seconds)) s\n"
        }
        return dir
    }

    /// Makes `path` with `make` unless an earlier run finished it, which the file at
    /// `marker` says: `make` returns its text, written only once `make` is done, so a run cut
    /// short leaves no marker and the next one removes what it left and starts over.
    static func madeOnce(_ path: String, marker: String, _ what: String, _ make: () throws -> String) throws {
        if FileManager.default.fileExists(atPath: marker) { return }
        remove(path)
        print("  making \(what) \(path) (once; reused by later runs)")
        try make().write(toFile: marker, atomically: true, encoding: .utf8)
    }

    /// Writes a demo into a new store at `dir`: returns the summary and wall seconds, sync included.
    static func generate(into dir: String, events: Int, seed: UInt64, durable: Bool, sealing: Bool, quiet: Bool) throws
        -> (summary: DemoSummary, seconds: Double) {
        let start = now()
        let summary: DemoSummary
        do {
            let store = try EventStore(at: dir, create: true, durable: durable, initialMapSize: 256 << 20)
            let keys = sealing ? try KeyStore(directory: dir, create: true) : nil
            var lastShown = 0
            summary = try DemoGenerator(size: .events(events), seed: seed).write(to: store, keys: keys) { p in
                guard !quiet, p.eventsWritten - lastShown >= 1_000_000 else { return }
                lastShown = p.eventsWritten
                print("    \(grouped(p.eventsWritten)) events, at \(p.day.danish), \(fmt(seconds(now() - start), 1)) s")
            }
            try store.sync()
        }
        return (summary, seconds(now() - start))
    }

    /// The first `count` events of a demo store, as events to append again.
    static func events(in dir: String, count: Int) throws -> [ProposedEvent] {
        let store = try EventStore(at: dir)
        var out: [ProposedEvent] = []
        out.reserveCapacity(count)
        try store.replay(through: UInt64(count)) { view in
            let e = try view.decode()
            out.append(ProposedEvent(id: e.id, stream: e.stream, payload: e.payload, occurredAt: e.envelope.occurredAt,
                                     actor: e.envelope.actor, organisation: e.envelope.organisation,
                                     correlationId: e.envelope.correlationId, causationId: e.envelope.causationId))
            return true
        }
        return out
    }
}

/// What an appending workload appends: the demo log's events after its first `after`, and,
/// when `after` > 0 (`--after N`), a store already holding those first `after` events, so
/// that the appends meet the index trees of a large log rather than a new store's.
struct AppendSource {
    /// The events to time, in log order.
    let events: [ProposedEvent]
    /// How many events each run's store holds before the timed ones.
    let after: Int
    /// The store of the first `after` events, and a raw log of their records (nil without `--after`).
    private let prefix: (store: String, raw: String)?

    /// Reads the events from a demo store of at least `after + count` events and, with
    /// `after` > 0, makes the store of the first `after` events and the raw baseline's log of
    /// their records, once each (10,000 a transaction without fsync, then flushed), to be
    /// copied for each run.
    init(work: String, count: Int, after: Int, liveIDs: Bool = false) throws {
        // With --after, the demo's size depends on `after` alone (for any --events up to
        // 100k), so runs with different --events share it and its prefix store.
        let demoEvents = after > 0 ? (after + max(count, 100_000)) * 11 / 10 : max(3_000, count * 11 / 10)
        let demo = try DemoSource.store(work: work, events: demoEvents)
        let all = try DemoSource.events(in: demo, count: after + count)
        guard all.count == after + count else {
            throw BenchError("the demo store \(demo) holds \(all.count) events, fewer than --after + --events")
        }
        self.after = after
        events = liveIDs ? Self.withLiveIDs(Array(all[after...])) : Array(all[after...])
        guard after > 0 else { prefix = nil; return }
        let name = "\(work)/prefix-\(after)-of-\((demo as NSString).lastPathComponent)"
        let parts = stride(from: 0, to: after, by: 10_000).map { $0..<min(after, $0 + 10_000) }
        try DemoSource.madeOnce(name, marker: name + "/complete", "the store of the first \(grouped(after)) events") {
            let store = try EventStore(at: name, create: true, durable: false, initialMapSize: 1 << 30)
            for part in parts { try store.append(Array(all[part])) }
            try store.sync()
            return ""
        }
        // The raw baseline's log of the same records, so its commits meet a tree of the same size.
        try DemoSource.madeOnce(name + "-raw.mdb", marker: name + "-raw.complete", "the raw log of the first \(grouped(after)) records") {
            let env = try RawLMDB(path: name + "-raw.mdb", database: "events", durable: false)
            let values = try AppendBench.records(Array(all[..<after]))
            for part in parts { try env.commit(from: UInt64(part.lowerBound + 1), values: Array(values[part])) }
            try env.sync()
            return ""
        }
        prefix = (name, name + "-raw.mdb")
    }

    /// `events` with the ids a live client's appends get: time-ordered (`UUID.timeOrdered`,
    /// the default of `ProposedEvent`), each after the one before and after every id of the
    /// demo (which ends in 2025), instead of the demo's, which are ordered by day only and
    /// random within it. Made from the events' order alone, so every run gets the same ids.
    static func withLiveIDs(_ events: [ProposedEvent]) -> [ProposedEvent] {
        let base: UInt64 = 1_767_225_600_000  // 01.01.2026 00:00 UTC in milliseconds
        var renamed: [UUID: UUID] = [:]
        return events.enumerated().map { i, e in
            let n = UInt64(i)
            return e.identified(as: .timeOrdered(milliseconds: base + n >> 12, counter: n & 0xFFF, random: n &* 0x9E37_79B9_7F4A_7C15),
                                renamed: &renamed)
        }
    }

    /// " after N events already in the store", or "" — for a workload's heading.
    var heading: String { after > 0 ? ", after \(grouped(after)) events already in the store" : "" }

    /// A store at `dir` for one run: empty, or a copy of the store of the first `after`
    /// events, flushed to disk first (else the first durable commit would write the copy).
    func store(at dir: String, durable: Bool = true, initialMapSize: Int) throws -> EventStore {
        if let prefix {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: prefix.store + "/log.mdb", toPath: dir + "/log.mdb")
            Glibc.sync()
        }
        return try EventStore(at: dir, create: prefix == nil, durable: durable, initialMapSize: initialMapSize)
    }

    /// The raw baseline's LMDB environment at `path` for one run: empty, or a copy of the
    /// first `after` records (flushed first). Its next position is `after` + 1.
    func rawLog(at path: String, durable: Bool = true) throws -> RawLMDB {
        if let prefix {
            try FileManager.default.copyItem(atPath: prefix.raw, toPath: path)
            Glibc.sync()
        }
        return try RawLMDB(path: path, database: "events", durable: durable)
    }
}

extension ProposedEvent {
    /// This event under the id `id`; `renamed` maps the ids replaced so far, so that a
    /// retraction names its target's new id.
    func identified(as id: UUID, renamed: inout [UUID: UUID]) -> ProposedEvent {
        var e = self
        renamed[e.id] = id
        e.id = id
        if case .eventRetracted(var r) = e.payload, let new = renamed[r.retractedEventId] {
            r.retractedEventId = new
            e.payload = .eventRetracted(r)
        }
        return e
    }
}
