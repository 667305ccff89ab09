import Foundation
import ReferralEvents
import Testing

/// Issue 6.1: a writer killed with SIGKILL at random moments loses nothing it acknowledged,
/// leaves no batch half-written, and the store opens with no recovery step; the store's
/// projections, caught up after each round, equal a full rebuild.
@Suite(.serialized) struct CrashLoopTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory("crash") }

    @Test func aKilledWriterLosesNoAcknowledgedEventAndNoBatchIsPartlyThere() throws {
        defer { dir.remove() }
        let rounds = RunSize.pick(20, heavy: 100)
        let store = dir.sub("store")
        let created = try Worker.run(["init", "--store", store, "--agreement", "a", "--agreement", "b", "--map-size", "65536"])
        try #require(created.exitedCleanly, "init: \(created.summary)")
        let initial = WorkerOracle.registryEvents + 2

        var rng = SplitMix64(seed: RunSize.seed)
        var acked: [UInt64: Ack] = [:]
        var committedUnacknowledged: UInt64 = 0
        var inFlightCommitted = 0, inFlightAbsent = 0, roundsWithoutAck = 0, batchesAcked = 0
        var previousHead: LogHead?
        let headFile = dir.sub("head.json")
        var groupRounds = 0
        var runs: [String: Int] = [:]
        for round in 1...rounds {
            // Every other round, three threads append through one group committer, so a kill
            // can land in a shared commit of several callers' batches.
            let threads = round % 2 == 0 ? 3 : 1
            if threads > 1 { groupRounds += 1 }
            let worker = try Worker(["append", "--store", store, "--stream", "agreement-a", "--stream", "agreement-b",
                                     "--count", "0", "--batch", "8", "--seed", "\(rng.next() % 1_000_000)",
                                     "--tag", "r\(round)", "--map-size", "65536", "--threads", "\(threads)"])
            // From before the worker is up to a few hundred appends in.
            usleep(UInt32(5_000 + rng.next() % UInt64(RunSize.pick(300_000, heavy: 600_000))))
            worker.kill()
            let result = worker.wait()
            try #require(result.killed, "round \(round): the worker ended by itself: \(result.summary)")

            let acks = result.acks
            if acks.isEmpty { roundsWithoutAck += 1 }
            for a in acks {
                #expect(acked[a.position] == nil, "round \(round): position \(a.position) acknowledged twice")
                acked[a.position] = a
            }
            let ackedBatches = Set(acks.map(\.batch))
            batchesAcked += ackedBatches.count
            let inFlight = result.begun.filter { !ackedBatches.contains($0.batch) }
            #expect(inFlight.count <= threads, "round \(round): each of \(threads) threads appends one batch at a time, yet \(inFlight.count) were unacknowledged")

            // No recovery step: the store simply opens.
            let s = try EventStore(at: store, initialMapSize: 65536)
            let events = try s.read()
            for batch in inFlight {
                let found = try batch.ids.map { try s.event(id: $0) }
                let present = found.compactMap { $0 }
                #expect(present.isEmpty || present.count == batch.ids.count,
                        "round \(round): batch \(batch.batch) is partly there: \(present.count) of \(batch.ids.count) events")
                if present.count == batch.ids.count {
                    inFlightCommitted += 1
                    committedUnacknowledged += UInt64(present.count)
                    let positions = present.map(\.position)
                    #expect(positions == Array(positions[0]...(positions[0] + UInt64(positions.count) - 1)), "a batch is written at consecutive positions")
                } else if present.isEmpty {
                    inFlightAbsent += 1
                }
            }
            #expect(UInt64(events.count) == initial + UInt64(acked.count) + committedUnacknowledged,
                    "round \(round): the log holds \(events.count) events; expected \(initial) initial + \(acked.count) acknowledged + \(committedUnacknowledged) committed just before a kill")
            let failures = try WorkerOracle.checkAcknowledged(acked.values, in: events)
            try #require(failures == 0, "round \(round): \(failures) acknowledged events are missing or changed")
            expectGapless(events)
            try expectContiguousVersions(events, store: s)

            // The head kept outside the store after the last round must still be a prefix.
            let report = try s.verify(expectedHead: previousHead)
            try #require(report.isValid, "round \(round): verify failed: \(report.failure?.message ?? "")")
            #expect(report.eventsChecked == UInt64(events.count))
            runs[try ProjectionCheck.check(s, events: events, scratch: dir.path, round: round).rawValue, default: 0] += 1
            try report.head.write(to: headFile)
            previousHead = try LogHead.read(from: headFile)
            #expect(previousHead == report.head)
        }
        #expect(!acked.isEmpty, "no round got as far as an acknowledged append; the kill delays are too short for this machine")
        report("crash-loop", ["rounds": rounds, "group_commit_rounds": groupRounds, "acknowledged_events": acked.count, "acknowledged_batches": batchesAcked,
                              "in_flight_committed": inFlightCommitted, "in_flight_absent": inFlightAbsent,
                              "rounds_without_ack": roundsWithoutAck, "events_in_log": previousHead?.position ?? 0,
                              "projection_runs": runs.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","),
                              "seed": RunSize.seed])
    }
}
