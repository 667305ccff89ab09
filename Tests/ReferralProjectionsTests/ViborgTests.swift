import Foundation
import ReferralEvents
import ReferralProjections
import Testing

/// Viborg's five areas (see `Viborg` for the events). Every number below is counted by
/// hand from the scenario; the comments show the counting.
@Suite struct ViborgTests {
    let w: World
    let now: ProjectionView

    init() throws {
        w = try World()
        try w.record(Viborg.events)
        try w.projections.catchUp()
        now = w.projections.current()
    }

    let q1 = StatisticsQuery(quarter: 1, of: 2024)!

    @Test func catchUpReachesTheHead() throws {
        #expect(try w.projections.checkpoint() == w.store.head().position)
        #expect(try now.position() == w.store.head().position)
    }

    @Test func newAndClosedCasesByMonthAndArea() throws {
        // Opened: Jan V1 V2, Feb V3 V4, Mar V5 V7 (V6 opened Nov 2023). Closed: Jan V6, Mar V1. Reopened: V6 in May.
        let byMonth = try now.caseFlow(StatisticsQuery(from: month(2024, 1), through: month(2024, 5)))
        #expect(byMonth.map(\.dimensions.period.label) == ["2024-01", "2024-02", "2024-03", "2024-05"])
        #expect(byMonth.map(\.opened) == [2, 2, 2, 0])
        #expect(byMonth.map(\.closed) == [1, 0, 1, 0])
        #expect(byMonth.map(\.reopened) == [0, 0, 0, 1])

        let q1ByArea = try now.caseFlow(StatisticsQuery(quarter: 1, of: 2024, groupBy: .area)!)
        let opened = Dictionary(uniqueKeysWithValues: q1ByArea.map { ($0.dimensions.area ?? "", $0.opened) })
        let closed = Dictionary(uniqueKeysWithValues: q1ByArea.map { ($0.dimensions.area ?? "", $0.closed) })
        #expect(opened == ["ellekonebakken": 1, "klostervaenget": 2, "houlkaervaenget": 1, "vestervang": 1, "ringparken": 1])
        // ellekonebakken: V1 (March) and V6 (January).
        #expect(closed == ["ellekonebakken": 2, "klostervaenget": 0, "houlkaervaenget": 0, "vestervang": 0, "ringparken": 0])
        #expect(q1ByArea.allSatisfy { $0.dimensions.period.label == "2024-Q1" })
    }

    @Test func referralMatrixNowLeavesTheRetractionOutAndCountsTheLateReferral() throws {
        // housing-social → jobcenter, jobcenter-contact: V1R1 (acc), V2R1, V3R2 (acc), V5R1, V7R2 (late) = 5 made, 2 accepted.
        // housing-social → children-and-youth, mentor: V2R2 rejected. housing-social → school, education: V3R1 accepted.
        // V7R1 (work placement) was retracted.
        let rows = try now.referrals(q1)
        #expect(rows.count == 3)
        let jc = try #require(rows.first { $0.toSector == "jobcenter" })
        #expect((jc.fromSector, jc.kind, jc.made, jc.accepted, jc.rejected, jc.awaitingAnswer) == ("housing-social", .jobcenterContact, 5, 2, 0, 3))
        #expect(jc.acceptanceRate == 1.0)
        let bu = try #require(rows.first { $0.toSector == "children-and-youth" })
        #expect((bu.kind, bu.made, bu.accepted, bu.rejected) == (.mentor, 1, 0, 1))
        #expect(bu.acceptanceRate == 0.0)
        let school = try #require(rows.first { $0.toSector == "school" })
        #expect((school.kind, school.made, school.accepted) == (.education, 1, 1))
        #expect(!rows.contains { $0.kind == .workPlacement })
    }

    @Test func referralMatrixAsReportedOnTheDay() throws {
        // On 1 April 12:00 V7R1 (work placement, 10 March) was not yet retracted and V7R2 not yet recorded.
        let then = try w.projections.asKnownAt(Viborg.reportTime)
        let rows = try then.referrals(q1)
        let jc = try #require(rows.first { $0.kind == .jobcenterContact })
        #expect((jc.made, jc.accepted) == (4, 2))
        let wp = try #require(rows.first { $0.kind == .workPlacement })
        #expect((wp.fromSector, wp.toSector, wp.made, wp.accepted, wp.rejected) == ("housing-social", "jobcenter", 1, 0, 0))
        #expect(wp.acceptanceRate == nil)
        #expect(rows.count == 4)
    }

    @Test func referralsByOrganisationAndArea() throws {
        let q = StatisticsQuery(quarter: 1, of: 2024, groupBy: [.area, .organisation])!
        let rows = try now.referrals(q)
        // klostervaenget: V2R1 (jc), V2R2 (bu), V7R2 (jc) → jc row made 2, bu row made 1.
        let klosterJC = try #require(rows.first { $0.dimensions.area == "klostervaenget" && $0.toOrganisation == Viborg.jc })
        #expect(klosterJC.made == 2 && klosterJC.fromOrganisation == Viborg.sec && klosterJC.accepted == 0)
        let klosterBU = try #require(rows.first { $0.dimensions.area == "klostervaenget" && $0.toOrganisation == Viborg.bu })
        #expect(klosterBU.rejected == 1)
        // houlkaervaenget: V3R1 (school, acc), V3R2 (jc, acc).
        #expect(rows.filter { $0.dimensions.area == "houlkaervaenget" }.map(\.accepted) == [1, 1])
        #expect(rows.map(\.made).reduce(0, +) == 7)
    }

    @Test func funnelNowAndAsReported() throws {
        // V1 Jan: referral 15.1, contact 22.1, placement 1.2, job 28.2 → all four.
        // V2 Feb: referral 5.2, contact 6.3. V3 Feb: referral 15.2, contact 11.3, placement 1.4.
        // V5 Mar: referral 25.3, contact 2.4. V7 Mar: (R1 retracted) referral 28.3.
        let f = try #require(try now.funnel(q1).first)
        #expect((f.referred, f.firstContact, f.placement, f.jobOrEducation) == (5, 4, 2, 1))
        // As known on 1 April 12:00: no V3 placement, no V5 contact yet; V7 counted with R1.
        let then = try #require(try w.projections.asKnownAt(Viborg.reportTime).funnel(q1).first)
        #expect((then.referred, then.firstContact, then.placement, then.jobOrEducation) == (5, 3, 1, 1))
        let monthly = try now.funnel(StatisticsQuery(from: month(2024, 1), through: month(2024, 3)))
        #expect(monthly.map(\.referred) == [1, 2, 2])
        #expect(monthly.map(\.placement) == [1, 1, 0])
    }

    @Test func daysFromReferralToFirstContact() throws {
        // V1 7 days (15.1→22.1), V2 30 (5.2→6.3 in a leap year), V3 25 (15.2→11.3), V5 8 (25.3→2.4).
        // Sorted 7, 8, 25, 30: lower median = 2nd = 8; p90 nearest rank = ⌈3.6⌉ = 4th = 30.
        let r = try #require(try now.daysToFirstContact(q1).first)
        #expect((r.cases, r.medianDays, r.p90Days) == (4, 8, 30))
        let feb = try #require(try now.daysToFirstContact(StatisticsQuery(month: 2, of: 2024)!).first)
        // 25 and 30: lower median 25, p90 = ⌈1.8⌉ = 2nd = 30.
        #expect((feb.cases, feb.medianDays, feb.p90Days) == (2, 25, 30))
    }

    @Test func placementsStartedAndEnded() throws {
        // Q1: V1's work placement started 1.2 and ended 28.2 in an ordinary job. Q2: V3's apprenticeship started 1.4.
        let rows = try now.placements(StatisticsQuery(from: month(2024, 1), through: month(2024, 6), granularity: .quarter))
        #expect(rows.count == 2)
        #expect(rows[0].dimensions.period.label == "2024-Q1" && rows[0].kind == .workPlacement)
        #expect(rows[0].started == 1 && rows[0].ended == 1 && rows[0].endedByOutcome == [.ordinaryJob: 1])
        #expect(rows[1].dimensions.period.label == "2024-Q2" && rows[1].kind == .apprenticeship)
        #expect(rows[1].started == 1 && rows[1].ended == 0)
    }

    @Test func outcomesCountInTheMonthOfTheClose() throws {
        // V1 closed 15.3, status after 1 month ordinary job; V6 closed 31.1, after 3 months education.
        let rows = try now.outcomes(StatisticsQuery(from: month(2024, 1), through: month(2024, 3)))
        #expect(rows.map { "\($0.dimensions.period.label) \($0.monthsAfterClose) \($0.status.rawValue) \($0.cases)" }
                == ["2024-01 3 education 1", "2024-03 1 ordinary-job 1"])
    }

    @Test func uniqueResidentsByAreaGenderAgeAndTargetGroup() throws {
        // Open at some day in Q1: all seven cases; residents P1 (V1, V5), P2, P3, P4, P5, P6 → 6.
        #expect(try now.residents(q1).map(\.residents) == [6])
        let byArea = try now.residents(StatisticsQuery(quarter: 1, of: 2024, groupBy: .area)!)
        #expect(Dictionary(uniqueKeysWithValues: byArea.map { ($0.dimensions.area ?? "", $0.residents) })
                == ["ellekonebakken": 2, "klostervaenget": 2, "houlkaervaenget": 1, "vestervang": 1, "ringparken": 1])
        let byGender = try now.residents(StatisticsQuery(quarter: 1, of: 2024, groupBy: .gender)!)
        #expect(Dictionary(uniqueKeysWithValues: byGender.map { ($0.gender, $0.residents) }) == [.female: 2, .male: 3, .other: 1])
        let byAge = try now.residents(StatisticsQuery(quarter: 1, of: 2024, groupBy: .ageBand)!)
        #expect(Dictionary(uniqueKeysWithValues: byAge.map { ($0.ageBand, $0.residents) })
                == [.from25to29: 2, .from30to39: 2, .from18to24: 1, .from40to49: 1])
        let byGroup = try now.residents(StatisticsQuery(quarter: 1, of: 2024, groupBy: .targetGroup)!)
        // jobparat: P1 (V1), P3, P4, P5, P6; aktivitetsparat: P2, P1 (V5).
        #expect(Dictionary(uniqueKeysWithValues: byGroup.map { ($0.targetGroup ?? "", $0.residents) }) == ["jobparat": 5, "aktivitetsparat": 2])
        #expect(byGroup.first { $0.targetGroup == "jobparat" }?.targetGroupLabel == "Jobparat")
        // February: V1, V2, V3, V4 open (V6 closed 31.1, V5 and V7 opened in March).
        #expect(try now.residents(StatisticsQuery(month: 2, of: 2024)!).map(\.residents) == [4])
    }

    @Test func planPeriodSumsTheMonthsOfThePlan() throws {
        let plan = try now.plan(named: "Viborg 2021-2025")
        #expect(plan.areas.count == 5 && plan.from == day(2021, 1, 1) && plan.to == day(2025, 12, 31))
        let flow = try now.caseFlow(StatisticsQuery(plan: plan))
        // Every case: 7 opened (V6 in 2023 included), closes V6 and V1, reopening of V6.
        #expect(flow.count == 1 && flow[0].dimensions.period.label == "Viborg 2021-2025")
        #expect((flow[0].opened, flow[0].closed, flow[0].reopened) == (7, 2, 1))
        let unknown = #expect(throws: LogError.self) { try now.plan(named: "Aarhus") }
        #expect(unknown?.code == .notFound)
    }

    @Test func caseloadAsKnownOnFiveApril() throws {
        // Open then: V2, V3, V4, V5, V7 (V1 closed 15.3, V6 closed 31.1). Today 5 April.
        let view = try w.projections.asKnownAt(Viborg.caseloadTime)
        let rows = try view.caseload(CaseloadQuery(today: day(2024, 4, 5)))
        #expect(rows.map(\.caseId) == ["V4", "V2", "V3", "V5", "V7"])  // by liaison id: vib-jc-01, vib-lis-01, vib-lis-02 ×3
        let flags = Dictionary(uniqueKeysWithValues: rows.map { ($0.caseId, $0.flags) })
        // V2: R1 unanswered; last event 6.3 → 30 days idle; its consent ended 31.3.
        #expect(flags["V2"] == [.awaitingAnswer, .inactive])
        // V3: apprenticeship running since 1.4.
        #expect(flags["V3"] == [.activePlacement])
        // V4: last event 15.2 (50 days); consent ends 15.4, 10 days away.
        #expect(flags["V4"] == [.inactive, .consentExpiring])
        // V5: R1 unanswered, contact 2.4. V7: R1 unanswered (its retraction is not known yet), last event 10.3 (26 days).
        #expect(flags["V5"] == [.awaitingAnswer])
        #expect(flags["V7"] == [.awaitingAnswer])
        let v2 = try #require(rows.first { $0.caseId == "V2" })
        #expect(v2.daysSinceActivity == 30 && v2.consentsInForce == 0 && v2.pendingReferrals == 1 && v2.area == "klostervaenget")
        let v4 = try #require(rows.first { $0.caseId == "V4" })
        #expect(v4.nextConsentExpiry == day(2024, 4, 15) && v4.liaison == "vib-jc-01" && v4.organisation == Viborg.jc)

        let mine = try view.caseload(CaseloadQuery(today: day(2024, 4, 5), liaison: "vib-lis-02"))
        #expect(mine.map(\.caseId) == ["V3", "V5", "V7"])
        let awaiting = try view.caseload(CaseloadQuery(today: day(2024, 4, 5), liaison: "vib-lis-02", requiring: .awaitingAnswer))
        #expect(awaiting.map(\.caseId) == ["V5", "V7"])
        let kloster = try view.caseload(CaseloadQuery(today: day(2024, 4, 5), area: "klostervaenget"))
        #expect(kloster.map(\.caseId) == ["V2", "V7"])

        let perLiaison = try view.caseloadSummary(by: .liaison, today: day(2024, 4, 5))
        #expect(perLiaison.map { "\($0.group) \($0.openCases) \($0.activePlacement) \($0.awaitingAnswer) \($0.inactive) \($0.consentExpiring)" }
                == ["vib-jc-01 1 0 0 1 1", "vib-lis-01 1 0 1 1 0", "vib-lis-02 3 1 2 0 0"])
        let perOrg = try view.caseloadSummary(by: .organisation, today: day(2024, 4, 5))
        #expect(perOrg.map { "\($0.group) \($0.openCases)" } == ["jobcenter-viborg 1", "secretariat-viborg 4"])
    }

    @Test func caseloadNowForOneLiaison() throws {
        // vib-lis-01 now: V2 (still waiting for R1, last event 6.3) and V6 (reopened 10.5, no consent since).
        let rows = try now.caseload(CaseloadQuery(today: day(2024, 5, 20), liaison: "vib-lis-01"))
        #expect(rows.map(\.caseId) == ["V2", "V6"])
        #expect(rows[0].flags == [.awaitingAnswer, .inactive])
        #expect(String(decoding: try JSONEncoder().encode(rows[0].flags), as: UTF8.self) == #"["awaiting-answer","inactive"]"#)
        #expect(CaseloadFlags(names: ["inactive", "consent-expiring"]) == [.inactive, .consentExpiring] && CaseloadFlags(names: ["idle"]) == nil)
        #expect(rows[1].flags == [] && rows[1].episodeOpenedOn == day(2024, 5, 10) && rows[1].openedOn == day(2023, 11, 1))
        #expect(rows[1].daysSinceActivity == 10 && rows[1].consentsInForce == 0)
        let unknown = #expect(throws: LogError.self) { try now.caseload(CaseloadQuery(today: day(2024, 5, 20), liaison: "vib-lis-99")) }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message.contains("vib-lis-99") == true)
    }

    @Test func suppressionForExport() throws {
        let table = try now.table(.referrals, q1)
        #expect(table.columns == ["period", "fromSector", "toSector", "kind", "made", "accepted", "rejected", "awaitingAnswer", "acceptancePercent"])
        let plain = table.rendered()
        let safe = table.rendered(suppression: .standard)
        let jcRow = try #require(safe.firstIndex { $0[2] == "jobcenter" })
        // made 5 stays, accepted 2 → <5, rejected 0 stays 0, awaiting 3 → <5, the rate from 2 answers → <5.
        #expect(safe[jcRow].suffix(5) == ["5", "<5", "0", "<5", "<5"])
        #expect(plain[jcRow].suffix(5) == ["5", "2", "0", "3", "100.0"])
        // With threshold 3 only 1 and 2 are hidden.
        let three = table.rendered(suppression: Suppression(threshold: 3))
        #expect(three[jcRow].suffix(5) == ["5", "<3", "0", "3", "<3"])
        #expect(Suppression.standard.render(0) == "0" && Suppression.standard.render(4) == "<5" && Suppression.standard.render(5) == "5")
    }

    @Test func asOfPositionBeforeAnyCaseHasNoCases() throws {
        let registryOnly = try w.projections.asOf(position: UInt64(Viborg.registry.count))
        #expect(try registryOnly.caseFlow(StatisticsQuery(year: 2024)!).isEmpty)
        #expect(try registryOnly.caseload(CaseloadQuery(today: day(2024, 1, 1))).isEmpty)
        #expect(try registryOnly.plans().count == 1)
        let beyond = #expect(throws: LogError.self) { try w.projections.asOf(position: 10_000) }
        #expect(beyond?.code == .invalidInput)
    }

    @Test func asOfTheHeadEqualsTheStoredProjections() throws {
        let head = try w.projections.asOf(position: try w.store.head().position)
        for kind in StatisticKind.allCases {
            let q = StatisticsQuery(from: month(2023, 11), through: month(2024, 6), groupBy: [.area, .organisation, .sector, .gender])
            #expect(try head.table(kind, q) == now.table(kind, q), "\(kind)")
        }
        #expect(try head.caseload(CaseloadQuery(today: day(2024, 5, 20))) == now.caseload(CaseloadQuery(today: day(2024, 5, 20))))
    }
}
