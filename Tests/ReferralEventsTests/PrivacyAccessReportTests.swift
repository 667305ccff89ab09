import Foundation
import Testing
@testable import ReferralEvents

/// The access report (GDPR art. 15): everything about one resident, nothing about others.
@Suite struct PrivacyAccessReportTests {
    let p: PrivacyFixture
    init() throws { p = try PrivacyFixture() }

    /// Parses the report's JSON independently of the Swift types.
    func parse(_ report: AccessReport) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
    }

    @Test func theReportHoldsEveryCaseEventDecisionAndReadAboutTheResident() throws {
        let anne = try p.openCase("C1", PrivacyFixture.anne)                        // C1: opened,
        try p.store.append(Fixture.consent("C1", id: "K1"))                         //     consent,
        try p.store.append(Fixture.referral("C1"))                                  //     referral,
        try p.close("C1", at: Fixture.at(2024, 4, 1))                               //     closed: 4 events
        try p.openCase("C2", PrivacyFixture.anne, at: Fixture.at(2024, 4, 10))      // C2: opened: 1 event
        try p.openCase("C3", PrivacyFixture.bo)                                     // Bo's case, not in Anne's report
        try p.dp.refuseErasure(resident: anne, reason: "Sagen er åben", legalBasis: "Arkivloven § 4", by: PrivacyFixture.dpo)
        _ = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Samtale")   // access 1
        _ = try p.dp.readPersonalDetails(caseID: "C3", by: PrivacyFixture.secretariat, purpose: "Samtale")   // access 2 (Bo)
        _ = try p.dp.findResident(cpr: PrivacyFixture.anne.cpr, by: PrivacyFixture.secretariat, purpose: "Opslag") // access 3

        let report = try p.dp.accessReport(resident: anne, by: PrivacyFixture.secretariat, purpose: "Indsigtsanmodning")
        let json = try parse(report)
        #expect(json["resident"] as? String == anne.hex)
        #expect(json["erased"] as? Bool == false)
        let details = try #require(json["personalDetails"] as? [String: Any])
        #expect(details["status"] as? String == "present")
        let inner = try #require(details["details"] as? [String: Any])
        #expect(inner["cpr"] as? String == "0101901234")
        #expect(inner["name"] as? String == "Anne Søgaard Ærø")

        let cases = try #require(json["cases"] as? [[String: Any]])
        #expect(cases.map { $0["caseID"] as? String } == ["C1", "C2"])
        let c1 = try #require(cases[0]["events"] as? [[String: Any]])
        #expect(c1.map { $0["type"] as? String } == ["case-opened", "consent-given", "referral-made", "case-closed"])
        #expect((c1[2]["payload"] as? [String: Any])?["toOrganisation"] as? String == "jobcenter-fredericia")
        // The sealed bytes are not in the report; their opened form is beside the opening.
        #expect((c1[0]["payload"] as? [String: Any])?["personalData"] == nil)
        #expect((c1[0]["personalData"] as? [String: Any])?["status"] as? String == "present")

        let decisions = try #require(json["erasureDecisions"] as? [[String: Any]])
        #expect(decisions.map { $0["kind"] as? String } == ["refused"])
        #expect(decisions.first?["legalBasis"] as? String == "Arkivloven § 4")

        let reads = try #require(json["accessLog"] as? [[String: Any]])
        #expect(reads.map { $0["sequence"] as? Int } == [1, 3])

        let text = String(decoding: try report.json(), as: UTF8.self)
        #expect(!text.contains("1502852468") && !text.contains("Bo Åkesson") && !text.contains("\"C3\""))
        // Producing the report is itself a logged read.
        let last = try #require(try p.dp.accessLog.list().last)
        #expect(last.entry.action == .accessReport)
        #expect(last.entry.cases == ["C1", "C2"])
        #expect(last.entry.resident == anne)
    }

    @Test func onlyAnOrganisationHoldingACaseMayProduceIt() throws {
        let anne = try p.openCase("C1", PrivacyFixture.anne)
        let e = #expect(throws: LogError.self) { try p.dp.accessReport(resident: anne, by: PrivacyFixture.jobcenter, purpose: "Indsigt") }
        #expect(e?.rule == .controllerOnly)
        #expect(e?.message.contains("'secretariat-fredericia'") == true)
        #expect(try p.dp.accessLog.list().map(\.entry.outcome) == [.refused])
        let unknown = #expect(throws: LogError.self) { try p.dp.accessReport(resident: Pseudonym(high: 7, low: 7), by: PrivacyFixture.secretariat, purpose: "Indsigt") }
        #expect(unknown?.code == .notFound)
    }

    @Test func aWrongPersonsRetractedOpeningShowsOnlyThatOpening() throws {
        // C5 was opened for Bo by mistake, retracted, and opened again for Anne.
        let bo = try p.openCase("C5", PrivacyFixture.bo, at: Fixture.at(2024, 3, 1))
        let wrong = try #require(try p.store.readStream(.case("C5")).first)
        try p.store.append(Fixture.event(.case("C5"), .eventRetracted(EventRetracted(retractedEventId: wrong.id, reason: "Forkert borger")), at: Fixture.at(2024, 3, 2)))
        let anne = try p.openCase("C5", PrivacyFixture.anne, at: Fixture.at(2024, 3, 3))
        try p.store.append(Fixture.consent("C5", id: "K1", at: Fixture.at(2024, 3, 4)))

        let forBo = try parse(try p.dp.accessReport(resident: bo, by: PrivacyFixture.secretariat, purpose: "Indsigt"))
        let boCases = try #require(forBo["cases"] as? [[String: Any]])
        #expect(boCases.count == 1)
        #expect(boCases[0]["residentsCase"] as? Bool == false)
        let boEvents = try #require(boCases[0]["events"] as? [[String: Any]])
        #expect(boEvents.map { $0["type"] as? String } == ["case-opened", "event-retracted"])
        #expect(boEvents[0]["retracted"] as? Bool == true)

        let forAnne = try p.dp.accessReport(resident: anne, by: PrivacyFixture.secretariat, purpose: "Indsigt")
        let annesEvents = try #require(forAnne.cases.first?.events)
        #expect(annesEvents.map(\.type) == ["case-opened", "event-retracted", "case-opened", "consent-given"])
        #expect(annesEvents[0].payload == nil && annesEvents[0].personalData == nil)  // Bo's opening, without content
        let text = String(decoding: try forAnne.json(), as: UTF8.self)
        #expect(!text.contains(bo.hex) && !text.contains("Bo Åkesson") && !text.contains("1502852468"))
        #expect(text.contains("Anne Søgaard Ærø"))
    }

    @Test func afterErasureTheReportShowsTheDetailsAsErasedAndNoCPROrName() throws {
        let anne = try p.openCase("C1", PrivacyFixture.anne)
        try p.dp.forget(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17(1)(a)", by: PrivacyFixture.dpo)
        let report = try p.dp.accessReport(resident: anne, by: PrivacyFixture.secretariat, purpose: "Indsigt")
        let json = try parse(report)
        #expect((json["personalDetails"] as? [String: Any])?["status"] as? String == "erased")
        #expect((json["erasureDecisions"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["erased"])
        let text = String(decoding: try report.json(), as: UTF8.self)
        #expect(!text.contains("0101901234") && !text.contains("010190-1234") && !text.contains("Anne"))
    }
}
