import Foundation
import ReferralEvents
import Testing

/// The case commands, run through the built binary against a seeded store.
@Suite struct CaseEndToEndTests {
    let sandbox: Sandbox
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
    }

    /// The payload of the event at the log's end.
    func lastPayload() throws -> EventPayload { try #require(try sandbox.events().last).payload }

    /// `position <n>  event <uuid>` — the first line's position and id.
    func printed(_ r: CLIResult) throws -> (position: UInt64, id: UUID) {
        let words = try #require(r.out.lines.first).split(separator: " ", omittingEmptySubsequences: true)
        #expect(words.count >= 4 && words[0] == "position" && words[2] == "event", "\(r)")
        return (try #require(UInt64(words[1])), try #require(UUID(uuidString: String(words[3]))))
    }

    @Test func openWithAGeneratedIdPrintsThePositionTheEventAndTheCase() throws {
        let r = try sandbox.run(["open", "--resident", "0123456789abcdef0123456789abcdef", "--area", "viborg-ellekonebakken", "--liaison", "vib-lis-01",
                                 "--target-group", "jobparat", "--age-band", "30-39", "--gender", "male", "--on", "15.03.2024"])
        #expect(r.status == 0, "\(r)")
        let (position, id) = try printed(r)
        #expect(position == 10)
        #expect(r.out.contains("case 2024-0001"))
        let e = try #require(try sandbox.events().last)
        #expect(e.id == id)
        #expect(e.stream == .case("2024-0001"))
        #expect(e.envelope.occurredAt == Timestamp(Sandbox.day(2024, 3, 15)))
        #expect(e.envelope.actor == "vib-lis-01" && e.envelope.organisation == "secretariat-viborg")
        guard case .caseOpened(let p) = e.payload else { Issue.record("not a case-opened: \(e.payload)"); return }
        #expect(p.resident == Pseudonym(hex: "0123456789abcdef0123456789abcdef"))
        #expect(p.ageBand == .from30to39 && p.gender == .male && p.organisationId == "secretariat-viborg" && p.personalData == nil)

        let second = try sandbox.run(["open", "--resident", "00000000000000000000000000000001", "--area", "viborg-ellekonebakken", "--liaison", "vib-lis-01",
                                      "--target-group", "jobparat", "--age-band", "18-24", "--on", "2024-03-16"])
        #expect(second.out.contains("case 2024-0002"), "\(second)")
    }

    @Test func openWithACPRNumberKeepsItOutOfTheLogAndTheOutput() throws {
        let r = try sandbox.run(["open", "C9", "--cpr", "-", "--name", "Karen Testesen", "--area", "viborg-ellekonebakken", "--liaison", "vib-lis-01",
                                 "--target-group", "jobparat", "--age-band", "25-29", "--on", "01.02.2024"], stdin: "010190-1234\n")
        #expect(r.status == 0, "\(r)")
        let log = try Data(contentsOf: URL(fileURLWithPath: sandbox.store + "/log.mdb"))
        for secret in ["0101901234", "010190-1234", "Karen Testesen"] {
            #expect(log.range(of: Data(secret.utf8)) == nil, "\(secret) is in log.mdb")
            #expect(!r.out.contains(secret) && !r.err.contains(secret))
        }
        guard case .caseOpened(let p) = try lastPayload() else { Issue.record("not a case-opened"); return }
        let keys = try KeyStore(directory: sandbox.store)
        #expect(p.resident == (try keys.pseudonym(forCPR: "0101901234")))
        let sealed = try #require(p.personalData)
        #expect(try keys.open(sealed, for: p.resident) == PersonalDetails(cpr: "0101901234", name: "Karen Testesen"))
        #expect(r.out.contains("resident \(p.resident.hex)"))
    }

    @Test func aBadCPRNumberIsAUsageErrorThatDoesNotEchoIt() throws {
        let r = try sandbox.run(["open", "C9", "--cpr", "310290-1234", "--area", "viborg-ellekonebakken", "--liaison", "vib-lis-01",
                                 "--target-group", "jobparat", "--age-band", "25-29"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("--cpr is not a CPR number"))
        #expect(!r.err.contains("310290"))
        #expect(try sandbox.head().position == 9)
    }

    @Test func openingATakenCaseIdIsRefused() throws {
        try sandbox.openCase("C1")
        let before = try sandbox.head()
        let r = try sandbox.run(["open", "C1", "--resident", "0123456789abcdef0123456789abcdef", "--area", "viborg-ellekonebakken",
                                 "--liaison", "vib-lis-01", "--target-group", "jobparat", "--age-band", "25-29", "--on", "01.02.2024"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("case-already-exists"))
        #expect(try sandbox.head() == before)
    }

    @Test func aReferralWithoutConsentIsRefusedAndChangesNothing() throws {
        try sandbox.openCase()
        let before = try sandbox.head()
        let r = try sandbox.run(["refer", "C1", "--to", "jobcenter-viborg", "--kind", "jobcenter-contact", "--reason", "Wants a job"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("refused (consent-required)"))
        #expect(r.err.contains("jobcenter-viborg"))
        #expect(r.err.contains("consent"))
        #expect(r.out.isEmpty)
        #expect(try sandbox.head() == before)
    }

    @Test func aReferralToAnUnknownCaseIsNotFound() throws {
        let before = try sandbox.head()
        let r = try sandbox.run(["refer", "NOPE", "--to", "jobcenter-viborg", "--kind", "jobcenter-contact", "--reason", "x"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("there is no case 'NOPE'"))
        #expect(try sandbox.head() == before)
    }

    @Test func aMalformedCaseIdIsAUsageError() throws {
        let r = try sandbox.run(["close", "C 1", "--reason", "x"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("not a case id"))
    }

    @Test(arguments: ["31.02.2024", "2023-02-29", "32.01.2024", "2024-13-01", "tomorrow"])
    func anImpossibleDateIsAUsageErrorAndChangesNothing(_ date: String) throws {
        try sandbox.openCase()
        let before = try sandbox.head()
        let r = try sandbox.run(["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "referral", "--until", date])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("'\(date)'"))
        #expect(r.err.contains("--until"))
        #expect(r.err.contains("YYYY-MM-DD") && r.err.contains("DD.MM.YYYY"))
        #expect(try sandbox.head() == before)
    }

    @Test func theWholeLifeOfACase() throws {
        try sandbox.openCase()
        var r = try sandbox.run(["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "referral", "--purpose", "information-sharing",
                                 "--form", "oral", "--until", "31.12.2024", "--on", "2024-02-02"])
        #expect(r.status == 0 && r.out.contains("consent K1"), "\(r)")
        #expect(try lastPayload() == .consentGiven(ConsentGiven(consentId: "K1", parties: ["jobcenter-viborg"], purposes: [.referral, .informationSharing],
                                                                form: .oral, validUntil: Sandbox.day(2024, 12, 31))))

        r = try sandbox.run(["refer", "C1", "--to", "jobcenter-viborg", "--kind", "jobcenter-contact", "--reason", "Wants a job", "--on", "01.03.2024"])
        #expect(r.status == 0 && r.out.contains("referral R1"), "\(r)")
        // --from defaults to the identity's organisation, --by to the case's liaison.
        #expect(try lastPayload() == .referralMade(ReferralMade(referralId: "R1", kind: .jobcenterContact, fromOrganisation: "secretariat-viborg",
                                                                toOrganisation: "jobcenter-viborg", reason: "Wants a job", decidedBy: "vib-lis-01")))

        r = try sandbox.run(["answer", "C1", "R1", "--accept", "--reason", "Meeting booked", "--on", "04.03.2024"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .referralAnswered(ReferralAnswered(referralId: "R1", accepted: true, reason: "Meeting booked")))

        r = try sandbox.run(["answer", "C1", "R1", "--reject"])
        #expect(r.status == 67 && r.err.contains("referral-already-answered"), "\(r)")

        // The first contact is `first`, the next `follow-up`; the jobcenter is the referral's receiver.
        r = try sandbox.run(["contact", "C1", "--referral", "R1", "--on", "12.03.2024"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .jobcenterContactHeld(JobcenterContactHeld(contactKind: .first, jobcenter: "jobcenter-viborg", referralId: "R1")))
        r = try sandbox.run(["contact", "C1", "--jobcenter", "jobcenter-viborg", "--on", "19.03.2024"])
        #expect(try lastPayload() == .jobcenterContactHeld(JobcenterContactHeld(contactKind: .followUp, jobcenter: "jobcenter-viborg", referralId: nil)))

        r = try sandbox.run(["start-placement", "C1", "--kind", "work-placement", "--employer", "grocer-viborg", "--start", "01.04.2024",
                             "--planned-end", "26.04.2024", "--hours-per-week", "18,5", "--referral", "R1"])
        #expect(r.status == 0 && r.out.contains("placement P1"), "\(r)")
        let started = try #require(try sandbox.events().last)
        #expect(started.envelope.occurredAt == Timestamp(Sandbox.day(2024, 4, 1)))
        #expect(started.payload == .placementStarted(PlacementStarted(placementId: "P1", kind: .workPlacement, employer: "grocer-viborg",
                                                                     startDate: Sandbox.day(2024, 4, 1), plannedEndDate: Sandbox.day(2024, 4, 26),
                                                                     hoursPerWeek: Hours(hundredths: 1850), referralId: "R1")))

        r = try sandbox.run(["end-placement", "C1", "P1", "--end", "2024-04-26", "--outcome", "ordinary-job"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .placementEnded(PlacementEnded(placementId: "P1", endDate: Sandbox.day(2024, 4, 26), outcome: .ordinaryJob)))

        r = try sandbox.run(["outcome", "C1", "--months", "3", "--status", "ordinary-job"])
        #expect(r.status == 67 && r.err.contains("case-must-be-closed"), "\(r)")

        r = try sandbox.run(["assign", "C1", "--to", "vib-lis-02", "--reason", "Anne is on leave", "--on", "01.05.2024"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .caseAssigned(CaseAssigned(liaisonId: "vib-lis-02", reason: "Anne is on leave")))

        r = try sandbox.run(["withdraw-consent", "C1", "K1", "--reason", "No longer wanted", "--on", "02.05.2024"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .consentWithdrawn(ConsentWithdrawn(consentId: "K1", reason: "No longer wanted")))

        r = try sandbox.run(["close", "C1", "--reason", "Ordinary job", "--on", "03.05.2024"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .caseClosed(CaseClosed(reason: "Ordinary job")))

        r = try sandbox.run(["outcome", "C1", "--months", "3", "--status", "education"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .outcomeRecorded(OutcomeRecorded(monthsAfterClose: 3, status: .education)))

        r = try sandbox.run(["reopen", "C1", "--reason", "Lost the job"])
        #expect(r.status == 0, "\(r)")
        #expect(try lastPayload() == .caseReopened(CaseReopened(reason: "Lost the job")))

        // 9 registry events, then open, consent, refer, answer, 2 contacts, start, end, assign, withdraw, close, outcome, reopen.
        #expect(try sandbox.head().position == 9 + 13)
        #expect(try EventStore(at: sandbox.store).verify().isValid)
    }

    @Test func outcomeMonthsOtherThan1_3_6_12AreAUsageError() throws {
        try sandbox.openCase()
        let r = try sandbox.run(["outcome", "C1", "--months", "2", "--status", "education"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("--months must be 1, 3, 6 or 12, not 2"))
    }

    @Test func anUnknownEnumValueListsTheValidOnes() throws {
        try sandbox.openCase()
        let r = try sandbox.run(["refer", "C1", "--to", "jobcenter-viborg", "--kind", "holiday", "--reason", "x"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("'holiday'"))
        #expect(r.err.contains("jobcenter-contact"))
    }

    @Test func answerNeedsADecision() throws {
        try sandbox.openCase()
        let r = try sandbox.run(["answer", "C1", "R1", "--reason", "x"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("--accept") && r.err.contains("--reject"))
    }

    @Test func retractMarksAnEventAndCannotBeRepeated() throws {
        try sandbox.openCase()
        let assigned = try sandbox.run(["assign", "C1", "--to", "vib-lis-02", "--on", "03.02.2024"])
        let (position, id) = try printed(assigned)
        var r = try sandbox.run(["retract", id.uuidString.lowercased(), "--reason", "Wrong liaison"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("retracts position \(position) (case-assigned in case-C1)"))
        let last = try #require(try sandbox.events().last)
        #expect(last.stream == .case("C1"))
        #expect(last.payload == .eventRetracted(EventRetracted(retractedEventId: id, reason: "Wrong liaison")))
        #expect(last.envelope.causationId == id)
        #expect(try EventStore(at: sandbox.store).isRetracted(id))

        let before = try sandbox.head()
        r = try sandbox.run(["retract", id.uuidString, "--reason", "again"])
        #expect(r.status == 67 && r.err.contains("already-retracted"), "\(r)")
        #expect(r.err.contains("event \(id.uuidString.lowercased()) at position"), "ids are shown in lowercase everywhere: \(r)")
        #expect(try sandbox.head() == before)
    }

    @Test func retractingAnUnknownOrMalformedEventId() throws {
        var r = try sandbox.run(["retract", "5c0b7e2a-3f4d-4e21-9a57-1b2c3d4e5f60", "--reason", "x"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("there is no event 5c0b7e2a-3f4d-4e21-9a57-1b2c3d4e5f60"))
        r = try sandbox.run(["retract", "not-a-uuid", "--reason", "x"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("not an event id"))
        #expect(try sandbox.head().position == 9)
    }

    @Test func aReferralOnAClosedCaseIsRefused() throws {
        try sandbox.openCase()
        try sandbox.run(["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "referral", "--on", "02.02.2024"])
        try sandbox.run(["close", "C1", "--reason", "moved away", "--on", "03.02.2024"])
        let before = try sandbox.head()
        let r = try sandbox.run(["refer", "C1", "--to", "jobcenter-viborg", "--kind", "mentor", "--reason", "x"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("case-must-be-open"))
        #expect(try sandbox.head() == before)
    }
}
