import Foundation
import Testing
@testable import ReferralEvents

/// The consent gate on personal details: the holder reads freely, other parties only
/// under a valid consent for `personal-details`, and every read or refusal is logged.
@Suite struct PrivacyConsentGateTests {
    let p: PrivacyFixture
    init() throws { p = try PrivacyFixture() }

    @Test func theOrganisationHoldingTheCaseReadsWithoutConsent() throws {
        let resident = try p.openCase("C1", PrivacyFixture.anne)
        let read = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Forberede samtale")
        #expect(read.basis == .ownOrganisation)
        #expect(read.resident == resident)
        #expect(read.details == .present(PrivacyFixture.anne))
        let log = try p.dp.accessLog.list()
        #expect(log.count == 1)
        #expect(log.first?.entry.outcome == .granted)
        #expect(log.first?.entry.fields == ["cpr", "name", "phone", "email", "address"])
    }

    @Test func anotherPartyReadsUnderAConsentForPersonalDetails() throws {
        try p.openCase("C1", PrivacyFixture.anne)
        try p.consent("C1", id: "K7", parties: ["jobcenter-fredericia"], purposes: [.referral, .personalDetails])
        let read = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.jobcenter, purpose: "Første samtale i jobcentret")
        #expect(read.basis == .consent("K7"))
        #expect(read.details.details?.cpr == "0101901234")
        #expect(read.details.details?.name == "Anne Søgaard Ærø")
    }

    /// One way of lacking consent, and the words the refusal must contain.
    struct Refusal: CustomTestStringConvertible, Sendable {
        let name: String
        let setUp: @Sendable (PrivacyFixture) throws -> Void
        let explains: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "no consent at all", setUp: { _ in }, explains: "no consent in the case names 'jobcenter-fredericia'"),
        Refusal(name: "consent without the purpose", setUp: {
            try $0.consent("C1", id: "K1", parties: ["jobcenter-fredericia"], purposes: [.referral, .informationSharing])
        }, explains: "consent 'K1' covers 'referral', 'information-sharing' but not 'personal-details'"),
        Refusal(name: "consent for another party", setUp: {
            try $0.consent("C1", id: "K2", parties: ["boligkontoret"], purposes: [.personalDetails])
        }, explains: "no consent in the case names 'jobcenter-fredericia'"),
        Refusal(name: "withdrawn consent", setUp: {
            try $0.consent("C1", id: "K3", parties: ["jobcenter-fredericia"], purposes: [.personalDetails])
            try $0.withdraw("C1", id: "K3")
        }, explains: "consent 'K3' was withdrawn or lapsed"),
        Refusal(name: "consent lapsed when the case closed", setUp: {
            try $0.consent("C1", id: "K4", parties: ["jobcenter-fredericia"], purposes: [.personalDetails])
            try $0.close("C1", at: Fixture.at(2024, 4, 1))
        }, explains: "consent 'K4' was withdrawn or lapsed when the case closed"),
        Refusal(name: "expired consent", setUp: {
            try $0.consent("C1", id: "K5", parties: ["jobcenter-fredericia"], purposes: [.personalDetails], until: Fixture.day(2024, 5, 1))
        }, explains: "consent 'K5' expired on 01.05.2024"),
    ]

    @Test(arguments: refusals)
    func aReadWithoutValidConsentIsRefusedAndSaysWhichConsentIsMissing(_ r: Refusal) throws {
        try p.openCase("C1", PrivacyFixture.anne)
        try r.setUp(p)
        let head = try p.store.head()
        let e = #expect(throws: LogError.self) {
            try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.jobcenter, purpose: "Første samtale")
        }
        #expect(e?.code == .ruleViolation)
        #expect(e?.rule == .consentRequired)
        #expect(e?.message.contains("missing consent for party 'jobcenter-fredericia' and purpose 'personal-details' valid on 01.06.2024") == true)
        #expect(e?.message.contains(r.explains) == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("Anne") == false)
        // The refusal is logged (who tried, which case), and the event log is untouched.
        let log = try p.dp.accessLog.list()
        #expect(log.map(\.entry.outcome) == [.refused])
        #expect(log.first?.entry.fields == [])
        #expect(log.first?.entry.reader == PrivacyFixture.jobcenter)
        #expect(try p.store.head() == head)
    }

    @Test func theHolderStillReadsAClosedCase() throws {
        try p.openCase("C1", PrivacyFixture.anne)
        try p.close("C1", at: Fixture.at(2024, 4, 1))
        #expect(try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Journalføring").details == .present(PrivacyFixture.anne))
    }

    @Test func aReferralConsentIsNotAConsentToSeeDetails() throws {
        // The same consent lets the secretariat refer the resident to the jobcenter …
        try p.openCase("C1", PrivacyFixture.anne)
        try p.store.append(Fixture.consent("C1", id: "K1"))
        try p.store.append(Fixture.referral("C1"))
        // … but not show the jobcenter the resident's name and CPR number.
        let e = #expect(throws: LogError.self) { try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.jobcenter, purpose: "Henvisning modtaget") }
        #expect(e?.rule == .consentRequired)
    }

    @Test func anUnknownCaseIsNotFoundAndAMissingPurposeIsRefused() throws {
        let missing = #expect(throws: LogError.self) { try p.dp.readPersonalDetails(caseID: "NOPE", by: PrivacyFixture.secretariat, purpose: "x") }
        #expect(missing?.code == .notFound)
        #expect(missing?.message.contains("NOPE") == true)
        try p.openCase("C1", PrivacyFixture.anne)
        let noWhy = #expect(throws: LogError.self) { try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "  ") }
        #expect(noWhy?.code == .invalidInput)
        #expect(noWhy?.message.contains("--reason") == true)
        #expect(try p.dp.accessLog.count == 0)
    }

    @Test func findingAResidentByCPRListsOnlyCasesTheReaderMaySee() throws {
        let resident = try p.openCase("C1", PrivacyFixture.anne)
        try p.openCase("C2", PrivacyFixture.anne, organisation: "jobcenter-fredericia", liaison: "fre-lis-02")
        try p.openCase("C3", PrivacyFixture.bo)
        let secretariat = try p.dp.findResident(cpr: "010190-1234", by: PrivacyFixture.secretariat, purpose: "Ny henvendelse")
        #expect(secretariat.resident == resident)
        #expect(secretariat.cases.map(\.caseID) == ["C1"])
        // After a consent naming the secretariat for information sharing, C2 shows too.
        try p.consent("C2", id: "K1", parties: ["secretariat-fredericia"], purposes: [.informationSharing])
        let again = try p.dp.findResident(cpr: "0101901234", by: PrivacyFixture.secretariat, purpose: "Ny henvendelse")
        #expect(again.cases.map(\.caseID) == ["C1", "C2"])
        #expect(again.cases.map(\.basis) == [.ownOrganisation, .consent("K1")])
        // The access log holds the pseudonym, never the CPR number.
        let entries = try p.dp.accessLog.list(AccessLogQuery(resident: resident))
        #expect(entries.map(\.entry.action) == [.residentLookup, .residentLookup])
        #expect(try RawScan.hits(RawScan.needles(for: PrivacyFixture.anne), under: p.directory).isEmpty)
    }

    @Test func aMalformedCPRIsRefusedWithoutEchoingIt() throws {
        let e = #expect(throws: LogError.self) { try p.dp.findResident(cpr: "320190-1234", by: PrivacyFixture.secretariat, purpose: "x") }
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("320190") == false)
    }
}
