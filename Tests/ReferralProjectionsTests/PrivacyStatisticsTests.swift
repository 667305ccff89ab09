import Foundation
import ReferralEvents
import ReferralProjections
import Testing

/// Erasure destroys keys, never facts: every statistic reads the same after residents are
/// forgotten (and after a rebuild), and `verify` still passes.
@Suite struct PrivacyStatisticsTests {
    let world: World
    init() throws {
        world = try World()
        try world.record(Viborg.events)
    }

    /// Every statistic the projections offer, over the whole scenario, by area and organisation.
    func everyStatistic(_ view: ProjectionView) throws -> [AnyHashable] {
        let q = StatisticsQuery(from: month(2023, 10), through: month(2024, 12), groupBy: [.area, .organisation])
        let people = StatisticsQuery(from: month(2023, 10), through: month(2024, 12), groupBy: [.area, .ageBand, .gender, .targetGroup])
        return [
            AnyHashable(try view.referrals(q)), AnyHashable(try view.funnel(q)), AnyHashable(try view.daysToFirstContact(q)),
            AnyHashable(try view.placements(q)), AnyHashable(try view.outcomes(q)), AnyHashable(try view.caseFlow(q)),
            AnyHashable(try view.residents(people)), AnyHashable(try view.hours(q)),
        ]
    }

    @Test func forgettingResidentsChangesNoStatistic() throws {
        let dp = try DataProtection(store: world.store, createKeys: true, durable: false)
        for n: UInt64 in [1, 3, 4] {
            _ = try dp.keys.seal(PersonalDetails(cpr: "0101900\(100 + n)", name: "Beboer \(n)"), for: pseudonym(n))
        }
        _ = try world.projections.catchUp()
        let before = try everyStatistic(world.projections.current())
        #expect("\(before)".contains("ellekonebakken"))  // the figures are there to compare

        let admin = ReaderIdentity(actor: "dpo", organisation: "viborg-kommune")
        // P1 has two cases (V1 and V5), P3 one; P4's erasure is refused.
        try dp.forget(resident: pseudonym(1), reason: "Anmodning", legalBasis: "GDPR art. 17(1)(a)", by: admin)
        try dp.forget(resident: pseudonym(3), reason: "Anmodning", legalBasis: "GDPR art. 17(1)(a)", by: admin)
        try dp.refuseErasure(resident: pseudonym(4), reason: "Klagesag", legalBasis: "Arkivloven § 4", by: admin)
        #expect(try dp.keys.hasKey(pseudonym(1)) == false && dp.keys.hasKey(pseudonym(3)) == false && dp.keys.hasKey(pseudonym(4)))

        _ = try world.projections.catchUp()
        #expect(try everyStatistic(world.projections.current()) == before)
        _ = try world.projections.rebuild()
        #expect(try everyStatistic(world.projections.current()) == before)
        #expect(try world.store.verify().isValid)
    }

    @Test func aCaseHistoryShowsSealedDetailsAsErasedOnceTheResidentIsForgotten() throws {
        let dp = try DataProtection(store: world.store, createKeys: true, durable: false)
        // V9 is opened with sealed details for P9.
        let sealed = try dp.keys.seal(PersonalDetails(cpr: "0101900109", name: "Beboer 9"), for: pseudonym(9))
        try world.store.append([ProposedEvent(stream: .case("V9"), payload: .caseOpened(CaseOpened(
            resident: pseudonym(9), areaId: "ellekonebakken", organisationId: Viborg.sec, liaisonId: "vib-lis-01", targetGroup: "jobparat",
            ageBand: .from25to29, gender: .female, personalData: sealed)), occurredAt: at(2024, 5, 1), actor: "vib-lis-01", organisation: Viborg.sec)])
        func personalData(_ h: CaseHistory) -> String? { h.entries.first?.fields.first { $0.name == "personal-data" }?.value }
        let before = try world.store.head().position
        #expect(personalData(try CaseHistory(store: world.store, caseId: "V9")) == "sealed")
        try dp.forget(resident: pseudonym(9), reason: "Anmodning", legalBasis: "GDPR art. 17", by: ReaderIdentity(actor: "dpo", organisation: "viborg-kommune"))
        #expect(personalData(try CaseHistory(store: world.store, caseId: "V9")) == "erased")
        // As known before the erasure, the details were still there (sealed).
        #expect(personalData(try CaseHistory(store: world.store, caseId: "V9", asOf: before)) == "sealed")
    }
}
