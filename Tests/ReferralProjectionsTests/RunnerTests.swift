import Foundation
import ReferralEvents
@testable import ReferralProjections
import Testing

/// The runner's bookkeeping: when it catches up and when it rebuilds, that state and
/// checkpoint move together, and that a rebuild swaps generations.
@Suite struct RunnerTests {
    let w: World
    /// Viborg's events up to (not including) the retraction.
    let beforeRetraction: [Recorded]
    let rest: [Recorded]

    init() throws {
        w = try World()
        let all = Viborg.events
        let cut = try #require(all.firstIndex { if case .eventRetracted = $0.event.payload { true } else { false } })
        beforeRetraction = Array(all[..<cut])
        rest = Array(all[cut...])
    }

    @Test func theFirstCatchUpBuildsThenOnlyNewEventsAreApplied() throws {
        try w.record(Array(beforeRetraction.prefix(30)))
        let first = try w.projections.catchUp()
        #expect(first.kind == .rebuilt && first.reason == "the projections had not been built yet" && first.toPosition == 30)
        try w.record(Array(beforeRetraction[30..<33]))
        let second = try w.projections.catchUp()
        #expect((second.kind, second.fromPosition, second.toPosition, second.eventsApplied) == (.caughtUp, 30, 33, 3))
        #expect(try w.projections.checkpoint() == 33)
        let third = try w.projections.catchUp()
        #expect(third.kind == .upToDate && third.eventsApplied == 0)
    }

    @Test func readingUnbuiltProjectionsSaysWhatToDo() throws {
        try w.record(Array(beforeRetraction.prefix(10)))
        let e = #expect(throws: LogError.self) { try w.projections.current().caseload(CaseloadQuery(today: day(2024, 1, 1))) }
        #expect(e?.code == .notFound && e?.message.contains("catchUp()") == true && e?.message.contains("referral rebuild") == true)
        try w.projections.catchUp()
        #expect(try w.projections.current().caseload(CaseloadQuery(today: day(2024, 1, 1))).isEmpty)
    }

    @Test func aRetractionTurnsCatchUpIntoARebuild() throws {
        try w.record(beforeRetraction)
        try w.projections.catchUp()
        try w.record(rest)
        let run = try w.projections.catchUp()
        #expect(run.kind == .rebuilt)
        #expect(run.reason?.contains("retraction") == true)
        #expect(try w.projections.checkpoint() == w.store.head().position)
    }

    @Test func aLargeGapIsClosedByARebuild() throws {
        let small = try Projections(store: w.store, path: w.directory + "/small.mdb", rebuildThreshold: 5)
        try w.record(Array(beforeRetraction.prefix(25)))
        try small.catchUp()
        try w.record(Array(beforeRetraction[25..<35]))
        let run = try small.catchUp()
        #expect(run.kind == .rebuilt && run.reason?.contains("10 new events") == true)
    }

    @Test func anAbortedCatchUpLeavesStateAndCheckpointTogether() throws {
        try w.record(Array(beforeRetraction.prefix(30)))
        try w.projections.catchUp()
        let today = day(2024, 4, 5)
        let caseloadBefore = try w.projections.current().caseload(CaseloadQuery(today: today))
        try w.record(Array(beforeRetraction[30...]))
        // Apply the new events and write their rows, then fail before commit (as a crash would).
        struct Crash: Error {}
        let p = w.projections
        #expect(throws: Crash.self) {
            try p.kv.write { txn in
                let rows = StoredRows(txn: txn, dbs: p.slots[try p.activeSlot(txn)])
                var batch = try CatchUpBatch(rows: rows)
                try p.store.replay(from: 31, through: .max) { view in try batch.apply(view); return true }
                try batch.flush()
                throw Crash()
            }
        }
        #expect(try p.checkpoint() == 30)
        #expect(try p.current().caseload(CaseloadQuery(today: today)) == caseloadBefore)
        // The next catch-up applies them exactly once.
        let run = try p.catchUp()
        #expect(run.kind == .caughtUp && run.eventsApplied == UInt64(beforeRetraction.count - 30))
        let folded = try p.asOf(position: try w.store.head().position)
        #expect(try p.current().caseload(CaseloadQuery(today: today)) == folded.caseload(CaseloadQuery(today: today)))
        #expect(try p.current().funnel(StatisticsQuery(year: 2024)!) == folded.funnel(StatisticsQuery(year: 2024)!))
    }

    @Test func aRebuildFillsTheIdleGenerationAndEmptiesTheOldOne() throws {
        try w.record(beforeRetraction)
        try w.projections.catchUp()
        let p = w.projections
        let before = try p.kv.read { try p.activeSlot($0) }
        let rows = try p.kv.read { txn in try txn.count(p.database(before, .cases)) }
        #expect(rows == 7)
        try p.rebuild()
        let after = try p.kv.read { try p.activeSlot($0) }
        #expect(after == 1 - before)
        let (oldRows, newRows, building) = try p.kv.read { txn in
            (try txn.count(p.database(before, .cases)), try txn.count(p.database(after, .cases)), try txn.get(p.meta, Projections.buildingKey))
        }
        #expect(oldRows == 0 && newRows == 7 && building == nil)
    }

    @Test func projectionsOfAnotherStoreAreRebuilt() throws {
        // LMDB allows one open handle per file per process, so each Projections is closed before the next opens the file.
        let path = w.directory + "/moved.mdb"
        try w.record(Array(beforeRetraction.prefix(20)))
        do { try Projections(store: w.store, path: path).catchUp() }
        let other = try World()
        try other.record(Array(beforeRetraction.prefix(20)))
        let run = try Projections(store: other.store, path: path).catchUp()
        #expect(run.kind == .rebuilt && run.reason == "the projections were built from another store")
    }

    @Test func aRetractedRegistrationLeavesTheRegistry() throws {
        try w.record(beforeRetraction)
        let grocer = UUID()
        try w.record([
            fact(.registry, .organisationRegistered(.init(organisationId: "grocer", name: "Købmand", kind: .employer, sector: .other, municipality: "Viborg")),
                 at(2024, 4, 2), id: grocer),
            fact(.registry, .eventRetracted(.init(retractedEventId: grocer, reason: "Oprettet ved en fejl")), at(2024, 4, 3)),
        ])
        let run = try w.projections.catchUp()
        #expect(run.kind == .rebuilt)
        let q = StatisticsQuery(year: 2024, organisations: ["grocer"])!
        let e = #expect(throws: LogError.self) { try w.projections.current().caseFlow(q) }
        #expect(e?.code == .notFound)
        // As known before the retraction, the grocer was registered.
        let before = try w.projections.asKnownAt(at(2024, 4, 2, 20))
        #expect(try before.caseFlow(q).isEmpty)
    }

    @Test func progressIsReportedToTheEnd() throws {
        try w.record(beforeRetraction)
        let seen = Box()
        try w.projections.rebuild { seen.items.append($0) }
        let last = try #require(seen.items.last)
        #expect(last.phase == .writing && last.eventsDone == last.totalEvents && last.fraction == 1)
        let rebuild = try #require(seen.items.first { $0.phase == .rebuild })
        #expect(rebuild.eventsDone == UInt64(beforeRetraction.count) && rebuild.eventsPerSecond > 0 && rebuild.estimatedSecondsLeft == 0)
    }
}

/// Collects progress reports (the callback is synchronous, on the caller's thread).
final class Box: @unchecked Sendable {
    var items: [ProjectionProgress] = []
}
