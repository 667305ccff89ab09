import Foundation
import ReferralDemo
import ReferralEvents

/// Generating demo stores, and reading the log back: the raw LMDB cursor scan (the floor
/// every replay is measured against) beside the store's own replay.
enum ScanBench {
    /// `demo`: writes a demo store and reports how fast.
    static func demo(_ o: Options, work: String) throws {
        let n = try o.int("events", 1_000_000)
        let dir = o.string("store", "\(work)/demo-gen-\(n)")
        let durable = o.has("durable"), sealing = o.has("seal")
        // Never write over something that is there: a --store pointing at a real store must not be lost.
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: dir), !contents.isEmpty {
            guard o.values["store"] == nil else {
                throw BenchError("\(dir) is not empty; give --store a new directory (the demo needs an empty store)")
            }
            remove(dir)  // our own scratch store from an earlier run
        }
        print("== demo: \(grouped(n)) events into \(dir) (\(durable ? "durable appends" : "durable: false + sync() at the end")\(sealing ? ", personal details sealed" : ""))")
        let c = cpuNow()
        let (summary, wall) = try DemoSource.generate(into: dir, events: n, seed: UInt64(try o.int("seed", Int(DemoSource.seed))),
                                                      durable: durable, sealing: sealing, quiet: false)
        let cpu = seconds(cpuNow() - c)
        let size = (try? FileManager.default.attributesOfItem(atPath: EventStore.logPath(in: dir))[.size] as? Int) ?? 0
        print("  \(grouped(summary.events)) events, \(grouped(summary.cases)) cases, \(summary.appends) appends, log.mdb \(fmt(Double(size) / 1_048_576, 0)) MiB")
        print("  RESULT demo \(grouped(summary.events)) events in \(fmt(wall, 1)) s wall = \(rate(Double(summary.events) / wall)); \(fmt(cpu, 1)) s CPU; peak RSS \(procStatus("VmHWM") >> 10) MiB; load \(loadAverage())")
        if !o.has("keep"), o.values["store"] == nil { remove(dir) }
    }

    /// The raw LMDB cursor scan of a store's `events` database: events/s.
    static func rawScan(_ dir: String) throws -> (events: Int, seconds: Double) {
        let env = try RawLMDB(path: EventStore.logPath(in: dir), database: "events", readOnly: true)
        let t = now()
        let (count, checksum) = try env.scan()
        let s = seconds(now() - t)
        if checksum == 42 { print("") }  // keeps the scan from being optimised away
        return (count, s)
    }

    /// `EventStore.replay` doing the least a projection does: read each event's type code.
    static func replay(_ dir: String, lowMemory: Bool = false) throws -> (events: Int, seconds: Double, cpu: Double, peakRSS: Int) {
        let store = try EventStore(at: dir, lowMemoryReplay: lowMemory)
        var count = 0
        var sum: UInt64 = 0
        resetPeakRSS()
        let (_, s, cpu) = try measure {
            try store.replay { view in
                count += 1
                sum &+= UInt64(view.typeCode)
                return true
            }
        }
        if sum == 42 { print("") }
        return (count, s, cpu, procStatus("VmHWM") >> 10)
    }

    /// `scan`: the raw cursor scan and the store's replay of the same log, warm cache.
    static func scan(_ o: Options, work: String) throws {
        let n = try o.int("events", 1_000_000)
        let runs = try o.int("runs", 5)
        let dir = try o.values["store"] ?? DemoSource.store(work: work, events: n)
        print("== scan: raw LMDB cursor scan vs EventStore.replay of \(dir), \(runs) runs (warm page cache)")
        _ = try rawScan(dir)  // warm the page cache
        var raw: [Double] = [], mine: [Double] = []
        var count = 0
        for run in 1...runs {
            let r = try rawScan(dir)
            let m = try replay(dir, lowMemory: o.has("low-memory"))
            count = r.events
            raw.append(Double(r.events) / r.seconds)
            mine.append(Double(m.events) / m.seconds)
            print("  run \(run): raw cursor \(rate(Double(r.events) / r.seconds)) (\(fmt(r.seconds, 3)) s) | replay \(rate(Double(m.events) / m.seconds)) (\(fmt(m.seconds, 3)) s, \(fmt(m.cpu, 3)) s CPU, peak RSS \(m.peakRSS) MiB) | load \(loadAverage())")
        }
        print("  RESULT scan of \(grouped(count)) events: raw cursor \(rate(median(raw))), EventStore.replay \(rate(median(mine))) (\(fmt(median(raw) / median(mine)))× the raw scan's time)")
    }
}
