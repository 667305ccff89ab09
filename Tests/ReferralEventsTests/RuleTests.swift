import Foundation
import Testing
@testable import ReferralEvents

/// One refusal: events that are appended first, then the event the rule must refuse.
struct RuleCase: CustomTestStringConvertible, Sendable {
    let name: String
    let before: [ProposedEvent]
    let offending: ProposedEvent
    let rule: DomainRule
    /// A word the message must contain, so the user can tell what is wrong.
    let mentions: String
    var testDescription: String { name }
}

private typealias F = Fixture

private func hours(_ stream: StreamID, _ date: CalendarDate, _ h: Double, area: String? = nil) -> ProposedEvent {
    F.event(stream, .sharedHoursLogged(.init(date: date, hours: Hours(h)!, areaId: area, servedOrganisation: nil, activity: "Åben rådgivning")),
            at: Timestamp(date, hour: 16))
}

private let agreementStream = StreamID.agreement("A1")
private let agreement = F.event(agreementStream, .hoursAgreementMade(.init(
    agreementId: "A1", employee: "jobcenter-medarbejder-1", payingOrganisation: "jobcenter-fredericia",
    servedOrganisations: ["secretariat-fredericia"], servedAreas: ["fredericia-nord"], hoursPerWeek: Hours(15)!,
    validFrom: F.day(2024, 1, 1), validTo: F.day(2024, 12, 31))), at: F.at(2024, 1, 5))
private let started = F.event(.case("C1"), .placementStarted(.init(
    placementId: "P1", kind: .workPlacement, employer: "grocer-1", startDate: F.day(2024, 3, 4),
    plannedEndDate: F.day(2024, 3, 29), hoursPerWeek: Hours(20)!)), at: F.at(2024, 3, 4))
private let closed = F.event(.case("C1"), .caseClosed(.init(reason: "Fik job")), at: F.at(2024, 4, 1))

let ruleCases: [RuleCase] = [
    RuleCase(name: "referral without any consent", before: [F.opened()], offending: F.referral(),
             rule: .consentRequired, mentions: "consent"),
    RuleCase(name: "referral to a party the consent does not name", before: [F.opened(), F.consent()],
             offending: F.referral(to: "grocer-1"), rule: .consentRequired, mentions: "grocer-1"),
    RuleCase(name: "referral after the consent expired", before: [F.opened(), F.consent(until: F.day(2024, 2, 28))],
             offending: F.referral(), rule: .consentRequired, mentions: "consent"),
    RuleCase(name: "referral after the consent was withdrawn",
             before: [F.opened(), F.consent(), F.event(.case("C1"), .consentWithdrawn(.init(consentId: "K1", reason: "Ønsker ikke")), at: F.at(2024, 2, 10))],
             offending: F.referral(), rule: .consentRequired, mentions: "consent"),
    RuleCase(name: "consent lapses when the case closes and is not revived by reopening",
             before: [F.opened(), F.consent(), F.event(.case("C1"), .caseClosed(.init(reason: "Flyttet")), at: F.at(2024, 2, 10)),
                      F.event(.case("C1"), .caseReopened(.init(reason: "Flyttet tilbage")), at: F.at(2024, 2, 20))],
             offending: F.referral(), rule: .consentRequired, mentions: "consent"),
    RuleCase(name: "referral in a case that was never opened", before: [], offending: F.referral("NOPE"),
             rule: .caseMustExist, mentions: "NOPE"),
    RuleCase(name: "referral in a closed case", before: [F.opened(), F.consent(), closed], offending: F.referral(at: F.at(2024, 4, 2)),
             rule: .caseMustBeOpen, mentions: "closed"),
    RuleCase(name: "opening a case twice", before: [F.opened()], offending: F.opened(), rule: .caseAlreadyExists, mentions: "C1"),
    RuleCase(name: "placement ends without having started", before: [F.opened()],
             offending: F.event(.case("C1"), .placementEnded(.init(placementId: "P9", endDate: F.day(2024, 3, 5), outcome: .dropped))),
             rule: .placementNotStarted, mentions: "P9"),
    RuleCase(name: "placement ends twice",
             before: [F.opened(), started, F.event(.case("C1"), .placementEnded(.init(placementId: "P1", endDate: F.day(2024, 3, 29), outcome: .ordinaryJob)), at: F.at(2024, 3, 29))],
             offending: F.event(.case("C1"), .placementEnded(.init(placementId: "P1", endDate: F.day(2024, 3, 30), outcome: .dropped)), at: F.at(2024, 3, 30)),
             rule: .placementAlreadyEnded, mentions: "P1"),
    RuleCase(name: "placement ends before it started", before: [F.opened(), started],
             offending: F.event(.case("C1"), .placementEnded(.init(placementId: "P1", endDate: F.day(2024, 3, 1), outcome: .dropped)), at: F.at(2024, 3, 5)),
             rule: .dateOrder, mentions: "01.03.2024"),
    RuleCase(name: "zero hours logged", before: [agreement], offending: hours(agreementStream, F.day(2024, 2, 5), 0),
             rule: .hoursOutOfRange, mentions: "24"),
    RuleCase(name: "negative hours logged", before: [agreement], offending: hours(agreementStream, F.day(2024, 2, 5), -3),
             rule: .hoursOutOfRange, mentions: "24"),
    RuleCase(name: "more than 24 hours in one entry", before: [agreement], offending: hours(agreementStream, F.day(2024, 2, 5), 25),
             rule: .hoursOutOfRange, mentions: "24"),
    RuleCase(name: "more than 24 hours on one day across entries",
             before: [agreement, hours(agreementStream, F.day(2024, 2, 5), 20)],
             offending: hours(agreementStream, F.day(2024, 2, 5), 4.5), rule: .hoursOutOfRange, mentions: "24.5"),
    RuleCase(name: "hours outside the agreement's period", before: [agreement], offending: hours(agreementStream, F.day(2023, 12, 29), 3),
             rule: .dateOrder, mentions: "29.12.2023"),
    RuleCase(name: "hours for an unknown agreement", before: [], offending: hours(.agreement("ZZ"), F.day(2024, 2, 5), 3),
             rule: .unknownAgreement, mentions: "ZZ"),
    RuleCase(name: "placement of 200 hours a week", before: [F.opened()],
             offending: F.event(.case("C1"), .placementStarted(.init(placementId: "P2", kind: .internship, employer: "grocer-1", startDate: F.day(2024, 3, 4), plannedEndDate: nil, hoursPerWeek: Hours(200)!))),
             rule: .hoursOutOfRange, mentions: "168"),
    RuleCase(name: "occurred-at in the future", before: [],
             offending: F.opened(at: Timestamp(CalendarDate(year: 2024, month: 6, day: 2)!, hour: 12)),
             rule: .futureDate, mentions: "future"),
    RuleCase(name: "unknown organisation", before: [F.opened(), F.consent()], offending: F.referral(to: "jobcenter-atlantis"),
             rule: .unknownOrganisation, mentions: "jobcenter-atlantis"),
    RuleCase(name: "unknown area", before: [],
             offending: F.event(.case("C2"), .caseOpened(.init(resident: Pseudonym(high: 9, low: 9), areaId: "gellerup", organisationId: "secretariat-fredericia", liaisonId: "fre-lis-01", targetGroup: "jobparat", ageBand: .from18to24, gender: .male))),
             rule: .unknownArea, mentions: "gellerup"),
    RuleCase(name: "unknown liaison", before: [],
             offending: F.event(.case("C2"), .caseOpened(.init(resident: Pseudonym(high: 9, low: 9), areaId: "fredericia-nord", organisationId: "secretariat-fredericia", liaisonId: "nobody", targetGroup: "jobparat", ageBand: .from18to24, gender: .male))),
             rule: .unknownLiaison, mentions: "nobody"),
    RuleCase(name: "target group not in effect", before: [F.event(.registry, .targetGroupDefined(.init(code: "ny-gruppe", label: "Ny", effectiveFrom: F.day(2025, 1, 1))))],
             offending: F.event(.case("C2"), .caseOpened(.init(resident: Pseudonym(high: 9, low: 9), areaId: "fredericia-nord", organisationId: "secretariat-fredericia", liaisonId: "fre-lis-01", targetGroup: "ny-gruppe", ageBand: .from18to24, gender: .male))),
             rule: .unknownTargetGroup, mentions: "'ny-gruppe' is not in effect on 01.03.2024 (it is from 01.01.2025)"),
    RuleCase(name: "case event in the registry stream", before: [],
             offending: F.event(.registry, .caseClosed(.init(reason: "x"))), rule: .wrongStream, mentions: "case-"),
    RuleCase(name: "registering an organisation twice", before: [],
             offending: F.event(.registry, .organisationRegistered(.init(organisationId: "grocer-1", name: "Igen", kind: .employer, sector: .other, municipality: "Fredericia"))),
             rule: .alreadyRegistered, mentions: "grocer-1"),
    RuleCase(name: "answering an unknown referral", before: [F.opened()],
             offending: F.event(.case("C1"), .referralAnswered(.init(referralId: "R7", accepted: true, reason: ""))),
             rule: .unknownReferral, mentions: "R7"),
    RuleCase(name: "answering a referral twice",
             before: [F.opened(), F.consent(), F.referral(), F.event(.case("C1"), .referralAnswered(.init(referralId: "R1", accepted: true, reason: "")))],
             offending: F.event(.case("C1"), .referralAnswered(.init(referralId: "R1", accepted: false, reason: ""))),
             rule: .referralAlreadyAnswered, mentions: "R1"),
    RuleCase(name: "outcome while the case is open", before: [F.opened()],
             offending: F.event(.case("C1"), .outcomeRecorded(.init(monthsAfterClose: 3, status: .ordinaryJob))),
             rule: .caseMustBeClosed, mentions: "open"),
    RuleCase(name: "outcome at 2 months", before: [F.opened(), closed],
             offending: F.event(.case("C1"), .outcomeRecorded(.init(monthsAfterClose: 2, status: .ordinaryJob)), at: F.at(2024, 5, 1)),
             rule: .invalidValue, mentions: "1, 3, 6 or 12"),
    RuleCase(name: "retracting an event that does not exist", before: [F.opened()],
             offending: F.event(.case("C1"), .eventRetracted(.init(retractedEventId: UUID(), reason: "Fejl"))),
             rule: .unknownEvent, mentions: "retract"),
    RuleCase(name: "closing without a reason", before: [F.opened()],
             offending: F.event(.case("C1"), .caseClosed(.init(reason: "  "))), rule: .invalidValue, mentions: "the reason is empty; say why"),
    RuleCase(name: "an organisation without a name", before: [],
             offending: F.event(.registry, .organisationRegistered(.init(organisationId: "grocer-2", name: " ", kind: .employer, sector: .other, municipality: "Fredericia"))),
             rule: .invalidValue, mentions: "the name is empty; give one"),
]

@Suite struct RuleTests {
    @Test(arguments: ruleCases)
    func refusesAndWritesNothing(_ c: RuleCase) throws {
        let f = try Fixture()
        if !c.before.isEmpty { try f.store.append(c.before) }
        let head = try f.store.head()
        let e = #expect(throws: LogError.self) { try f.store.append(c.offending) }
        #expect(e?.code == .ruleViolation)
        #expect(e?.rule == c.rule)
        #expect(e?.eventId == c.offending.id)
        #expect(e?.message.contains(c.mentions) == true, "message was: \(e?.message ?? "")")
        #expect(try f.store.head() == head)
    }

    @Test func aValidCaseLifecycleIsAccepted() throws {
        let f = try Fixture()
        let c = StreamID.case("C1")
        try f.store.append([
            F.opened(), F.consent(), F.referral(),
            F.event(c, .referralAnswered(.init(referralId: "R1", accepted: true, reason: "Velkommen")), at: F.at(2024, 3, 2)),
            F.event(c, .jobcenterContactHeld(.init(contactKind: .first, jobcenter: "jobcenter-fredericia", referralId: "R1")), at: F.at(2024, 3, 3)),
            started,
            F.event(c, .placementEnded(.init(placementId: "P1", endDate: F.day(2024, 3, 29), outcome: .ordinaryJob)), at: F.at(2024, 3, 29)),
            closed,
            F.event(c, .outcomeRecorded(.init(monthsAfterClose: 1, status: .ordinaryJob)), at: F.at(2024, 5, 1)),
        ])
        #expect(try f.store.streamVersion(c) == 9)
    }

    @Test func retractingAConsentTakesItsPermissionAway() throws {
        let f = try Fixture()
        let consent = F.consent()
        try f.store.append([F.opened(), consent])
        try f.store.append(F.event(.case("C1"), .eventRetracted(.init(retractedEventId: consent.id, reason: "Registreret på forkert sag"))))
        #expect(try f.store.isRetracted(consent.id))
        let e = #expect(throws: LogError.self) { try f.store.append(F.referral()) }
        #expect(e?.rule == .consentRequired)
        let twice = #expect(throws: LogError.self) {
            try f.store.append(F.event(.case("C1"), .eventRetracted(.init(retractedEventId: consent.id, reason: "Igen"))))
        }
        #expect(twice?.rule == .alreadyRetracted)
    }

    @Test func retractingAConsentThatALaterReferralReliedOnIsAccepted() throws {
        let f = try Fixture()
        let consent = F.consent()
        try f.store.append([F.opened(), consent, F.referral()])
        // Replaying the case without the consent refuses the referral; the log keeps it anyway.
        try f.store.append(F.event(.case("C1"), .eventRetracted(.init(retractedEventId: consent.id, reason: "Samtykket var givet til en anden sag"))))
        #expect(try f.store.isRetracted(consent.id))
        let e = #expect(throws: LogError.self) { try f.store.append(F.referral(id: "R2")) }
        #expect(e?.rule == .consentRequired)
        #expect(try f.store.verify().isValid)
    }

    @Test func retractingAClosureReopensTheCaseForTheRules() throws {
        let f = try Fixture()
        let close = F.event(.case("C1"), .caseClosed(.init(reason: "Fejlagtigt lukket")), at: F.at(2024, 2, 5))
        try f.store.append([F.opened(), close])
        try f.store.append(F.event(.case("C1"), .eventRetracted(.init(retractedEventId: close.id, reason: "Sagen var ikke afsluttet"))))
        try f.store.append(F.consent(at: F.at(2024, 2, 6)))
        try f.store.append(F.referral())
    }

    /// A retracted assignment, contact or outcome leaves the case's rule row exactly as if the
    /// event had never been appended (their checks change no rule state, so the stream is not
    /// replayed for them): compared byte for byte with a store that never saw the event.
    @Test(arguments: ["case-assigned", "jobcenter-contact-held", "outcome-recorded"])
    func retractingAnEventThatChangedNoRuleStateLeavesTheRowAsWithoutIt(type: String) throws {
        let c = StreamID.case("C1")
        let lifecycle = [
            F.opened(), F.consent(), F.referral(),
            F.event(c, .referralAnswered(.init(referralId: "R1", accepted: true, reason: "Velkommen")), at: F.at(2024, 3, 2)),
            started,
            F.event(c, .placementEnded(.init(placementId: "P1", endDate: F.day(2024, 3, 29), outcome: .ordinaryJob)), at: F.at(2024, 3, 29)),
            closed,
        ]
        let extra: ProposedEvent
        var at = lifecycle.count  // where the extra event goes
        switch type {
        case "case-assigned":
            extra = F.event(c, .caseAssigned(.init(liaisonId: "fre-lis-02", reason: "Ferie")), at: F.at(2024, 3, 2))
            at = 4
        case "jobcenter-contact-held":
            extra = F.event(c, .jobcenterContactHeld(.init(contactKind: .first, jobcenter: "jobcenter-fredericia", referralId: "R1")), at: F.at(2024, 3, 3))
            at = 4
        default:
            extra = F.event(c, .outcomeRecorded(.init(monthsAfterClose: 1, status: .ordinaryJob)), at: F.at(2024, 5, 1))
        }
        func caseRow(_ store: EventStore) throws -> [UInt8]? {
            try store.env.read { txn in try txn.get(store.streams, StreamIndex.caseRowKey(c)).map { Array($0) } }
        }
        let with = try Fixture()
        var events = lifecycle
        events.insert(extra, at: at)
        try with.store.append(events)
        try with.store.append(F.event(c, .eventRetracted(.init(retractedEventId: extra.id, reason: "Fejl")), at: F.at(2024, 5, 2)))
        #expect(try with.store.isRetracted(extra.id))
        let without = try Fixture()
        try without.store.append(lifecycle)
        let row = try #require(try caseRow(with.store))
        #expect(row == (try caseRow(without.store)))
        // And the case goes on under the same rules: it can be reopened, then a new consent given.
        let reopen = F.event(c, .caseReopened(.init(reason: "Mistede jobbet")), at: F.at(2024, 5, 3))
        try with.store.append(reopen)
        try without.store.append(reopen)
        #expect(try caseRow(with.store) == (try caseRow(without.store)))
    }

    /// A retracted hour log is taken off its day (only that day's logs are checked again):
    /// the agreement's rows end as in a store that never had the log, byte for byte, and the
    /// 24-hour limit counts the day without it.
    @Test func retractingAnHourLogTakesItOffItsDay() throws {
        let a = StreamID.agreement("A1")
        let (day1, day2) = (F.day(2024, 3, 4), F.day(2024, 3, 5))
        func log(_ day: CalendarDate, _ hundredths: Int32) -> ProposedEvent {
            F.event(a, .sharedHoursLogged(.init(date: day, hours: Hours(hundredths: hundredths), areaId: nil,
                                                servedOrganisation: nil, activity: "Jobcafé")), at: F.at(2024, 3, 6))
        }
        let made = F.event(a, .hoursAgreementMade(.init(agreementId: "A1", employee: "MK", payingOrganisation: "jobcenter-fredericia",
                                                        servedOrganisations: ["secretariat-fredericia"], servedAreas: [],
                                                        hoursPerWeek: Hours(hundredths: 3700), validFrom: F.day(2024, 1, 1), validTo: nil)),
                           at: F.at(2024, 1, 3))
        let (l1, l2, l3, l4) = (log(day1, 500), log(day1, 300), log(day1, 1000), log(day2, 700))
        func rows(_ store: EventStore) throws -> [[UInt8]] {
            try store.env.read { txn in
                var out: [[UInt8]] = []
                for prefix in [RuleKey.agreement(a), RuleKey.dailyHoursPrefix(a)] {
                    try txn.forEach(store.rules, from: prefix) { key, value in
                        guard key.starts(with: prefix) else { return false }
                        out.append(Array(key) + [0xFF] + Array(value))
                        return true
                    }
                }
                return out
            }
        }
        let with = try Fixture()
        try with.store.append([made, l1, l2, l3, l4])
        try with.store.append(F.event(a, .eventRetracted(.init(retractedEventId: l2.id, reason: "Forkert dag")), at: F.at(2024, 3, 7)))
        // The day's only log: its row goes.
        try with.store.append(F.event(a, .eventRetracted(.init(retractedEventId: l4.id, reason: "Aflyst")), at: F.at(2024, 3, 7)))
        let without = try Fixture()
        try without.store.append([made, l1, l3])
        #expect(try rows(with.store) == (try rows(without.store)))
        #expect(try rows(with.store).count == 2, "the agreement and day 1")

        // 15 hours stand on day 1: 9 more fit, 10 do not.
        let tooMany = #expect(throws: LogError.self) { try with.store.append(log(day1, 1000)) }
        #expect(tooMany?.rule == .hoursOutOfRange)
        try with.store.append(log(day1, 900))
        try with.store.append(log(day2, 2400))
    }

    /// Ids in a rule row are compared as bytes: the same answer as comparing the strings,
    /// for ASCII, Danish letters, the empty id and ids that differ only in length or case.
    @Test func rowIDsCompareByTheirUTF8() {
        let ids = ["", "R1", "R10", "r1", "K-Søren", "K-Soren", "Ærø-2024-0001", String(repeating: "x", count: 300)]
        for a in ids {
            for b in ids {
                let stored = Array(b.utf8)
                let equal = stored.withUnsafeBytes { CaseRow.utf8(of: a, equals: $0) }
                #expect(equal == (a == b), "\(a) against \(b)")
            }
        }
    }

    @Test func retractionMustStandInTheRetractedEventsStream() throws {
        let f = try Fixture()
        let open = F.opened()
        try f.store.append([open, F.opened("C2")])
        let e = #expect(throws: LogError.self) {
            try f.store.append(F.event(.case("C2"), .eventRetracted(.init(retractedEventId: open.id, reason: "Fejl"))))
        }
        #expect(e?.rule == .wrongStream)
    }
}
