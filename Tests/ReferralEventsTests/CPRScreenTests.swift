import Foundation
@testable import ReferralEvents
import Testing

private typealias F = Fixture

/// The log never holds a CPR number in clear: append refuses an event whose text or ids
/// carry one (docs/data-protection.md, "Free text"), before anything is written, and says
/// so without echoing the number.
struct CPRScreenTests {
    let fixture: Fixture

    init() throws { fixture = try Fixture() }

    @Test(arguments: ["010190-1234", "0101901234", "010190 1234", "CPR:010190-1234.", "født 311299-4321"])
    func theScreenFindsEachWayOfWritingOne(_ text: String) {
        #expect(PersonalDetails.containsCPRNumber(text))
    }

    @Test(arguments: ["", "sag 2025-0001", "tlf. 12345678", "01019012345 (a longer number)", "320190-1234 (no 32nd)",
                      "010190--1234", "1010190-1234", "referral R12 on 01.01.1990", "bolig 0101 901234"])
    func theScreenLeavesOtherNumbersAlone(_ text: String) {
        #expect(!PersonalDetails.containsCPRNumber(text))
    }

    /// One event per kind of field: a reason, an id, a name, an activity, a list of
    /// organisations, the stream (a case id) and the envelope's actor.
    static let carriers: [(String, ProposedEvent)] = {
        let cpr = "Borger 010190-1234 vil i job"
        let assigned = F.event(.case("C1"), .caseAssigned(.init(liaisonId: "fre-lis-02", reason: cpr)))
        let consentID = F.event(.case("C1"), .consentGiven(.init(consentId: "010190-1234", parties: ["jobcenter-fredericia"],
                                                                   purposes: [.referral], form: .written, validUntil: nil)))
        var referral = F.referral()
        if case .referralMade(var p) = referral.payload { p.reason = cpr; referral.payload = .referralMade(p) }
        let hours = F.event(.agreement("A1"), .sharedHoursLogged(.init(date: F.day(2024, 3, 1), hours: Hours(100)!, areaId: nil,
                                                                          servedOrganisation: nil, activity: "møde om 0101901234")))
        let liaison = F.event(.registry, .liaisonRegistered(.init(liaisonId: "fre-lis-09", name: "Anne 010190 1234",
                                                                    organisationId: "secretariat-fredericia")))
        var actor = F.opened("C2")
        actor.actor = "010190-1234"
        return [("reason", assigned), ("consent id", consentID), ("reason", referral), ("activity", hours), ("name", liaison),
                ("stream", F.opened("010190-1234")), ("actor", actor)]
    }()

    @Test(arguments: 0..<carriers.count)
    func anEventCarryingOneIsRefusedAndNothingIsWritten(_ index: Int) throws {
        let (field, carrier) = Self.carriers[index]
        try fixture.store.append([F.opened("C1"), F.consent()])
        let before = try fixture.store.head()
        let error = try #require(throws: LogError.self) { try fixture.store.append([F.opened("C3"), carrier]) }
        #expect(error.code == .invalidInput)
        #expect(error.eventIndex == 1)
        #expect(error.message.contains("\(field) looks like it holds a CPR number"), "\(error.message)")
        #expect(!error.message.contains("1234"))
        #expect(try fixture.store.head() == before)
    }

    /// A pseudonym is 32 hex digits, and ten decimal ones in a row among them may read as a
    /// CPR number: the erasure stream `resident-<pseudonym>` is not text and is not screened
    /// (a demo store's random pseudonyms hit this now and then).
    @Test func aPseudonymThatHappensToHoldTenDigitsIsNotRefused() throws {
        let pseudonym = try #require(Pseudonym(hex: "0101901234abcdefabcdefabcdefabcd"))
        let erased = F.event(.resident(pseudonym), .residentErased(.init(resident: pseudonym, reason: "Borgerens anmodning",
                                                                          legalBasis: "GDPR art. 17")))
        do {
            try fixture.store.append([erased])
        } catch let error as LogError {
            #expect(!error.message.contains("CPR"), "\(error.message)")
        }
    }

    /// A stream's id is screened when an event opens the stream: a case written before the
    /// screen whose id reads as a CPR number still takes its other events (closing it, a
    /// retraction), instead of being stuck.
    @Test func aStreamIdIsScreenedOnlyWhenTheStreamIsOpened() throws {
        let stream = StreamID.case("1505241001")
        #expect(throws: LogError.self) {
            try EventStore.validateEnvelope(stream: stream, actor: "a", organisation: "o", id: UUID(), index: 0, opensStream: true)
        }
        try EventStore.validateEnvelope(stream: stream, actor: "a", organisation: "o", id: UUID(), index: 0, opensStream: false)
        #expect(F.opened().payload.opensStream && !F.consent().payload.opensStream)
    }

    @Test func anEventWithoutOneIsStillAccepted() throws {
        try fixture.store.append([F.opened("C1"), F.consent(), F.referral()])
        #expect(try fixture.store.head().position == UInt64(Fixture.registry.count + 3))
    }
}
