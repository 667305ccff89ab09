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
        // A domain refusal: 67, as `referral --help` lists, not 65 (invalid input).
        let refuse = try sandbox.run(["refuse-erasure", karen.hex, "--reason", "For sent", "--legal-basis", "Arkivloven"])
        #expect(refuse.status == 67 && refuse.err.contains("refused (already-erased)"), "\(refuse)")
    }

    /// QA: a resident who came back after an erasure lost their new details to `forget
    /// --pending` with no decision recorded, and a second request recorded nothing.
    @Test func aResidentWhoComesBackIsErasedAgainOnlyByANewDecision() throws {
        let first = try sandbox.run(["forget", karen.hex, "--reason", "Borgerens anmodning", "--legal-basis", "GDPR art. 17(1)(a)"])
        #expect(first.status == 0 && first.out.contains("position 11 "), "\(first)")
        let back = try sandbox.run(["open", "C3", "--cpr", "-", "--name", "Came back", "--area", "viborg-ellekonebakken",
                                    "--liaison", "vib-lis-01", "--target-group", "jobparat", "--age-band", "25-29", "--on", "01.05.2024"], stdin: "010190-1234\n")
        #expect(back.status == 0, "\(back)")
        let pending = try sandbox.run(["forget", "--pending"])
        #expect(pending.status == 0 && pending.out.contains("no erasure was waiting"), "\(pending)")
        let shown = try sandbox.run(["resident", "show", "C3", "--reason", "Ny sag", "--json"])
        #expect(try json(shown.out).first?["name"] as? String == "Came back", "\(shown)")

        let second = try sandbox.run(["forget", karen.hex, "--reason", "second request", "--legal-basis", "GDPR art. 17(1)(a)"])
        #expect(second.status == 0 && second.out.contains("position 13  resident \(karen.hex)  erased; key destroyed"), "\(second)")
        let decision = try #require(try sandbox.events().last)
        #expect(decision.payload == .residentErased(ResidentErased(resident: karen, reason: "second request", legalBasis: "GDPR art. 17(1)(a)")))
        #expect(try json(try sandbox.run(["resident", "show", "C3", "--reason", "Kontrol", "--json"]).out).first?["status"] as? String == "erased")
    }

    /// A resident who comes back while their erasure is unfinished (recorded, key not yet
    /// destroyed: a `forget` cut short) gets a new key: the old one is destroyed first, so a
    /// later `forget --pending` does not take the new details with it.
    @Test func aResidentWhoComesBackDuringAnUnfinishedErasureGetsANewKey() throws {
        do {
            let store = try EventStore(at: sandbox.store)
            try store.append(ProposedEvent(stream: .resident(karen), payload: .residentErased(ResidentErased(resident: karen, reason: "Anmodning", legalBasis: "GDPR art. 17")),
                                           occurredAt: Timestamp(CalendarDate(year: 2024, month: 4, day: 1)!, hour: 9), actor: "dpo-01", organisation: "secretariat-viborg"))
        }
        let back = try sandbox.run(["open", "C3", "--cpr", "-", "--name", "Came back", "--area", "viborg-ellekonebakken",
                                    "--liaison", "vib-lis-01", "--target-group", "jobparat", "--age-band", "25-29", "--on", "01.05.2024"], stdin: "010190-1234\n")
        #expect(back.status == 0 && back.err.contains("erasure recorded at position 11 was unfinished"), "\(back)")
        let pending = try sandbox.run(["forget", "--pending"])
        #expect(pending.status == 0 && pending.out.contains("no erasure was waiting"), "\(pending)")
        let shown = try sandbox.run(["resident", "show", "C3", "--reason", "Ny sag", "--json"])
        #expect(try json(shown.out).first?["name"] as? String == "Came back", "\(shown)")
        #expect(try json(try sandbox.run(["resident", "show", "C1", "--reason", "Kontrol", "--json"]).out).first?["status"] as? String == "erased")
    }

    /// Keys never leave a store: details imported from another store are not "erased".
    @Test func importedDetailsSayTheKeyIsNotInThisStore() throws {
        let exported = try sandbox.run(["export"])
        #expect(exported.status == 0, "\(exported)")
        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        let imported = try other.run(["import", "-"], stdin: exported.out)
        #expect(imported.status == 0, "\(imported)")
        let shown = try other.run(["resident", "show", "C1", "--reason", "Kontrol"])
        #expect(shown.status == 0 && shown.out.contains("key not in this store") && !shown.out.contains("erased"), "\(shown)")
        #expect(shown.err.contains("move stores with `referral backup`"), "\(shown)")
        let json = try other.run(["resident", "show", "C1", "--reason", "Kontrol", "--json"])
        #expect(try self.json(json.out).first?["status"] as? String == "key-not-in-store", "\(json)")
        let help = try other.run(["import", "--help"], store: false)
        #expect(help.out.contains("move a store with `referral backup`"), "\(help)")
    }

    /// With umask 022 keys.mdb used to be 0644 after an erasure and a backup's files 0644:
    /// every local user could read residents' keys.
    @Test func storeFilesAndBackupsAreOwnerOnly() throws {
        let fresh = try Sandbox()
        #expect(try fresh.run(["init"], umask: "022").status == 0)
        // Use the seeded store too: it has cases, keys, an access log and an erasure.
        #expect(try sandbox.run(["resident", "show", "C1", "--reason", "Kontrol"], umask: "022").status == 0)
        #expect(try sandbox.run(["forget", karen.hex, "--reason", "Anmodning", "--legal-basis", "GDPR art. 17"], umask: "022").status == 0)
        let backup = sandbox.root + "/backups/2024-06-30"
        let r = try sandbox.run(["backup", backup], umask: "022")
        #expect(r.status == 0, "\(r)")
        for dir in [fresh.store, sandbox.store, backup, sandbox.root + "/backups"] {
            #expect(try mode(dir) == 0o700, "\(dir)")
        }
        for dir in [fresh.store, sandbox.store, backup] {
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".mdb") }
            #expect(files.contains("keys.mdb") && files.contains("log.mdb"), "\(dir): \(files)")
            for file in files { #expect(try mode(dir + "/" + file) == 0o600, "\(dir)/\(file)") }
        }
        // An older store with looser modes is not refused, but verify names what to close.
        #expect(chmod(sandbox.store + "/keys.mdb", 0o644) == 0 && chmod(sandbox.store, 0o755) == 0)
        let verify = try sandbox.run(["verify"])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.err.contains("keys.mdb has mode 644: every local user may read it; run chmod 600"), "\(verify)")
        #expect(verify.err.contains("directory \(sandbox.store) has mode 755"), "\(verify)")
    }

    /// `referral head` records the access log's head too, so `verify --head` sees entries
    /// removed from its end, which its unkeyed chain alone cannot.
    @Test func theHeadFileAnchorsTheAccessLog() throws {
        let access = sandbox.store + "/access.mdb"
        #expect(try sandbox.run(["resident", "show", "C1", "--reason", "Første"]).status == 0)
        let oneEntry = try Data(contentsOf: URL(fileURLWithPath: access))
        #expect(try sandbox.run(["resident", "show", "C1", "--reason", "Anden"]).status == 0)
        let file = sandbox.root + "/head.json"
        let written = try sandbox.run(["head", "--out", file])
        #expect(written.status == 0 && written.out.contains("access log entry 2 hash"), "\(written)")
        let ok = try sandbox.run(["verify", "--head", file])
        #expect(ok.status == 0 && ok.out.contains("the access log matches the head file (entry 2)"), "\(ok)")
        // An old head file, without accessLog, still reads.
        let old = sandbox.root + "/old-head.json"
        let head = try sandbox.head()
        try Data(#"{"hash":"\#(head.hash)","position":\#(head.position)}"#.utf8).write(to: URL(fileURLWithPath: old))
        #expect(try sandbox.run(["verify", "--head", old]).status == 0)

        // The last entry gone: the file as it was before it was written.
        try oneEntry.write(to: URL(fileURLWithPath: access))
        #expect(try sandbox.run(["access-log", "--verify"]).status == 0)  // the chain alone cannot tell
        let r = try sandbox.run(["verify", "--head", file])
        #expect(r.status == 70 && r.err.contains("access.mdb: the access log has 1 entries, but the head file records 2"), "\(r)")
    }

    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// Damage to keys.mdb or access.mdb sent users to `verify`, which then said ok.
    @Test func verifyChecksTheKeyStoreAndTheAccessLog() throws {
        #expect(try sandbox.run(["resident", "show", "C1", "--reason", "Kontrol"]).status == 0)
        let ok = try sandbox.run(["verify"])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.out.contains("ok: keys.mdb: the store secret and 1 resident key(s) read") && ok.out.contains("ok: access.mdb: 1 entries, chain intact"), "\(ok)")

        let keys = sandbox.store + "/keys.mdb"
        let kept = try Data(contentsOf: URL(fileURLWithPath: keys))
        #expect(truncate(keys, 100) == 0)
        let show = try sandbox.run(["resident", "show", "C1", "--reason", "Kontrol"])
        #expect(show.status == 70 && show.err.contains("keys.mdb") && show.err.contains("run `referral verify`"), "\(show)")
        let damaged = try sandbox.run(["verify"])
        #expect(damaged.status == 70, "\(damaged)")
        #expect(damaged.out.contains("ok: 10 events") && damaged.err.contains("verify failed: keys.mdb:") && damaged.err.contains("Restore keys.mdb from the backup"), "\(damaged)")
        // A missing one: what to restore, said once.
        try FileManager.default.removeItem(atPath: keys)
        let missing = try sandbox.run(["verify"])
        #expect(missing.status == 70 && missing.err.contains("there is no key store"), "\(missing)")
        #expect(missing.err.lowercased().components(separatedBy: "restore keys.mdb").count == 2, "\(missing)")
        try kept.write(to: URL(fileURLWithPath: keys))
        #expect(try sandbox.run(["verify"]).status == 0)

        // An access-log entry edited in place (same length, so the chain no longer matches).
        let access = sandbox.store + "/access.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: access))
        let needle = Data("Kontrol".utf8)
        let at = try #require(bytes.range(of: needle))
        bytes.replaceSubrange(at, with: Data("Kontrel".utf8))
        try bytes.write(to: URL(fileURLWithPath: access))
        let edited = try sandbox.run(["verify"])
        #expect(edited.status == 70 && edited.err.contains("verify failed: access.mdb: access log entry 1 does not match its hash"), "\(edited)")
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
