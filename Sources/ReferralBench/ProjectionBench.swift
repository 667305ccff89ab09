import Foundation
import ReferralDemo
import ReferralEvents
import ReferralProjections

/// Workloads 4–6: rebuilding the projections beside the raw scan, catch-up and query
/// latency, and how both scale with the log.
enum ProjectionBench {
    /// One rebuild measured: wall and CPU seconds, peak RSS (all of it, mapped files included)
    /// and peak anonymous memory (the process's own heap), in MiB.
    struct RebuildRun {
        var events: UInt64
        var wall: Double
        var cpu: Double
        var peakRSS: Int
        var peakAnon: Int
        /// Heap before the rebuild, and its peak while folding (before the rows are derived), in MiB.
        var anonBefore = 0
        var foldPeakAnon = 0
        /// Peak of mapped file pages (sampled), in MiB.
        var peakFile = 0
        /// Wall seconds until the fold's end (the rest derives and writes the rows).
        var foldWall = 0.0
    }

    /// Rebuilds the projections of the store in `dir` into a fresh file in `scratchDir`.
    static func rebuildOnce(_ dir: String, scratchDir: String, lowMemory: Bool = false, threads: Int = 2) throws -> RebuildRun {
        let store = try EventStore(at: dir, lowMemoryReplay: lowMemory)
        let path = scratchDir + "/projections.mdb"
        remove(path)
        remove(path + "-lock")
        let projections = try Projections(store: store, path: path, foldThreads: threads)
        let before = procStatus("RssAnon")
        resetPeakRSS()
        let sampler = AnonSampler()
        var foldPeak = 0
        var foldWall = 0.0
        let started = now()
        let (run, wall, cpu) = try measure {
            try projections.rebuild { p in
                if p.phase == .rebuild, p.eventsDone == p.totalEvents {
                    foldPeak = sampler.peakSoFar()
                    foldWall = seconds(now() - started)
                }
            }
        }
        let anon = sampler.stop()
        return RebuildRun(events: run.eventsApplied, wall: wall, cpu: cpu, peakRSS: procStatus("VmHWM") >> 10, peakAnon: anon >> 10,
                          anonBefore: before >> 10, foldPeakAnon: foldPeak >> 10, peakFile: sampler.peakFile >> 10, foldWall: foldWall)
    }

    // MARK: 4. Rebuild

    static func rebuild(_ o: Options, work: String) throws {
        let n = try o.int("events", 1_000_000)
        let runs = try o.int("runs", 3)
        let dir = try o.values["store"] ?? DemoSource.store(work: work, events: n)
        print("== 4. full rebuild of all projections from \(dir), beside a raw LMDB cursor scan, \(runs) runs")
        let scratchDir = try scratch(work, "rebuild")
        defer { remove(scratchDir) }
        _ = try ScanBench.rawScan(dir)  // warm the page cache, as a restarted server would have it
        var rates: [Double] = [], walls: [Double] = [], ratios: [Double] = [], rss: [Int] = [], anon: [Int] = [], cpuRates: [Double] = []
        var events: UInt64 = 0
        for run in 1...runs {
            let scan = try ScanBench.rawScan(dir)
            let r = try rebuildOnce(dir, scratchDir: scratchDir, lowMemory: o.has("low-memory"), threads: try o.int("threads", 2))
            events = r.events
            let rateNow = Double(r.events) / r.wall, ratio = r.wall / scan.seconds
            rates.append(rateNow); walls.append(r.wall); ratios.append(ratio); rss.append(r.peakRSS); anon.append(r.peakAnon)
            cpuRates.append(Double(r.events) / r.cpu)
            print("  run \(run): rebuild \(rate(rateNow)) (\(fmt(r.wall)) s wall, of which fold \(fmt(r.foldWall)) s; \(fmt(r.cpu)) s CPU), peak RSS \(r.peakRSS) MiB (heap \(r.peakAnon) MiB; \(r.anonBefore) before, \(r.foldPeakAnon) at the fold's end; file pages \(r.peakFile)) | raw scan \(rate(Double(scan.events) / scan.seconds)) (\(fmt(scan.seconds, 3)) s) → \(fmt(ratio, 1))× | load \(loadAverage())")
        }
        let m = median(rates), ratio = median(ratios)
        print("  RESULT rebuild of \(grouped(Int(events))) events: \(rate(m)) (target ≥ 1M: \(m >= 1_000_000 ? "met" : "MISSED")), wall \(fmt(median(walls))) s, \(fmt(ratio, 1))× the raw scan (target ≤ 10×: \(ratio <= 10 ? "met" : "MISSED")), peak RSS \(rss.max() ?? 0) MiB, heap \(anon.max() ?? 0) MiB (the highest of the runs); per CPU-second \(rate(median(cpuRates)))")
    }

    // MARK: 5. Catch-up and queries

    static func catchUp(_ o: Options, work: String) throws {
        let n = try o.int("events", 1_000_000)
        let repeats = try o.int("repeats", 50)
        let source = try o.values["store"] ?? DemoSource.store(work: work, events: n)
        print("== 5. catch-up after one new event, and query latency, on a copy of \(source) (\(repeats) repeats)")
        let dir = try scratch(work, "catchup")
        defer { remove(dir) }
        try FileManager.default.copyItem(atPath: EventStore.logPath(in: source), toPath: EventStore.logPath(in: dir))
        let store = try EventStore(at: dir)
        let projections = try Projections(store: store)
        let (built, buildWall, _) = try measure { try projections.rebuild() }
        print("  projections built: \(grouped(Int(built.eventsApplied))) events in \(fmt(buildWall, 1)) s")

        // Each new event opens a case in Vejleåparken, as a liaison would: it touches the
        // caseload, the case flow statistics and the residents' figures.
        var catchUps: [Double] = []
        for i in 0..<repeats {
            let caseID = "BENCH-\(getpid())-\(i)"
            var b = DemoRandom64(UInt64(i) &+ 1)
            let open = ProposedEvent(stream: .case(caseID), payload: .caseOpened(CaseOpened(
                resident: Pseudonym(high: b.next(), low: b.next()), areaId: "ishoej-vejleaaparken", organisationId: "vejleaaparken-indsats",
                liaisonId: "ish-sek-01", targetGroup: "jobklar", ageBand: .from30to39, gender: .female)),
                occurredAt: Timestamp.now(), actor: "ish-sek-01", organisation: "vejleaaparken-indsats")
            try store.append(open, expected: .noStream)
            let t = now()
            let run = try projections.catchUp()
            catchUps.append(Double(now() - t))
            guard run.eventsApplied == 1 else { throw BenchError("catch-up applied \(run.eventsApplied) events (\(run.kind.rawValue), \(run.reason ?? "")), expected 1") }
        }
        let c50 = percentile(catchUps, 0.5), c99 = percentile(catchUps, 0.99)
        print("  RESULT catch-up of one event: p50 \(latency(c50)), p99 \(latency(c99)) (target < 1 ms: \(c50 < 1e6 ? "met" : "MISSED"))")

        let view = projections.current()
        let today = DemoGenerator.lastDay
        let liaisonLoad = try view.caseload(CaseloadQuery(today: today, liaison: "ish-sek-01")).count
        let orgLoad = try view.caseload(CaseloadQuery(today: today, organisation: "vejleaaparken-indsats")).count
        let queries: [(String, () throws -> Int)] = [
            ("caseload of one liaison (ish-sek-01, \(liaisonLoad) open cases)", { try view.caseload(CaseloadQuery(today: today, liaison: "ish-sek-01")).count }),
            ("caseload of one organisation (\(orgLoad) open cases)", { try view.caseload(CaseloadQuery(today: today, organisation: "vejleaaparken-indsats")).count }),
            ("caseload summary by liaison (all open cases)", { try view.caseloadSummary(by: .liaison, today: today).count }),
            ("referrals sector→sector, 2024 by quarter", { try view.referrals(StatisticsQuery(from: ym(2024, 1), through: ym(2024, 12), granularity: .quarter, groupBy: .sector)).count }),
            ("funnel, whole plan period by year", { try view.funnel(StatisticsQuery(from: ym(2021, 1), through: ym(2025, 12), granularity: .year)).count }),
            ("days to first contact, 2024 by area", { try view.daysToFirstContact(StatisticsQuery(from: ym(2024, 1), through: ym(2024, 12), granularity: .year, groupBy: .area)).count }),
            ("shared hours, 2025 by month", { try view.hours(StatisticsQuery(from: ym(2025, 1), through: ym(2025, 12))).count }),
        ]
        for (name, q) in queries {
            _ = try q()
            var lat: [Double] = []
            var rows = 0
            for _ in 0..<repeats {
                let t = now()
                rows = try q()
                lat.append(Double(now() - t))
            }
            let p50 = percentile(lat, 0.5)
            let target = name.hasPrefix("caseload of one") ? " (target < 5 ms: \(p50 < 5e6 ? "met" : "MISSED"))" : ""
            print("  RESULT query \(name): p50 \(latency(p50)), p99 \(latency(percentile(lat, 0.99))), \(rows) rows\(target)")
        }
    }

    // MARK: 6. Scaling

    static func scaling(_ o: Options, work: String) throws {
        let sizes = try o.string("sizes", "100k,1M").split(separator: ",").map { text -> Int in
            guard let s = DemoSize(String(text)) else { throw BenchError("--sizes takes sizes such as 100k,1M,10M; '\(text)' is not one") }
            return s.targetEvents
        }
        let runs = try o.int("runs", 1)
        print("== 6. scaling: rebuild and raw scan at \(sizes.map { grouped($0) }.joined(separator: ", ")) events, \(runs) run(s) each")
        let scratchDir = try scratch(work, "scaling")
        defer { remove(scratchDir) }
        var rows: [(events: UInt64, scanNs: Double, rebuildNs: Double, cpuNs: Double, rss: Int, anon: Int, size: Int)] = []
        for n in sizes {
            let dir = try DemoSource.store(work: work, events: n)
            _ = try ScanBench.rawScan(dir)
            var scans: [Double] = [], rebuilds: [Double] = [], cpus: [Double] = [], rss: [Int] = [], anon: [Int] = []
            var events: UInt64 = 0
            for _ in 1...runs {
                let scan = try ScanBench.rawScan(dir)
                let r = try rebuildOnce(dir, scratchDir: scratchDir, lowMemory: o.has("low-memory"), threads: try o.int("threads", 2))
                events = r.events
                scans.append(scan.seconds * 1e9 / Double(scan.events))
                rebuilds.append(r.wall * 1e9 / Double(r.events))
                cpus.append(r.cpu * 1e9 / Double(r.events))
                rss.append(r.peakRSS); anon.append(r.peakAnon)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: EventStore.logPath(in: dir))[.size] as? Int) ?? 0
            rows.append((events, median(scans), median(rebuilds), median(cpus), rss.max() ?? 0, anon.max() ?? 0, size >> 20))
            print("  \(grouped(Int(events))) events (log.mdb \(size >> 20) MiB): raw scan \(fmt(median(scans), 0)) ns/event, rebuild \(fmt(median(rebuilds), 0)) ns/event wall, \(fmt(median(cpus), 0)) ns/event CPU, peak RSS \(rss.max() ?? 0) MiB, heap \(anon.max() ?? 0) MiB | load \(loadAverage())")
        }
        if let first = rows.first, let last = rows.last, rows.count > 1 {
            let growth = last.cpuNs / first.cpuNs
            print("  RESULT scaling \(grouped(Int(first.events))) → \(grouped(Int(last.events))): rebuild CPU per event ×\(fmt(growth)) (linear = ×1.00), wall per event ×\(fmt(last.rebuildNs / first.rebuildNs)), raw scan per event ×\(fmt(last.scanNs / first.scanNs)); heap \(first.anon) → \(last.anon) MiB")
            if let tenM = rows.first(where: { $0.events >= 9_000_000 }) {
                if o.has("low-memory") {
                    print("  RESULT peak RSS during the \(grouped(Int(tenM.events)))-event rebuild: \(tenM.rss) MiB, of which heap \(tenM.anon) MiB (target < 300 MB: \(tenM.rss < 300 ? "met" : "MISSED"))")
                } else {
                    // With the log's pages kept, most of the peak is clean file pages; the
                    // target is for the page release, which `referral rebuild` does by default.
                    print("  peak RSS during the \(grouped(Int(tenM.events)))-event rebuild with the log's pages kept: \(tenM.rss) MiB, of which heap \(tenM.anon) MiB (the < 300 MB target is measured with --low-memory, referral rebuild's default)")
                }
            }
        }
    }
}

/// A month written in the source.
func ym(_ year: Int, _ month: Int) -> YearMonth {
    YearMonth(CalendarDate(year: year, month: month, day: 1) ?? DemoGenerator.firstDay)
}

/// A tiny generator for the benchmark's own ids (SplitMix64).
struct DemoRandom64 {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
