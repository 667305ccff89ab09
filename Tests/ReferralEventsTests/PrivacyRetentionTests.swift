import Foundation
import Testing
@testable import ReferralEvents

/// Retention: a policy file of deadlines from case close, a dry run that lists, a real run
/// that erases by key destruction and records why.
@Suite struct PrivacyRetentionTests {
    let p: PrivacyFixture
    init() throws { p = try PrivacyFixture() }

    static let fiveYears = #"{"rules":[{"match":{"targetGroup":"*"},"years":5,"kle":"P1825D"}]}"#

    func policy(_ json: String) throws -> RetentionPolicy { try RetentionPolicy(json: Data(json.utf8)) }

    static let dan = PersonalDetails(cpr: "0707074321", name: "Dan Holm")

    /// Anne: closed 01.03.2024. Bo: closed 29.02.2024 (a leap day). Carl: open.
    /// Dan: closed 15.03.2024, erasure refused.
    func seed() throws -> (anne: Pseudonym, bo: Pseudonym, carl: Pseudonym, dan: Pseudonym) {
        let anne = try p.openCase("A1", PrivacyFixture.anne, at: Fixture.at(2024, 1, 10))
        try p.close("A1", at: Fixture.at(2024, 3, 1))
        let bo = try p.openCase("B1", PrivacyFixture.bo, organisation: "jobcenter-fredericia", liaison: "fre-lis-02", at: Fixture.at(2024, 1, 10))
        try p.close("B1", at: Fixture.at(2024, 2, 29))
        let carl = try p.openCase("C1", PrivacyFixture.carl, at: Fixture.at(2024, 1, 10))
        let dan = try p.openCase("D1", Self.dan, at: Fixture.at(2024, 1, 10))
        try p.close("D1", at: Fixture.at(2024, 3, 15))
        try p.dp.refuseErasure(resident: dan, reason: "Verserende klagesag", legalBasis: "Arkivloven § 4", by: PrivacyFixture.dpo)
        return (anne, bo, carl, dan)
    }

    @Test func aDryRunListsWhatIsDueAndChangesNothing() throws {
        let r = try seed()
        let head = try p.store.head()
        // 01.03.2029 is five years after Anne's close; Bo's leap-day close falls due on 28.02.2029.
        let plan = try p.dp.retentionPlan(policy: try policy(Self.fiveYears), asOf: Fixture.day(2029, 3, 1))
        #expect(plan.due.map(\.resident) == [r.anne, r.bo].sorted())
        #expect(Dictionary(uniqueKeysWithValues: plan.due.map { ($0.resident, $0.dueOn) }) == [r.anne: Fixture.day(2029, 3, 1), r.bo: Fixture.day(2029, 2, 28)])
        #expect(plan.due.flatMap(\.cases).allSatisfy { $0.kle == "P1825D" && $0.rule == 1 && $0.period == "5 years" })
        #expect(plan.held.map(\.resident) == [r.dan])
        #expect(plan.withOpenCases == 1)
        #expect(plan.notYetDue.isEmpty)
        // One day earlier only Bo is due; Anne waits.
        let earlier = try p.dp.retentionPlan(policy: try policy(Self.fiveYears), asOf: Fixture.day(2029, 2, 28))
        #expect(earlier.due.map(\.resident) == [r.bo])
        #expect(earlier.notYetDue.map(\.resident) == [r.anne])
        #expect(try p.store.head() == head)
        #expect(try p.dp.keys.hasKey(r.anne) && p.dp.keys.hasKey(r.bo))
    }

    @Test func aRealRunErasesWhatIsDueAndRecordsThePolicy() throws {
        let r = try seed()
        let head = try p.store.head()
        let (plan, erased) = try p.dp.applyRetention(policy: try policy(Self.fiveYears), asOf: Fixture.day(2029, 3, 1), by: PrivacyFixture.dpo)
        #expect(plan.due.count == 2)
        #expect(Set(erased.map(\.resident)) == [r.anne, r.bo])
        #expect(erased.allSatisfy { $0.keyDestroyed })
        #expect(try p.store.head().position == head.position + 2)
        let event = try #require(try p.store.readStream(.resident(r.anne)).first)
        guard case .residentErased(let e) = event.payload else { Issue.record("expected resident-erased, got \(event.payload.type.name)"); return }
        #expect(e.reason.contains("deadline 01.03.2029 passed") && e.reason.contains("rule 1"))
        #expect(e.legalBasis.contains("KLE P1825D"))
        #expect(try p.dp.keys.hasKey(r.anne) == false && p.dp.keys.hasKey(r.bo) == false)
        #expect(try p.dp.keys.hasKey(r.carl) && p.dp.keys.hasKey(r.dan))
        #expect(try p.store.verify().isValid)
        // Running it again finds nothing more to do.
        let again = try p.dp.retentionPlan(policy: try policy(Self.fiveYears), asOf: Fixture.day(2029, 3, 1))
        #expect(again.due.isEmpty)
        #expect(again.alreadyErased == 2)
    }

    @Test func theFirstMatchingRuleDecidesAndUnmatchedCasesAreKeptAndListed() throws {
        let r = try seed()
        let json = #"{"rules":[{"match":{"sector":"jobcenter"},"years":2,"kle":"P1825D"},{"match":{"organisation":"boligkontoret"},"years":1,"kle":"X"}]}"#
        let plan = try p.dp.retentionPlan(policy: try policy(json), asOf: Fixture.day(2026, 3, 1))
        // Bo's case is held by the jobcenter: 29.02.2024 + 2 years = 28.02.2026. The
        // secretariat's cases match no rule and are kept.
        #expect(plan.due.map(\.resident) == [r.bo])
        #expect(plan.due.first?.dueOn == Fixture.day(2026, 2, 28))
        #expect(plan.unmatchedCases == ["A1", "D1"])
        #expect(plan.held.isEmpty)
    }

    @Test func aResidentIsDueOnlyWhenAllTheirCasesHaveEnded() throws {
        let anne = try p.openCase("A1", PrivacyFixture.anne, at: Fixture.at(2024, 1, 10))
        try p.close("A1", at: Fixture.at(2024, 2, 1))
        try p.openCase("A2", PrivacyFixture.anne, at: Fixture.at(2024, 3, 1))
        let p1 = try p.dp.retentionPlan(policy: try policy(Self.fiveYears), asOf: Fixture.day(2040, 1, 1))
        #expect(p1.due.isEmpty && p1.withOpenCases == 1)
        try p.close("A2", at: Fixture.at(2024, 5, 1))
        let p2 = try p.dp.retentionPlan(policy: try policy(Self.fiveYears), asOf: Fixture.day(2040, 1, 1))
        #expect(p2.due.map(\.resident) == [anne])
        #expect(p2.due.first?.dueOn == Fixture.day(2029, 5, 1))  // the later close decides
        #expect(p2.due.first?.cases.map(\.caseID) == ["A1", "A2"])
    }

    /// A malformed policy and what its error must name.
    struct BadPolicy: CustomTestStringConvertible, Sendable {
        let json: String
        let says: String
        var testDescription: String { says }
    }

    static let badPolicies: [BadPolicy] = [
        BadPolicy(json: "not json", says: "is not valid JSON"),
        BadPolicy(json: #"{"regler":[]}"#, says: "must be a JSON object with a \"rules\" array"),
        BadPolicy(json: #"{"rules":[]}"#, says: "has no rules"),
        BadPolicy(json: #"{"rules":[{"years":5}]}"#, says: "rule 1: kle is missing"),
        BadPolicy(json: #"{"rules":[{"years":5,"kle":"P1825D","yeras":3}]}"#, says: "rule 1 has an unknown key \"yeras\""),
        BadPolicy(json: #"{"rules":[{"years":5,"kle":"A"},{"match":{"targetgroup":"x"},"years":5,"kle":"B"}]}"#, says: "rule 2: match has an unknown key \"targetgroup\""),
        BadPolicy(json: #"{"rules":[{"match":{"sector":"hospital"},"years":5,"kle":"P"}]}"#, says: "rule 1: sector \"hospital\" is not one of"),
        BadPolicy(json: #"{"rules":[{"years":"5","kle":"P"}]}"#, says: "rule 1: years must be a whole number"),
        BadPolicy(json: #"{"rules":[{"years":2.5,"kle":"P"}]}"#, says: "rule 1: years must be a whole number"),
        BadPolicy(json: #"{"rules":[{"months":true,"kle":"P"}]}"#, says: "rule 1: months must be a whole number"),
        BadPolicy(json: #"{"rules":[{"years":0,"kle":"P"}]}"#, says: "rule 1 gives no deadline"),
        BadPolicy(json: #"{"rules":[{"years":-1,"kle":"P"}]}"#, says: "rule 1: years is -1"),
    ]

    @Test(arguments: badPolicies)
    func aMalformedPolicyIsRefusedWithTheRuleAndFieldNamed(_ bad: BadPolicy) throws {
        let e = #expect(throws: LogError.self) { try RetentionPolicy(json: Data(bad.json.utf8), source: "retention.json") }
        #expect(e?.code == .invalidInput)
        #expect(e?.message.hasPrefix("retention.json: ") == true)
        #expect(e?.message.contains(bad.says) == true, "\(e?.message ?? "")")
    }

    @Test func aPolicyWithMonthsAndNoMatchReads() throws {
        let pol = try policy(#"{"rules":[{"years":1,"months":6,"kle":"G01","note":"kort"}]}"#)
        #expect(pol.rules.first?.totalMonths == 18)
        #expect(pol.rules.first?.periodDescription == "1 year 6 months")
        #expect(pol.rule(targetGroup: "x", sector: .police, organisation: "y")?.number == 1)
    }
}
