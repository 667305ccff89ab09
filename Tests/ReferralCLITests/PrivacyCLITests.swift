import Foundation
import ReferralEvents
import Testing

/// The data-protection commands, run through the built binary against a seeded store.
@Suite struct PrivacyCLITests {
    let sandbox: Sandbox
    let karen: Pseudonym
    static let jobcenter = ["REFERRAL_ACTOR": "vib-lis-02", "REFERRAL_ORG": "jobcenter-viborg"]

    /// The Viborg registry and case C1 for Karen (CPR 010190-1234), sealed, held by the secretariat.
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
        let r = try sandbox.run(["open", "C1", "--cpr", "-", "--name", "Karen Sørensen", "--phone", "+45 11223344", "--area", "viborg-ellekonebakken",
                                 "--liaison", "vib-lis-01", "--target-group", "jobparat", "--age-band", "25-29", "--on", "01.02.2024"], stdin: "010190-1234\n")
        #expect(r.status == 0, "\(r)")
        karen = try KeyStore(directory: sandbox.store).pseudonym(forCPR: "0101901234")
    }

    func json(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test func showIsRefusedWithoutConsentAndAllowedWithItAndBothAreLogged() throws {
        let refused = try sandbox.run(["resident", "show", "C1", "--reason", "Første samtale"], environment: Self.jobcenter)
        #expect(refused.status == 67, "\(refused)")
        #expect(refused.err.contains("refused (consent-required)") && refused.err.contains("party 'jobcenter-viborg' and purpose 'personal-details'"))
        #expect(!refused.out.contains("Karen") && !refused.err.contains("Karen"))

        let consent = try sandbox.run(["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "personal-details", "--until", "31.12.2030", "--on", "02.02.2024"])
        #expect(consent.status == 0, "\(consent)")
        let shown = try sandbox.run(["resident", "show", "C1", "--reason", "Første samtale", "--json"], environment: Self.jobcenter)
        #expect(shown.status == 0, "\(shown)")
        let row = try #require(try json(shown.out).first)
        #expect(row["cpr"] as? String == "010190-1234" && row["name"] as? String == "Karen Sørensen" && row["status"] as? String == "present")

        let log = try sandbox.run(["access-log", "--case", "C1", "--json"])
        #expect(log.status == 0, "\(log)")
        let entries = try json(log.out)
        #expect(entries.map { $0["outcome"] as? String } == ["refused", "granted"])
        #expect(entries.allSatisfy { $0["actor"] as? String == "vib-lis-02" && $0["purpose"] as? String == "Første samtale" })
        #expect(!log.out.contains("Karen") && !log.out.contains("0101901234") && !log.out.contains("010190-1234"))
        let verify = try sandbox.run(["access-log", "--verify"])
        #expect(verify.status == 0 && verify.out.contains("2 entries, chain intact"), "\(verify)")
    }

    @Test func findByCPRNeverPrintsTheCPRNumber() throws {
        let r = try sandbox.run(["resident", "find", "--cpr", "-", "--reason", "Henvendelse"], stdin: "010190-1234\n")
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains(karen.hex) && r.out.contains("C1"))
        #expect(!r.out.contains("010190") && !r.err.contains("010190"))
        let bad = try sandbox.run(["resident", "find", "--cpr", "320190-1234", "--reason", "x"])
        #expect(bad.status == 64 && !bad.err.contains("320190"), "\(bad)")
    }

    @Test func forgetErasesAndAReRunRecordsNothingNew() throws {
        let r = try sandbox.run(["forget", karen.hex, "--reason", "Borgerens anmodning", "--legal-basis", "GDPR art. 17(1)(a)"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("position 11  resident \(karen.hex)  erased; key destroyed"))
        let shown = try sandbox.run(["resident", "show", "C1", "--reason", "Kontrol", "--json"])
        #expect(try json(shown.out).first?["status"] as? String == "erased")
        let again = try sandbox.run(["forget", karen.hex, "--reason", "Igen", "--legal-basis", "GDPR art. 17"])
        #expect(again.status == 0 && again.out.contains("already erased at position 11"), "\(again)")
        #expect(try sandbox.head().position == 11)
        #expect(try sandbox.run(["verify"]).status == 0)
        let refuse = try sandbox.run(["refuse-erasure", karen.hex, "--reason", "For sent", "--legal-basis", "Arkivloven"])
        #expect(refuse.status == 65, "\(refuse)")
    }

    /// The log cannot erase, so a CPR number typed into a reason, an activity or an id is
    /// refused (65) without being echoed, and nothing is written.
    @Test func aCPRNumberInFreeTextOrAnIdIsRefusedAndNotEchoed() throws {
        let before = try sandbox.head()
        for args in [["assign", "C1", "--to", "vib-lis-02", "--reason", "CPR 010190-1234 flyttet"],
                     ["consent", "C1", "--id", "0101901234", "--party", "jobcenter-viborg", "--purpose", "referral", "--on", "02.02.2024"],
                     ["close", "C1", "--reason", "Borger 010190 1234 i job"],
                     ["open", "010190-1234", "--resident", karen.hex, "--area", "viborg-ellekonebakken", "--liaison", "vib-lis-01", "--target-group", "jobparat",
                      "--age-band", "25-29", "--gender", "female", "--on", "01.02.2024"]] {
            let r = try sandbox.run(args)
            #expect(r.status == 65, "\(args): \(r)")
            #expect(r.err.contains("looks like it holds a CPR number"), "\(args): \(r)")
            #expect(!r.err.contains("1234") && !r.out.contains("1234"), "\(args): \(r)")
        }
        #expect(try sandbox.head() == before)
    }

    @Test func forgetNeedsAReasonALegalBasisAndOneWayToNameTheResident() throws {
        for args in [["forget", karen.hex, "--legal-basis", "GDPR"], ["forget", karen.hex, "--reason", "x"],
                     ["forget", karen.hex, "--cpr", "010190-1234", "--reason", "x", "--legal-basis", "y"], ["forget", "--reason", "x", "--legal-basis", "y"]] {
            let r = try sandbox.run(args)
            #expect(r.status == 64, "\(args): \(r)")
            #expect(!r.err.contains("010190-1234"))
        }
        #expect(try sandbox.head().position == 10)
    }

    @Test func refuseErasureRecordsTheDecisionAndKeepsTheKey() throws {
        let r = try sandbox.run(["refuse-erasure", "--cpr", "-", "--reason", "Verserende klagesag", "--legal-basis", "Arkivloven § 4"], stdin: "010190-1234\n")
        #expect(r.status == 0, "\(r)")
        let last = try #require(try sandbox.events().last)
        #expect(last.payload == .erasureRefused(ErasureRefused(resident: karen, reason: "Verserende klagesag", legalBasis: "Arkivloven § 4")))
        #expect(try KeyStore(directory: sandbox.store).hasKey(karen))
    }

    @Test func accessReportWritesAPrivateFileOnceAndLogsIt() throws {
        let file = sandbox.root + "/indsigt.json"
        let r = try sandbox.run(["access-report", karen.hex, "--reason", "Indsigtsanmodning", "--output", file])
        #expect(r.status == 0, "\(r)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        #expect(report["resident"] as? String == karen.hex)
        #expect(((report["personalDetails"] as? [String: Any])?["details"] as? [String: Any])?["cpr"] as? String == "0101901234")
        #expect((report["cases"] as? [[String: Any]])?.map { $0["caseID"] as? String } == ["C1"])
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let again = try sandbox.run(["access-report", karen.hex, "--reason", "Indsigtsanmodning", "--output", file])
        #expect(again.status == 73, "\(again)")
        let log = try json(try sandbox.run(["access-log", "--resident", karen.hex, "--json"]).out)
        #expect(log.map { $0["action"] as? String } == ["access-report"])
        let jobcenter = try sandbox.run(["access-report", karen.hex, "--reason", "Indsigt"], environment: Self.jobcenter)
        #expect(jobcenter.status == 67 && jobcenter.err.contains("controller-only"), "\(jobcenter)")
    }

    @Test func retentionDryRunListsAndTheRealRunErases() throws {
        #expect(try sandbox.run(["close", "C1", "--reason", "I job", "--on", "01.03.2024"]).status == 0)
        try Data(#"{"rules":[{"match":{"targetGroup":"*"},"years":5,"kle":"P1825D"}]}"#.utf8).write(to: URL(fileURLWithPath: sandbox.store + "/retention.json"))
        let head = try sandbox.head()
        let early = try sandbox.run(["retention", "--dry-run", "--as-of", "28.02.2029", "--json"])
        #expect(early.status == 0, "\(early)")
        #expect(try json(early.out).map { $0["status"] as? String } == ["not yet due"])
        let dry = try sandbox.run(["retention", "--dry-run", "--as-of", "01.03.2029", "--json"])
        let due = try #require(try json(dry.out).first)
        #expect(due["resident"] as? String == karen.hex && due["status"] as? String == "due" && due["dueOn"] as? String == "2029-03-01" && due["kle"] as? String == "P1825D")
        #expect(try sandbox.head() == head)

        let real = try sandbox.run(["retention", "--as-of", "01.03.2029", "--json"])
        #expect(real.status == 0, "\(real)")
        #expect(try json(real.out).first?["status"] as? String == "erased")
        #expect(try sandbox.head().position == head.position + 1)
        #expect(try KeyStore(directory: sandbox.store).hasKey(karen) == false)
        #expect(real.err.contains("1 erased"))
    }

    @Test func aBadPolicyIsRefusedWithTheRuleNamed() throws {
        let policy = sandbox.root + "/policy.json"
        try Data(#"{"rules":[{"match":{"targetgroup":"*"},"years":5,"kle":"P1825D"}]}"#.utf8).write(to: URL(fileURLWithPath: policy))
        let r = try sandbox.run(["retention", "--dry-run", "--policy", policy])
        #expect(r.status == 65, "\(r)")
        #expect(r.err.contains("rule 1: match has an unknown key \"targetgroup\""))
        let missing = try sandbox.run(["retention", "--dry-run"])
        #expect(missing.status == 66 && missing.err.contains("retention.json"), "\(missing)")
    }
}
