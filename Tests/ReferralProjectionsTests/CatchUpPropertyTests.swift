import Foundation
import ReferralEvents
@testable import ReferralProjections
import Testing

/// Incremental catch-up and a full rebuild must give identical results: random valid
/// sequences are appended in random chunks, caught up after each, and compared with a
/// fold of the same prefix from scratch, and at the end with a stored rebuild.
@Suite struct CatchUpPropertyTests {
    /// `REFERRAL_HEAVY=1` runs many more and longer sequences.
    static let heavy = ProcessInfo.processInfo.environment["REFERRAL_HEAVY"] == "1"
    static let seeds: [UInt64] = heavy ? Array(100...140) : [1, 7, 42, 2024]
    static let length = heavy ? 1200 : 260

    /// Everything a user can read, as comparable values.
    static func snapshot(_ view: ProjectionView, from: YearMonth = month(2023, 11), through: YearMonth = month(2024, 12),
                         granularity: PeriodGranularity = .month, today: CalendarDate = day(2024, 3, 1)) throws -> [String: [[String]]] {
        var out: [String: [[String]]] = [:]
        let q = StatisticsQuery(from: from, through: through, granularity: granularity, groupBy: [.area, .organisation, .sector])
        for kind in StatisticKind.allCases where kind != .residents && kind != .hours {
            out[kind.rawValue] = try view.table(kind, q).rendered()
        }
        out["residents"] = try view.table(.residents, StatisticsQuery(from: from, through: through, granularity: .quarter,
                                                                       groupBy: [.area, .ageBand, .gender, .targetGroup])).rendered()
        out["hours"] = try view.table(.hours, StatisticsQuery(from: from, through: through, granularity: granularity, groupBy: [.organisation, .area])).rendered()
        out["caseload"] = try view.caseload(CaseloadQuery(today: today)).map {
            [$0.caseId, $0.liaison, $0.organisation, $0.area, $0.targetGroup, $0.openedOn.iso8601, $0.episodeOpenedOn.iso8601,
             $0.lastActivity.iso8601, "\($0.activePlacements)", "\($0.pendingReferrals)", $0.nextConsentExpiry?.iso8601 ?? "",
             "\($0.consentsInForce)", $0.flags.description]
        }
        out["per-liaison"] = try view.caseloadSummary(by: .liaison, today: today).map {
            [$0.group, "\($0.openCases)", "\($0.activePlacement)", "\($0.awaitingAnswer)", "\($0.inactive)", "\($0.consentExpiring)"]
        }
        return out
    }

    @Test(arguments: seeds)
    func catchUpInChunksEqualsAFullRebuild(seed: UInt64) throws {
        var generator = RandomLog(seed: seed)
        let events = generator.events(Self.length)
        let w = try World(catchUpBatch: 5)
        var rng = SplitMix(state: seed ^ 0xFEED)
        var i = 0
        var incremental = 0, retractionsSeen = 0
        while i < events.count {
            let chunk = Array(events[i..<min(events.count, i + rng.int(1...25))])
            i += chunk.count
            try w.record(chunk)
            let hadRetraction = chunk.contains { if case .eventRetracted = $0.event.payload { true } else { false } }
            let before = try w.projections.checkpoint()
            let run = try w.projections.catchUp()
            let head = try w.store.head().position
            let checkpoint = try w.projections.checkpoint()
            #expect(run.toPosition == head && checkpoint == head)
            if before > 0 && !hadRetraction {
                #expect(run.kind == .caughtUp, "seed \(seed): chunk without retraction was \(run.kind) (\(run.reason ?? ""))")
                #expect(run.eventsApplied == head - before)
                incremental += 1
            } else {
                #expect(run.kind == .rebuilt)
            }
            if hadRetraction { retractionsSeen += 1 }
            let fresh = try w.projections.asOf(position: head)
            let stored = try Self.snapshot(w.projections.current())
            let folded = try Self.snapshot(fresh)
            let differing = stored.keys.sorted().filter { stored[$0] != folded[$0] }
            #expect(differing.isEmpty, "seed \(seed): catch-up and a fold from scratch differ at position \(head) in \(differing)")
            if !differing.isEmpty {
                for k in differing { Issue.record("\(k): caught up \(stored[k] ?? []) vs folded \(folded[k] ?? [])") }
                return
            }
        }
        #expect(incremental >= 5 && retractionsSeen >= 1, "seed \(seed): \(incremental) incremental chunks, \(retractionsSeen) with retractions")
        // A stored rebuild into another file gives the same again.
        let other = try Projections(store: w.store, path: w.directory + "/other.mdb")
        #expect(try other.rebuild().kind == .rebuilt)
        let rebuilt = try Self.snapshot(other.current()), caughtUp = try Self.snapshot(w.projections.current())
        #expect(rebuilt == caughtUp)
        // The sequences are not trivial: cases, referrals and retractions all occur.
        let caseFlow = try w.projections.current().caseFlow(StatisticsQuery(year: 2024)!)
        #expect((caseFlow.first?.opened ?? 0) > 10)
    }

    /// Folding the cases in shares on several threads and merging gives what one fold gives,
    /// also when the replay releases the log's pages (then the reading thread folds no
    /// cases and retracted streams are read again with their pages released as they go).
    @Test(arguments: [(UInt64(3), false), (11, false), (5, true), (13, true)])
    func sharedFoldsEqualOneFold(seed: UInt64, lowMemory: Bool) throws {
        var generator = RandomLog(seed: seed)
        let w = try World(lowMemoryReplay: lowMemory)
        try w.record(generator.events(400))
        let head = try w.store.head().position
        func view(_ shares: Int) throws -> ProjectionView {
            var meter = ProgressMeter(phase: .asOf, total: head, callback: nil)
            let fold = try ProjectionFold.run(store: w.store, through: head, meter: &meter, shares: shares)
            #expect(meter.done == head)
            return ProjectionView(source: .memory(MemoryRows(rows: fold.rows(storeID: "x")), head))
        }
        let one = try Self.snapshot(view(1))
        for shares in [2, 3] {
            let many = try Self.snapshot(view(shares))
            #expect(one.keys.sorted().filter { one[$0] != many[$0] } == [], "\(shares) shares")
        }
        #expect(!(one["caseload"] ?? []).isEmpty && !(one["referrals"] ?? []).isEmpty)
    }
}
