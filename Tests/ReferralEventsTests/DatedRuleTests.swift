import Foundation
import Testing
@testable import ReferralEvents

private typealias F = Fixture

private let c = StreamID.case("C1")
private func contact(_ kind: ContactKind, at: Timestamp) -> ProposedEvent {
    F.event(c, .jobcenterContactHeld(.init(contactKind: kind, jobcenter: "jobcenter-fredericia")), at: at)
}
private func withdrawn(_ id: String = "K1", in stream: StreamID = c, at: Timestamp) -> ProposedEvent {
    F.event(stream, .consentWithdrawn(.init(consentId: id, reason: "Ønsker ikke")), at: at)
}
private func close(in stream: StreamID = c, at: Timestamp) -> ProposedEvent { F.event(stream, .caseClosed(.init(reason: "Fik job")), at: at) }
private func reopen(in stream: StreamID = c, at: Timestamp) -> ProposedEvent { F.event(stream, .caseReopened(.init(reason: "Mistede jobbet")), at: at) }
private func answer(_ id: String = "R1", at: Timestamp) -> ProposedEvent {
    F.event(c, .referralAnswered(.init(referralId: id, accepted: true, reason: "")), at: at)
}
private func outcome(_ months: Int, _ status: OutcomeStatus, at: Timestamp) -> ProposedEvent {
    F.event(c, .outcomeRecorded(.init(monthsAfterClose: months, status: status)), at: at)
}
private func targetGroup(_ code: String, from: CalendarDate, to: CalendarDate?) -> ProposedEvent {
    F.event(.registry, .targetGroupDefined(.init(code: code, label: "Ny gruppe", effectiveFrom: from, effectiveTo: to)), at: F.at(2024, 3, 1))
}
private let placement = F.event(c, .placementStarted(.init(placementId: "P1", kind: .workPlacement, employer: "grocer-1", startDate: F.day(2024, 3, 4),
                                                          plannedEndDate: F.day(2024, 3, 29), hoursPerWeek: Hours(20)!)), at: F.at(2024, 3, 4))
private func placementEnd(_ day: CalendarDate, at: Timestamp = F.at(2024, 6, 1)) -> ProposedEvent {
    F.event(c, .placementEnded(.init(placementId: "P1", endDate: day, outcome: .ordinaryJob)), at: at)
}

/// The rules that read days and the duplicate checks that came with layout 5, and the close's
/// lapse that came with layout 6, on a new store (rules boundaries 1). The fixture's clock says 01.06.2024; the case opens 01.02.2024.
let datedRuleCases: [RuleCase] = [
    RuleCase(name: "referral dated before the consent was given", before: [F.opened(), F.consent(at: F.at(2024, 3, 1))],
             offending: F.referral(at: F.at(2024, 2, 15)), rule: .consentRequired, mentions: "on 15.02.2024"),
    RuleCase(name: "referral dated on the day the consent was withdrawn",
             before: [F.opened(), F.consent(), withdrawn(at: F.at(2024, 3, 10))],
             offending: F.referral(at: F.at(2024, 3, 10)), rule: .consentRequired, mentions: "on 10.03.2024"),
    // A close recorded after a withdrawal but dated before it: the consent lapsed on the close's
    // day, so after a reopening it does not cover the days before its withdrawal (layout 6).
    RuleCase(name: "referral after a reopening, under a consent withdrawn after a close dated before the withdrawal",
             before: [F.opened(), F.consent(), withdrawn(at: F.at(2024, 3, 20)), close(at: F.at(2024, 3, 10)), reopen(at: F.at(2024, 3, 12))],
             offending: F.referral(at: F.at(2024, 3, 15)), rule: .consentRequired, mentions: "on 15.03.2024"),
    RuleCase(name: "close dated before the case was opened", before: [F.opened()], offending: close(at: F.at(2024, 1, 31)),
             rule: .dateOrder, mentions: "dated 31.01.2024, before case 'C1' was opened (01.02.2024)"),
    RuleCase(name: "referral dated before the case was opened", before: [F.opened(), F.consent(at: F.at(2024, 2, 1))],
             offending: F.referral(at: F.at(2024, 1, 20)), rule: .dateOrder, mentions: "before case 'C1' was opened"),
    RuleCase(name: "answer dated before the referral was made", before: [F.opened(), F.consent(), F.referral()],
             offending: answer(at: F.at(2024, 2, 20)), rule: .dateOrder, mentions: "before it was made (01.03.2024)"),
    RuleCase(name: "withdrawal dated before the consent was given", before: [F.opened(), F.consent(at: F.at(2024, 3, 1))],
             offending: withdrawn(at: F.at(2024, 2, 20)), rule: .dateOrder, mentions: "before it was given (01.03.2024)"),
    RuleCase(name: "reopening dated before the close", before: [F.opened(), close(at: F.at(2024, 4, 1))],
             offending: reopen(at: F.at(2024, 3, 15)), rule: .dateOrder, mentions: "before it closed (01.04.2024)"),
    RuleCase(name: "placement end in the future", before: [F.opened(), placement], offending: placementEnd(F.day(2024, 6, 10)),
             rule: .futureDate, mentions: "10.06.2024, in the future"),
    RuleCase(name: "a second first jobcenter contact", before: [F.opened(), contact(.first, at: F.at(2024, 3, 3))],
             offending: contact(.first, at: F.at(2024, 3, 10)), rule: .firstContactAlreadyHeld, mentions: "follow-up"),
    RuleCase(name: "an outcome recorded twice for one mark",
             before: [F.opened(), close(at: F.at(2024, 3, 1)), outcome(1, .ordinaryJob, at: F.at(2024, 4, 1))],
             offending: outcome(1, .publicSupport, at: F.at(2024, 4, 2)), rule: .outcomeAlreadyRecorded, mentions: "1 months after close"),
    RuleCase(name: "a target group period overlapping one of the same code", before: [],
             offending: targetGroup("jobparat", from: F.day(2024, 1, 1), to: nil), rule: .targetGroupOverlap, mentions: "from 01.01.2020 on"),
    RuleCase(name: "a target group period ending inside one of the same code",
             before: [targetGroup("ny", from: F.day(2024, 3, 1), to: F.day(2024, 12, 31))],
             offending: targetGroup("ny", from: F.day(2023, 1, 1), to: F.day(2024, 3, 1)), rule: .targetGroupOverlap, mentions: "01.03.2024"),
]

@Suite struct DatedRuleTests {
    @Test(arguments: datedRuleCases)
    func refusesAndWritesNothing(_ rc: RuleCase) throws {
        let f = try Fixture()
        if !rc.before.isEmpty { try f.store.append(rc.before) }
        let head = try f.store.head()
        let e = #expect(throws: LogError.self) { try f.store.append(rc.offending) }
        #expect(e?.code == .ruleViolation)
        #expect(e?.rule == rc.rule)
        #expect(e?.eventId == rc.offending.id)
        #expect(e?.message.contains(rc.mentions) == true, "message was: \(e?.message ?? "")")
        #expect(try f.store.head() == head)
        #expect(try f.store.verifyRules().isValid)
    }

    /// What the same rules allow: a referral registered late, dated when the consent held;
    /// events on the very days the rules compare with; follow-up contacts; an outcome again
    /// after the case reopened and closed again; a first contact again after the first was
    /// retracted; a target group period after the last one, or over a retracted one.
    @Test func theDatedRulesAllowWhatHeldOnTheDay() throws {
        let f = try Fixture()
        try f.store.append([F.opened(), F.consent(at: F.at(2024, 2, 2)), withdrawn(at: F.at(2024, 4, 1))])
        // Late-registered, dated before the withdrawal: the consent held then.
        try f.store.append(F.referral(at: F.at(2024, 3, 15)))
        // On the day it was given.
        try f.store.append([F.consent(id: "K2", at: F.at(2024, 4, 2)), F.referral(id: "R2", at: F.at(2024, 4, 2))])
        try f.store.append(answer("R2", at: F.at(2024, 4, 2)))
        let first = contact(.first, at: F.at(2024, 4, 3))
        try f.store.append([first, contact(.followUp, at: F.at(2024, 4, 10)), contact(.followUp, at: F.at(2024, 4, 17))])
        try f.store.append(F.event(c, .eventRetracted(.init(retractedEventId: first.id, reason: "Forkert dag")), at: F.at(2024, 4, 18)))
        try f.store.append(contact(.first, at: F.at(2024, 4, 4)))
        try f.store.append([placement, placementEnd(F.day(2024, 6, 1))])
        try f.store.append([close(at: F.at(2024, 4, 20)), outcome(1, .ordinaryJob, at: F.at(2024, 5, 20)), reopen(at: F.at(2024, 4, 20))])
        try f.store.append([close(at: F.at(2024, 5, 1)), outcome(1, .education, at: F.at(2024, 5, 30)), outcome(3, .education, at: F.at(2024, 5, 31))])
        let old = targetGroup("ny", from: F.day(2024, 1, 1), to: F.day(2024, 6, 30))
        try f.store.append([old, targetGroup("ny", from: F.day(2024, 7, 1), to: nil)])
        try f.store.append(F.event(.registry, .eventRetracted(.init(retractedEventId: old.id, reason: "Forkert periode")), at: F.at(2024, 3, 2)))
        try f.store.append(targetGroup("ny", from: F.day(2024, 2, 1), to: F.day(2024, 6, 30)))
        #expect(try f.store.verifyRules().isValid)
    }

    /// The consent gate for personal data reads the days too: "valid today".
    @Test func theConsentStateShowsTheDays() throws {
        let f = try Fixture()
        try f.store.append([F.opened(), F.consent(at: F.at(2024, 2, 2)), F.consent(id: "K2", at: F.at(2024, 2, 3)), withdrawn(at: F.at(2024, 4, 1))])
        let state = try #require(try f.store.consentState(ofCase: "C1"))
        let k1 = try #require(state.consents.first)
        #expect(k1.givenOn == F.day(2024, 2, 2) && k1.lapsedOn == F.day(2024, 4, 1) && k1.lapsed)
        #expect(k1.covers(party: "jobcenter-fredericia", purpose: .informationSharing, on: F.day(2024, 3, 31)))
        #expect(!k1.covers(party: "jobcenter-fredericia", purpose: .informationSharing, on: F.day(2024, 4, 1)))
        #expect(!k1.covers(party: "jobcenter-fredericia", purpose: .informationSharing, on: F.day(2024, 2, 1)))
        #expect(state.consents.last?.covers(party: "jobcenter-fredericia", purpose: .informationSharing, on: F.today.date) == true)
        try f.store.append(close(at: F.at(2024, 5, 1)))
        let closed = try #require(try f.store.consentState(ofCase: "C1"))
        #expect(closed.consents.map(\.lapsedOn) == [F.day(2024, 4, 1), F.day(2024, 5, 1)])
        #expect(!closed.consents.contains { $0.covers(party: "jobcenter-fredericia", purpose: .informationSharing, on: F.today.date) })
    }

    /// A store of layout 4 whose log holds events the new rules refuse (accepted when they
    /// were appended) moves to layout 6 when opened: its rules boundaries are after them, they
    /// stay, `verifyRules` passes, a retraction's replay of the case keeps them, and new
    /// events breaking the same rules are refused.
    @Test func eventsBeforeTheBoundaryKeepTheRulesTheyWereAcceptedUnder() throws {
        let old = try Fixture()
        // Checked as a layout-4 build checked them: without the new rules.
        try old.store.env.write { txn in try old.store.setRulesBoundaries(txn, .noEvent) }
        let early = F.referral(at: F.at(2024, 2, 15))
        let start = placement
        try old.store.append([F.opened(), F.consent(at: F.at(2024, 3, 1)), early,
                              contact(.first, at: F.at(2024, 3, 3)), contact(.first, at: F.at(2024, 3, 4)),
                              start, placementEnd(F.day(2024, 6, 20)), answer(at: F.at(2024, 2, 10))])
        let head = try old.store.head()
        try old.store.env.write { txn in
            let key = StreamIndex.caseRowKey(c)
            try txn.put(old.store.streams, key, try StreamIndexTests.layout4Row(try #require(try txn.get(old.store.streams, key))))
            try txn.delete(old.store.meta, EventStore.datedRulesFromKey)
            try txn.delete(old.store.meta, EventStore.closeLapseFromKey)
            try txn.put(old.store.meta, Array("format".utf8), [4])
        }
        let store = try EventStore(at: old.directory, durable: false, clock: { Fixture.today })
        #expect(try store.env.read { txn in try txn.get(store.meta, Array("format".utf8)).map(Array.init) } == [6])
        #expect(try store.env.read { txn in try store.rulesBoundaries(txn) } == .after(head.position))
        #expect(try store.head() == head)
        #expect(try store.verify().isValid)
        #expect(try store.verifyRules().isValid)
        // A build of layout 4 would now refuse the store, as with every layout before.

        // New events breaking the same rules are refused.
        let again = #expect(throws: LogError.self) { try store.append(contact(.first, at: F.at(2024, 3, 6))) }
        #expect(again?.rule == .firstContactAlreadyHeld)
        let before = #expect(throws: LogError.self) { try store.append(F.referral(id: "R2", at: F.at(2024, 2, 20))) }
        #expect(before?.rule == .consentRequired)
        let early2 = #expect(throws: LogError.self) { try store.append(F.referral(id: "R3", at: F.at(2024, 1, 25))) }
        #expect(early2?.rule == .dateOrder)

        // Retracting the placement replays the case: the referral dated before its consent
        // and its answer dated before it are replayed under the rules they were accepted
        // under, so both are still there.
        try store.append(F.event(c, .eventRetracted(.init(retractedEventId: start.id, reason: "Forkert sag")), at: F.at(2024, 3, 7)))
        let twice = #expect(throws: LogError.self) { try store.append(F.referral(at: F.at(2024, 3, 8))) }
        #expect(twice?.rule == .alreadyRegistered)
        let answered = #expect(throws: LogError.self) { try store.append(answer(at: F.at(2024, 3, 8))) }
        #expect(answered?.rule == .referralAlreadyAnswered)
        let stillFirst = #expect(throws: LogError.self) { try store.append(contact(.first, at: F.at(2024, 3, 8))) }
        #expect(stillFirst?.rule == .firstContactAlreadyHeld)
        #expect(try store.verifyRules().isValid)
        // A rebuild keeps the boundary and gives the same rows.
        try store.rebuildRules()
        #expect(try store.verifyRules().isValid)
        #expect(try store.env.read { txn in try store.rulesBoundaries(txn) } == .after(head.position))
    }

    /// A store of layout 5 whose log holds a close recorded after a later-dated withdrawal,
    /// a reopening, and a referral the consent covered only because it kept its withdrawal's
    /// day (accepted under layout 5's rules), moves to layout 6 when opened: only the
    /// close-lapse boundary moves after its log, so the referral stays through `verifyRules`,
    /// `rebuildRules` and a retraction's replay of the case, while the same sequence appended
    /// now is refused.
    @Test func closesBeforeTheLapseBoundaryKeepTheWithdrawalsDay() throws {
        let old = try Fixture()
        // As a layout-5 build appended them: the dated rules bind, the close's lapse does not.
        try old.store.env.write { txn in try old.store.setRulesBoundaries(txn, RulesBoundaries(datedRules: 1, closeLapse: .max)) }
        func sequence(_ stream: StreamID) -> [ProposedEvent] {
            [F.opened(String(stream.entityID)), F.consent(String(stream.entityID)), withdrawn(in: stream, at: F.at(2024, 3, 20)),
             close(in: stream, at: F.at(2024, 3, 10)), reopen(in: stream, at: F.at(2024, 3, 12))]
        }
        let late = F.referral(at: F.at(2024, 3, 15))
        let first = contact(.first, at: F.at(2024, 3, 16))
        try old.store.append(sequence(c) + [late, first])
        let head = try old.store.head()
        try old.store.env.write { txn in
            try txn.delete(old.store.meta, EventStore.closeLapseFromKey)
            try txn.put(old.store.meta, Array("format".utf8), [5])
        }
        let store = try EventStore(at: old.directory, durable: false, clock: { Fixture.today })
        #expect(try store.env.read { txn in try txn.get(store.meta, Array("format".utf8)).map(Array.init) } == [6])
        #expect(try store.env.read { txn in try store.rulesBoundaries(txn) } == RulesBoundaries(datedRules: 1, closeLapse: head.position + 1))
        #expect(store.movedFromLayout == 5)
        #expect(try EventStore(at: old.directory, durable: false).movedFromLayout == nil)
        #expect(try store.verify().isValid)
        #expect(try store.verifyRules().isValid)
        try store.rebuildRules()
        #expect(try store.verifyRules().isValid)

        // The same sequence appended now: the close lapses the consent on its own day.
        let c2 = StreamID.case("C2")
        try store.append(sequence(c2))
        let refused = #expect(throws: LogError.self) { try store.append(F.referral("C2", at: F.at(2024, 3, 15))) }
        #expect(refused?.rule == .consentRequired)
        let state = try #require(try store.consentState(ofCase: "C2"))
        #expect(state.consents.map(\.lapsedOn) == [F.day(2024, 3, 10)])

        // Retracting the first contact replays C1, each event at its position: the close
        // keeps the withdrawal's day, so the referral is still there (made once, answered once).
        try store.append(F.event(c, .eventRetracted(.init(retractedEventId: first.id, reason: "Forkert sag")), at: F.at(2024, 3, 17)))
        #expect(try store.consentState(ofCase: "C1")?.consents.map(\.lapsedOn) == [F.day(2024, 3, 20)])
        let twice = #expect(throws: LogError.self) { try store.append(F.referral(at: F.at(2024, 3, 18))) }
        #expect(twice?.rule == .alreadyRegistered)
        try store.append(answer(at: F.at(2024, 3, 18)))
        #expect(try store.verifyRules().isValid)
    }

    @Test func aNewStoreStartsAtLayout6WithTheBoundariesAt1() throws {
        let f = try Fixture(seed: false)
        #expect(try f.store.env.read { txn in try txn.get(f.store.meta, Array("format".utf8)).map(Array.init) } == [6])
        #expect(f.store.movedFromLayout == nil)
        #expect(try f.store.env.read { txn in try txn.get(f.store.meta, EventStore.datedRulesFromKey).map(Array.init) } == bigEndianKey(1))
        #expect(try f.store.env.read { txn in try txn.get(f.store.meta, EventStore.closeLapseFromKey).map(Array.init) } == bigEndianKey(1))
    }
}

/// A history moved from an older store into a new one (`referral import --as-recorded`) is
/// judged by the rules it was recorded under; the boundary is set after it, so new events
/// meet every rule.
struct ImportAsRecordedTests {
    static let history = Fixture.registry + [Fixture.opened("C1"), contact(.first, at: F.at(2024, 3, 3)), contact(.first, at: F.at(2024, 3, 10))]

    @Test func aHistoryTheNewRulesWouldRefuseIsImportedAsRecordedIntoAnEmptyStore() throws {
        let plain = try Fixture(seed: false)
        let refused = try #require(throws: LogError.self) { try plain.store.appendChunked { try $0(Self.history) } }
        #expect(refused.rule == .firstContactAlreadyHeld)
        #expect(try plain.store.head().position == 0)

        let f = try Fixture(seed: false)
        let result = try f.store.appendChunked(asRecorded: true) { try $0(Self.history) }
        #expect(result.written == Self.history.count)
        #expect(try f.store.env.read { try f.store.rulesBoundaries($0) } == .after(UInt64(Self.history.count)))
        #expect(try f.store.verifyRules().isValid)
        let third = try #require(throws: LogError.self) { try f.store.append([contact(.first, at: F.at(2024, 3, 20))]) }
        #expect(third.rule == .firstContactAlreadyHeld)
    }

    @Test func onlyIntoAnEmptyStore() throws {
        let f = try Fixture()
        let error = try #require(throws: LogError.self) { try f.store.appendChunked(asRecorded: true) { try $0([Fixture.opened("C1")]) } }
        #expect(error.code == .invalidInput && error.message.contains("only into an empty store"))
        #expect(try f.store.env.read { try f.store.rulesBoundaries($0) } == .everyEvent)
    }
}
