import Foundation
import ReferralEvents
@testable import ReferralProjections
import Testing

/// Folds the whole of `store` twice, leaving retracted events out as it reads and applying
/// them then folding their streams again, and expects the same rows, byte for byte. Returns
/// the rows.
@discardableResult
func expectSkippingRefoldsTheSame(_ store: EventStore, shares: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> RowSet {
    let head = try store.head().position
    func rows(skip: Bool) throws -> RowSet {
        var meter = ProgressMeter(phase: .asOf, total: head, callback: nil)
        let fold = try ProjectionFold.run(store: store, through: head, meter: &meter, shares: shares, skipRetracted: skip)
        #expect(meter.done == head, sourceLocation: sourceLocation)
        #expect(fold.retractedSkipped == skip, sourceLocation: sourceLocation)
        return fold.rows(storeID: "x")
    }
    let skipping = try rows(skip: true), refolding = try rows(skip: false)
    for table in Table.allCases {
        let a = skipping.tables[table] ?? [], b = refolding.tables[table] ?? []
        #expect(a.map(\.key) == b.map(\.key), "\(table) keys", sourceLocation: sourceLocation)
        #expect(a.map(\.value) == b.map(\.value), "\(table) values", sourceLocation: sourceLocation)
    }
    return skipping
}

/// A fold of the whole log leaves retracted events out as it reads; a fold that applies
/// them and then folds their streams again without them (the way an as-of fold before the
/// head works) must give the same rows, byte for byte, names' ids included.
@Suite struct SkipRetractedTests {
    @Test(arguments: [(UInt64(3), 1, false), (11, 2, false), (5, 2, true), (13, 3, true), (42, 1, true)])
    func leavingRetractedEventsOutAsTheLogIsReadGivesTheSameRows(seed: UInt64, shares: Int, lowMemory: Bool) throws {
        var generator = RandomLog(seed: seed)
        let w = try World(lowMemoryReplay: lowMemory)
        try w.record(generator.events(CatchUpPropertyTests.heavy ? 1200 : 400))
        let head = try w.store.head().position
        let retracted = try #require(try w.store.retractedPositions(ifHeadIs: head))
        // Random logs with no retraction would not test anything.
        #expect(!retracted.isEmpty)
        let skipping = try expectSkippingRefoldsTheSame(w.store, shares: shares)
        #expect(!(skipping.tables[.cases] ?? []).isEmpty)
    }
}

/// The corner the random logs never reach: a retracted opening, with later events of the
/// case that name registry entries no other case names.
@Suite struct SkipRetractedOpeningTests {
    @Test(arguments: [1, 2])
    func aRetractedOpeningWithLaterEventsGivesTheSameFigures(shares: Int) throws {
        let w = try World()
        let opening = Viborg.open("C1", "ringparken", Viborg.sec, "vib-lis-01", 1, "jobparat", .from30to39, .female, at(2024, 1, 8))
        try w.record(Viborg.registry + [
            opening,
            // The only event naming vib-jc-01 and mercantec.
            fact(.case("C1"), .caseAssigned(.init(liaisonId: "vib-jc-01", reason: "Jobcenteret overtager")), at(2024, 1, 9)),
            Viborg.consent("C1", [Viborg.school], until: day(2025, 1, 1), at(2024, 1, 10)),
            Viborg.refer("C1", "R1", .education, to: Viborg.school, at(2024, 1, 11)),
            Viborg.open("C2", "vestervang", Viborg.sec, "vib-lis-02", 2, "aktivitetsparat", .from18to24, .male, at(2024, 1, 12)),
            Viborg.contact("C2", at(2024, 1, 15)),
            fact(.case("C1"), .eventRetracted(.init(retractedEventId: opening.event.id, reason: "Forkert borger")), at(2024, 1, 16)),
        ])
        try expectSkippingRefoldsTheSame(w.store, shares: shares)
    }
}

/// The other corner: a retracted agreement with hour logs after it (and a retracted hour
/// log of another agreement), on Fredericia's shared employees.
@Suite struct SkipRetractedAgreementTests {
    @Test(arguments: [1, 2])
    func aRetractedAgreementWithLaterHourLogsGivesTheSameFigures(shares: Int) throws {
        let w = try World()
        var events = FredericiaTests.events
        let made = try #require(events.first { if case .hoursAgreementMade(let p) = $0.event.payload { return p.agreementId == "fre-jc-2024" } else { return false } })
        let backLog = try #require(events.first { if case .sharedHoursLogged = $0.event.payload { return $0.event.stream == FredericiaTests.back } else { return false } })
        events.append(fact(FredericiaTests.shared, .eventRetracted(.init(retractedEventId: made.event.id, reason: "Aftalen blev aldrig indgået")), at(2024, 4, 20)))
        events.append(fact(FredericiaTests.back, .eventRetracted(.init(retractedEventId: backLog.event.id, reason: "Forkert dag")), at(2024, 4, 20)))
        try w.record(events)
        let head = try w.store.head().position
        #expect(try w.store.retractedPositions(ifHeadIs: head)?.count == 2)
        try expectSkippingRefoldsTheSame(w.store, shares: shares)
        // And the figures users see: nothing is delivered under the retracted agreement,
        // and the other one's only log is gone too.
        try w.projections.catchUp()
        let hours = try w.projections.current().hours(StatisticsQuery(from: month(2024, 1), through: month(2024, 4)))
        #expect(hours.filter { $0.agreement == "fre-jc-2024" }.allSatisfy { $0.delivered == .zero })
        #expect(hours.filter { $0.agreement == "fre-bs-2024" }.allSatisfy { $0.delivered == .zero })
    }
}
