import Foundation
import ReferralDemo
import ReferralEvents

/// Demo stores the benchmarks read from, made once per size and seed in the work directory
/// and reused, since the demo is deterministic.
enum DemoSource {
    static let seed: UInt64 = 2025

    /// The directory of a demo store of about `events` events, made if missing.
    static func store(work: String, events: Int, seed: UInt64 = DemoSource.seed) throws -> String {
        let dir = "\(work)/demo-\(events)-seed\(seed)-v\(DemoGenerator.dataVersion)"
        let marker = dir + "/demo-complete"
        if FileManager.default.fileExists(atPath: marker) { return dir }
        remove(dir)
        print("  making demo store \(dir) (once; reused by later runs)")
        let result = try generate(into: dir, events: events, seed: seed, durable: false, sealing: false, quiet: true)
        try "\(result.summary.events) events in \(fmt(result.seconds)) s\n".write(toFile: marker, atomically: true, encoding: .utf8)
        return dir
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
