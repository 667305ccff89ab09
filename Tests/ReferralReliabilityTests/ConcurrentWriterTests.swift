import Foundation
import ReferralEvents
import Testing

/// Issue 6.2: several processes appending into one store at once.
@Suite(.serialized) struct ConcurrentWriterTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory("concurrent") }

    /// Everything the workers reported, checked against the log.
    struct Outcome {
        var events: [RecordedEvent]
        var acks: [Ack]
        var conflicts: [WorkerLine]
        /// Per worker: acknowledged events and successful appends, from its `done` line.
        var done: [(events: Int, appends: Int)]
    }

    func runWorkers(_ argumentLists: [[String]], store: String) throws -> Outcome {
        let workers = try argumentLists.map { try Worker(["append", "--store", store] + $0) }
        let results = workers.map { $0.wait() }
        var done: [(Int, Int)] = []
        for (i, r) in results.enumerated() {
            try #require(r.exitedCleanly, "worker \(i): \(r.summary)")
            let last = try #require(r.lines.last, "worker \(i) printed nothing")
            try #require(last.kind == "done", "worker \(i) did not finish its run")
            let events = Int(try #require(last.int("acked"))), appends = Int(try #require(last.int("appends")))
            #expect(r.acks.count == events, "worker \(i) acknowledged \(events) events but printed \(r.acks.count) ack lines")
            #expect(Set(r.acks.map(\.batch)).count == appends)
            done.append((events, appends))
        }
        let s = try EventStore(at: store)
        return Outcome(events: try s.read(), acks: results.flatMap(\.acks), conflicts: results.flatMap(\.conflicts), done: done)
    }

    /// Gapless positions, every acknowledged event there once and byte for byte, nothing
    /// else written, versions contiguous per stream, the chain valid.
    func checkLog(_ outcome: Outcome, store: String, initial: UInt64) throws {
        let s = try EventStore(at: store)
        let perWorker = outcome.done.map(\.events)
        let total = initial + UInt64(perWorker.reduce(0, +))
        #expect(UInt64(outcome.events.count) == total, "the log has \(outcome.events.count) events; \(initial) initial + \(perWorker) acknowledged")
        expectGapless(outcome.events)
        let ackedPositions = outcome.acks.map(\.position)
        #expect(Set(ackedPositions).count == ackedPositions.count, "a position was acknowledged to two appends")
        #expect(Set(ackedPositions) == Set((initial + 1)...max(initial + 1, total)).intersection(1...total),
                "the acknowledged positions are exactly the positions after the registry")
        #expect(try WorkerOracle.checkAcknowledged(outcome.acks, in: outcome.events) == 0)
        try expectContiguousVersions(outcome.events, store: s)
        let report = try s.verify()
        #expect(report.isValid, "verify: \(report.failure?.message ?? "")")
        #expect(report.eventsChecked == total)
    }

    @Test func twoProcessesAppendingAtOnceBothSucceedWithGaplessPositionsAndAValidChain() throws {
        defer { dir.remove() }
        let store = dir.sub("store")
        let created = try Worker.run(["init", "--store", store, "--agreement", "shared"])
        try #require(created.exitedCleanly, "init: \(created.summary)")
        let count = 300
        let outcome = try runWorkers([
            ["--stream", "agreement-shared", "--count", "\(count)", "--batch", "4", "--seed", "1", "--tag", "p0", "--offset", "0"],
            ["--stream", "agreement-shared", "--count", "\(count)", "--batch", "4", "--seed", "2", "--tag", "p1", "--offset", "2500"],
        ], store: store)
        try checkLog(outcome, store: store, initial: WorkerOracle.registryEvents + 1)
        // Both really ran at once: their acknowledged positions interleave.
        let byWorker = Dictionary(grouping: outcome.acks, by: { $0.activity.hasPrefix("p0") })
        let p0 = byWorker[true]?.map(\.position) ?? [], p1 = byWorker[false]?.map(\.position) ?? []
        #expect(p0.count == count && p1.count == count)
        let interleaved = (p0.min() ?? 0) < (p1.max() ?? 0) && (p1.min() ?? 0) < (p0.max() ?? 0)
        if !interleaved { print("note: the two writers did not overlap in time on this run") }
    }

    @Test func fourProcessesOnSharedAndOwnStreamsWithDeliberateConflicts() throws {
        defer { dir.remove() }
        let store = dir.sub("store")
        let appends = RunSize.pick(2_500, heavy: 25_000)
        // A small map, so that it must grow while four processes write.
        let created = try Worker.run(["init", "--store", store, "--agreement", "shared", "--agreement", "w0", "--agreement", "w1",
                                      "--agreement", "w2", "--agreement", "w3", "--map-size", "262144"])
        try #require(created.exitedCleanly, "init: \(created.summary)")
        let initial = WorkerOracle.registryEvents + 5
        let start = Date()
        let outcome = try runWorkers((0..<4).map { i in
            var args = ["--stream", "agreement-shared", "--stream", "agreement-w\(i)", "--batch", "5",
                        "--seed", "\(RunSize.seed &+ UInt64(i))", "--tag", "p\(i)", "--offset", "\(i * 1250)", "--no-sync", "--map-size", "262144"]
            // The last process appends from four threads through a group committer (counts are per thread).
            args += i == 3 ? ["--threads", "4", "--appends", "\(appends / 4)"] : ["--appends", "\(appends)"]
            if i % 2 == 1 { args.append("--expect-conflicts") }  // two of the four name expected versions
            return args
        }, store: store)
        let seconds = Date().timeIntervalSince(start)
        try checkLog(outcome, store: store, initial: initial)
        #expect(outcome.done.map(\.appends) == [appends, appends, appends, appends])

        // Conflicts: every deliberately stale expected version was refused as a conflict, and
        // no append that named an expected version landed anywhere but right after it.
        let deliberate = outcome.conflicts.filter { $0["deliberate"] == "1" }
        let contended = outcome.conflicts.filter { $0["deliberate"] == "0" }
        #expect(!deliberate.isEmpty, "the workers tried no deliberate conflicts")
        #expect(outcome.acks.filter(\.deliberate).isEmpty, "an append with a stale expected version was accepted")
        for c in outcome.conflicts {
            let expected = try #require(c.int("expected")), actual = try #require(c.int("actual"))
            #expect(actual != expected, "a conflict was reported although the stream was at the expected version \(expected)")
            if c["deliberate"] == "1" { #expect(actual > expected) }
        }
        var byBatch: [String: [Ack]] = [:]
        for a in outcome.acks where a.expected != nil { byBatch["\(a.activity.split(separator: "-")[0])-\(a.batch)", default: []].append(a) }
        var checkedExpectations = 0
        for (_, acks) in byBatch {
            for (i, a) in acks.sorted(by: { $0.position < $1.position }).enumerated() {
                #expect(a.version == a.expected! + UInt64(i) + 1, "an append expecting version \(a.expected!) was written as version \(a.version)")
                checkedExpectations += 1
            }
        }
        let s = try EventStore(at: store)
        report("concurrent-4", ["processes": 4, "appends_per_process": appends, "events": outcome.events.count,
                                "map_bytes": s.mapSize, "deliberate_conflicts": deliberate.count, "contended_conflicts": contended.count,
                                "expected_version_appends_checked": checkedExpectations, "seconds": String(format: "%.1f", seconds),
                                "seed": RunSize.seed])
        #expect(s.mapSize > 262_144, "the map should have grown from 256 KiB")
    }
}
