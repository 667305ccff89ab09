import Foundation
import ReferralEvents
import ReferralProjections
import Testing

/// Fredericia's shared jobcenter employee: the jobcenter lends 18.5 hours a week to the
/// two housing organisations' areas, and boli.nu lends 10 hours a week back. Agreed hours
/// are counted by hand from the calendar (2024 is a leap year; 1 January was a Monday).
@Suite struct FredericiaTests {
    let w: World
    static let jc = "jobcenter-fredericia", bk = "boligkontoret", boli = "boli-nu"
    static let shared = StreamID.agreement("fre-jc-2024"), back = StreamID.agreement("fre-bs-2024")

    static var events: [Recorded] {
        let r = StreamID.registry
        let t = at(2023, 12, 1)
        func org(_ id: String, _ kind: OrganisationKind, _ sector: Sector) -> Recorded {
            fact(r, .organisationRegistered(.init(organisationId: id, name: id, kind: kind, sector: sector, municipality: "Fredericia")), t)
        }
        func logged(_ stream: StreamID, _ d: CalendarDate, _ hours: Double, area: String?, party: String?, recorded: Timestamp? = nil) -> Recorded {
            fact(stream, .sharedHoursLogged(.init(date: d, hours: Hours(hours)!, areaId: area, servedOrganisation: party, activity: "Café")),
                 Timestamp(d, hour: 10), recorded: recorded)
        }
        return [
            org(jc, .municipality, .jobcenter), org(bk, .housingOrganisation, .housingSocial), org(boli, .housingOrganisation, .housingSocial),
            org("fredericia-kommune", .municipality, .other),
            fact(r, .housingAreaRegistered(.init(areaId: "fredericia-nord", name: "Nord", municipality: "fredericia-kommune", housingOrganisations: [bk],
                                                 plan: "Fredericia 2022-2025", planFrom: day(2022, 1, 1), planTo: day(2025, 12, 31))), t),
            fact(r, .housingAreaRegistered(.init(areaId: "fredericia-sydvest", name: "Sydvest", municipality: "fredericia-kommune", housingOrganisations: [boli],
                                                 plan: "Fredericia 2022-2025", planFrom: day(2022, 1, 1), planTo: day(2025, 12, 31))), t),
            fact(shared, .hoursAgreementMade(.init(agreementId: "fre-jc-2024", employee: "LM", payingOrganisation: jc, servedOrganisations: [bk, boli],
                                                   servedAreas: ["fredericia-nord", "fredericia-sydvest"], hoursPerWeek: Hours(18.5)!,
                                                   validFrom: day(2024, 1, 1), validTo: day(2024, 12, 31))), at(2023, 12, 15)),
            logged(shared, day(2024, 1, 8), 7.5, area: "fredericia-nord", party: bk),
            logged(shared, day(2024, 1, 15), 6, area: "fredericia-sydvest", party: boli),
            logged(shared, day(2024, 1, 22), 7.5, area: "fredericia-nord", party: bk),
            fact(back, .hoursAgreementMade(.init(agreementId: "fre-bs-2024", employee: "KS", payingOrganisation: boli, servedOrganisations: [jc],
                                                 servedAreas: [], hoursPerWeek: Hours(10)!, validFrom: day(2024, 2, 1), validTo: nil)), at(2024, 1, 25)),
            logged(shared, day(2024, 2, 5), 8, area: "fredericia-sydvest", party: boli),
            logged(back, day(2024, 2, 7), 5, area: nil, party: jc),
            logged(shared, day(2024, 2, 12), 4.25, area: nil, party: nil),
            logged(shared, day(2024, 3, 4), 7.5, area: "fredericia-nord", party: bk),
            fact(shared, .hoursAgreementEnded(.init(endDate: day(2024, 3, 15), reason: "Medarbejder stoppet")), at(2024, 3, 15)),
            // Registered late: on 10 April, for 11 March.
            logged(shared, day(2024, 3, 11), 7.5, area: "fredericia-sydvest", party: boli, recorded: at(2024, 4, 10, 16)),
        ]
    }

    init() throws {
        w = try World()
        try w.record(Self.events)
        try w.projections.catchUp()
    }

    @Test func agreedAgainstDeliveredPerMonth() throws {
        let rows = try w.projections.current().hours(StatisticsQuery(from: month(2024, 1), through: month(2024, 4)))
        let jc = rows.filter { $0.agreement == "fre-jc-2024" }
        // January: 23 weekdays × 18.5 / 5 = 85.1 h agreed; logged 7.5 + 6 + 7.5 = 21.
        // February: 21 weekdays → 77.7; logged 8 + 4.25 = 12.25.
        // March: ended 15.3, so 1.3 and 4.–15.3 = 11 weekdays → 40.7; logged 7.5 + 7.5 (late) = 15.
        // April: nothing agreed, nothing logged: no row.
        #expect(jc.map(\.period.label) == ["2024-01", "2024-02", "2024-03"])
        #expect(jc.map(\.agreed) == [.h(85.1), .h(77.7), .h(40.7)])
        #expect(jc.map(\.delivered) == [.h(21), .h(12.25), .h(15)])
        #expect(jc.map(\.balance) == [.h(-64.1), .h(-65.45), .h(-25.7)])
        #expect(jc.allSatisfy { $0.employee == "LM" && $0.payingOrganisation == Self.jc && $0.party == nil })
        // boli.nu's 10 h a week from 1 February: 21 weekdays in February and 21 in March → 42 each; April 22 → 44.
        let back = rows.filter { $0.agreement == "fre-bs-2024" }
        #expect(back.map(\.agreed) == [.h(42), .h(42), .h(44)])
        #expect(back.map(\.delivered) == [.h(5), .h(0), .h(0)])
    }

    @Test func quarterByPartyAndArea() throws {
        let q = StatisticsQuery(quarter: 1, of: 2024, groupBy: [.organisation], organisations: [Self.bk])!
        let rows = try w.projections.current().hours(q)
        // Only the jobcenter's agreement serves boligkontoret. Q1 agreed 85.1 + 77.7 + 40.7 = 203.5, delivered 48.25:
        // the agreement's total, and boligkontoret's own row, not the other party's.
        #expect(rows.map(\.agreement) == ["fre-jc-2024", "fre-jc-2024"])
        #expect(rows.map { $0.party ?? "total" } == ["total", "boligkontoret"])
        #expect(rows.map(\.delivered) == [.h(48.25), .h(22.5)])
        #expect(rows[0].agreed == .h(203.5) && rows[1].agreed == nil)
        // Asked for the organisation that pays it: every party's row, since it pays for them all.
        let paying = try w.projections.current().hours(StatisticsQuery(quarter: 1, of: 2024, groupBy: [.organisation], organisations: [Self.jc])!)
            .filter { $0.agreement == "fre-jc-2024" }
        #expect(paying.map { $0.party ?? "total" } == ["total", "boli-nu", "boligkontoret", "unspecified"])
        #expect(paying.map(\.delivered) == [.h(48.25), .h(21.5), .h(22.5), .h(4.25)])

        let byArea = try w.projections.current().hours(StatisticsQuery(quarter: 1, of: 2024, groupBy: [.area], areas: ["fredericia-nord"])!)
        // Asked for one area: the agreement's total (all it delivered against agreed) and that
        // area's row, not the other areas it serves.
        #expect(byArea.map { $0.area ?? "total" } == ["total", "fredericia-nord"])
        #expect(byArea.map(\.delivered) == [.h(48.25), .h(22.5)])
    }

    @Test func lateHoursReviseThePastQuarter() throws {
        // Reported on 1 April: the 7.5 hours of 11 March were not logged yet.
        let q = StatisticsQuery(quarter: 1, of: 2024)!
        let then = try w.projections.asKnownAt(at(2024, 4, 1, 12)).hours(q).first { $0.agreement == "fre-jc-2024" }
        let now = try w.projections.current().hours(q).first { $0.agreement == "fre-jc-2024" }
        #expect(then?.delivered == .h(40.75) && now?.delivered == .h(48.25))
        #expect(then?.agreed == .h(203.5) && now?.agreed == .h(203.5))
    }

    @Test func hoursAreNeverSuppressed() throws {
        let table = try w.projections.current().table(.hours, StatisticsQuery(quarter: 1, of: 2024, groupBy: .organisation)!)
        let safe = table.rendered(suppression: .standard)
        let unspecified = try #require(safe.first { $0[4] == "unspecified" })
        #expect(unspecified[7] == "4.25")
        let total = try #require(safe.first { $0[1] == "fre-bs-2024" })
        #expect(Array(total[6...8]) == ["84", "5", "-79"])
    }

    @Test func anUnknownFilterIsAClearError() throws {
        let e = #expect(throws: LogError.self) {
            try w.projections.current().hours(StatisticsQuery(year: 2024, groupBy: [])!.with(organisations: ["boligkontor"]))
        }
        #expect(e?.code == .notFound)
        #expect(e?.message.contains("boligkontor") == true)
    }
}

extension StatisticsQuery {
    func with(organisations: Set<String>) -> StatisticsQuery {
        var q = self
        q.organisations = organisations
        return q
    }
}

extension Hours {
    static func h(_ v: Double) -> Hours { Hours(v)! }
}
