import Foundation
import ReferralEvents
import Testing

/// `caseload`, `history`, `stats` and `rebuild` on a small scenario whose figures are
/// worked out by hand, run through the built binary.
///
/// Positions: 1–9 registry; 10–14 cases C1–C5 opened on 01.02.2024; 15 consent K1 in C1
/// (until 31.12.2024); 16 referral R1 in C1 on 01.03.2024, unanswered; 17 placement P1 in C3
/// from 01.03.2024; 18 C4 closed on 05.03.2024; 19 consent K1 in C5 on 05.03.2024 until
/// 20.03.2024.
@Suite struct ProjectionEndToEndTests {
    let sandbox: Sandbox
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
        for c in ["C1", "C2", "C3", "C4", "C5"] { try sandbox.openCase(c) }
        let steps: [[String]] = [
            ["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "referral", "--until", "31.12.2024", "--on", "02.02.2024"],
            ["refer", "C1", "--to", "jobcenter-viborg", "--kind", "jobcenter-contact", "--reason", "Wants a job", "--on", "01.03.2024"],
            ["start-placement", "C3", "--kind", "work-placement", "--employer", "grocer-viborg", "--start", "01.03.2024", "--hours-per-week", "20"],
            ["close", "C4", "--reason", "Moved away", "--on", "05.03.2024"],
            ["consent", "C5", "--party", "jobcenter-viborg", "--purpose", "information-sharing", "--until", "20.03.2024", "--on", "05.03.2024"],
        ]
        for s in steps {
            let r = try sandbox.run(s)
            #expect(r.status == 0, "\(r)")
        }
    }

    func json(_ r: CLIResult) throws -> [[String: Any]] {
        #expect(r.status == 0, "\(r)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], "\(r)")
    }

    @Test func caseloadFlagsWhatNeedsAttention() throws {
        let rows = try json(try sandbox.run(["caseload", "--today", "10.03.2024", "--json"]))
        #expect(rows.map { $0["case"] as? String } == ["C1", "C2", "C3", "C5"])
        #expect(rows.map { $0["flags"] as? String } == ["awaiting-answer", "inactive", "active-placement", "consent-expiring"])
        // Last activity 01.03, 01.02, 01.03 and 05.03; judged on 10.03.
        #expect(rows.map { $0["daysSinceActivity"] as? Int } == [9, 38, 9, 5])
        #expect(rows.map { $0["pendingReferrals"] as? Int } == [1, 0, 0, 0])
        #expect(rows.map { $0["activePlacements"] as? Int } == [0, 0, 1, 0])
        #expect(rows.map { $0["nextConsentExpiry"] as? String } == ["2024-12-31", nil, nil, "2024-03-20"])
        #expect(rows[0]["liaison"] as? String == "vib-lis-01")
        #expect(rows[0]["openedOn"] as? String == "2024-02-01")
    }

    @Test func caseloadFiltersAndSummaries() throws {
        var rows = try json(try sandbox.run(["caseload", "--today", "10.03.2024", "--flag", "inactive", "--json"]))
        #expect(rows.map { $0["case"] as? String } == ["C2"])
        rows = try json(try sandbox.run(["caseload", "--today", "10.03.2024", "--liaison", "vib-lis-02", "--json"]))
        #expect(rows.isEmpty)
        rows = try json(try sandbox.run(["caseload", "--today", "10.03.2024", "--by", "area", "--json"]))
        #expect(rows.count == 1)
        let area = try #require(rows.first)
        #expect(area["area"] as? String == "viborg-ellekonebakken")
        #expect([area["openCases"], area["activePlacement"], area["awaitingAnswer"], area["inactive"], area["consentExpiring"]].map { $0 as? Int }
                == [4, 1, 1, 1, 1])
        let table = try sandbox.run(["caseload", "--today", "10.03.2024", "--by", "liaison"])
        #expect(table.out == "Liaison     Open  Active placement  Awaiting answer  Inactive  Consent expiring\n"
                           + "vib-lis-01     4                 1                1         1                 1\n", "\(table)")
        #expect(table.err.contains("as of log position 19, judged on 10.03.2024"))
    }

    @Test func caseloadAsOfAnEarlierPosition() throws {
        // At position 14 every case is just opened: nothing pending, all idle since 01.02.
        let rows = try json(try sandbox.run(["caseload", "--as-of-position", "14", "--today", "10.03.2024", "--json"]))
        #expect(rows.map { $0["case"] as? String } == ["C1", "C2", "C3", "C4", "C5"])
        #expect(Set(rows.map { $0["flags"] as? String }) == ["inactive"])
        let r = try sandbox.run(["caseload", "--as-of-position", "99"])
        #expect(r.status == 64 && r.err.contains("beyond the log's last position 19"), "\(r)")
    }

    @Test func caseloadJudgedBeforeItsFactsIsRefused() throws {
        // C5's consent on 05.03.2024 is its last activity: judged on 04.03 its idle days
        // would be -1. With the facts known on 04.03 (--as-of) the same day is fine.
        for args in [["caseload", "--today", "04.03.2024"], ["caseload", "--today", "04.03.2024", "--by", "area"]] {
            let r = try sandbox.run(args)
            #expect(r.status == 64, "\(r)")
            #expect(r.out.isEmpty)
            #expect(r.err.contains("--today 04.03.2024 is before the last activity of case C5 (05.03.2024)"), "\(r)")
            #expect(r.err.contains("--as-of 04.03.2024"), "\(r)")
        }
        #expect(try sandbox.run(["caseload", "--today", "05.03.2024"]).status == 0)
        // Only the cases shown count: vib-lis-02 has none, so nothing is judged too early.
        #expect(try json(try sandbox.run(["caseload", "--today", "04.03.2024", "--liaison", "vib-lis-02", "--json"])).isEmpty)
        let known = try sandbox.run(["caseload", "--today", "04.03.2024", "--as-of-position", "17", "--json"])
        #expect(known.status == 0, "\(known)")
    }

    /// Every statistic's keys are camelCase, like `caseload`'s and `log`'s (`openedOn`,
    /// `recordedAt`), the same in `--csv`'s header as in `--json`; the table heads them in words.
    @Test func statsKeysAreCamelCaseInEveryFormat() throws {
        let camel = try Regex("^[a-z][a-zA-Z0-9]*$")
        let runs: [[String]] = ["referrals", "funnel", "first-contact", "placements", "outcomes", "cases", "hours"].map {
            ["stats", $0, "--year", "2024", "--by", "area", "--by", "organisation", "--no-suppress"]
        } + [["stats", "residents", "--year", "2024", "--by", "age-band", "--by", "gender", "--by", "target-group", "--no-suppress"]]
        for args in runs {
            let csv = try sandbox.run(args + ["--csv"])
            #expect(csv.status == 0, "\(csv)")
            let header = csv.out.split(separator: "\r\n").first.map { $0.split(separator: ",").map(String.init) } ?? []
            #expect(header.count >= 3, "\(args): \(csv.out)")
            for key in header { #expect(key.wholeMatch(of: camel) != nil, "\(args[1]): key '\(key)' is not camelCase") }
            for row in try json(try sandbox.run(args + ["--json"])) { #expect(Set(row.keys) == Set(header), "\(args[1])") }
        }
        let table = try sandbox.run(["stats", "referrals", "--year", "2024", "--no-suppress"])
        #expect(table.out.contains("From sector") && table.out.contains("Awaiting answer") && table.out.contains("Acceptance %"), "\(table)")
    }

    @Test func statsCountsAndSuppressesSmallNumbers() throws {
        var rows = try json(try sandbox.run(["stats", "cases", "--year", "2024", "--no-suppress", "--json"]))
        #expect(rows.count == 1)
        #expect(rows[0]["period"] as? String == "2024")
        #expect(rows[0]["opened"] as? Int == 5 && rows[0]["reopened"] as? Int == 0 && rows[0]["closed"] as? Int == 1)
        // Suppressed (the default): 5 stays, 1 becomes <5, 0 stays 0.
        rows = try json(try sandbox.run(["stats", "cases", "--year", "2024", "--json"]))
        #expect(rows[0]["opened"] as? Int == 5 && rows[0]["closed"] as? String == "<5" && rows[0]["reopened"] as? Int == 0)

        rows = try json(try sandbox.run(["stats", "referrals", "--month", "2024-03", "--no-suppress", "--json"]))
        #expect(rows.count == 1)
        let r = try #require(rows.first)
        #expect(r["fromSector"] as? String == "housing-social" && r["toSector"] as? String == "jobcenter")
        #expect(r["kind"] as? String == "jobcenter-contact")
        #expect(r["made"] as? Int == 1 && r["accepted"] as? Int == 0 && r["awaitingAnswer"] as? Int == 1)
        #expect(r["acceptancePercent"] is NSNull)
    }

    @Test func statsAsKnownAtAnEarlierPositionAndInExcelForm() throws {
        var rows = try json(try sandbox.run(["stats", "cases", "--year", "2024", "--as-of-position", "12", "--no-suppress", "--json"]))
        #expect(rows.first?["opened"] as? Int == 3 && rows.first?["closed"] as? Int == 0)
        let excel = try sandbox.run(["stats", "cases", "--year", "2024", "--excel-csv"])
        #expect(excel.out == "\u{FEFF}Period;Opened;Reopened;Closed\r\n2024;5;0;<5\r\n", "\(excel)")
        rows = try json(try sandbox.run(["stats", "cases", "--from", "2024-01", "--to", "2024-03", "--period", "month", "--no-suppress", "--json"]))
        #expect(rows.map { $0["period"] as? String } == ["2024-02", "2024-03"] || rows.map { $0["period"] as? String } == ["2024-01", "2024-02", "2024-03"])
        let feb = try #require(rows.first { $0["period"] as? String == "2024-02" })
        #expect(feb["opened"] as? Int == 5 && feb["closed"] as? Int == 0)
    }

    @Test func statsUsageErrors() throws {
        var r = try sandbox.run(["stats", "cases", "--year", "2024", "--month", "2024-03"])
        #expect(r.status == 64 && r.err.contains("give one of --year"), "\(r)")
        r = try sandbox.run(["stats", "cases", "--quarter", "2024-Q5"])
        #expect(r.status == 64 && r.err.contains("not a quarter"), "\(r)")
        r = try sandbox.run(["stats", "weather"])
        #expect(r.status == 64 && r.err.contains("'weather'"), "\(r)")
        r = try sandbox.run(["stats", "cases", "--plan", "No such plan"])
        #expect(r.status == 66 && r.err.contains("Viborg helhedsplan 2021-2025"), "\(r)")
    }

    @Test func historyShowsConsentAndRetractions() throws {
        var rows = try json(try sandbox.run(["history", "C1", "--json"]))
        #expect(rows.map { $0["position"] as? Int } == [10, 15, 16])
        #expect(rows.map { $0["type"] as? String } == ["case-opened", "consent-given", "referral-made"])
        #expect(rows[2]["consent"] as? String == "covered by K1")
        #expect(rows[2]["reason"] as? String == "Wants a job")

        let assigned = try sandbox.run(["assign", "C2", "--to", "vib-lis-02", "--on", "06.03.2024"])
        let id = try #require(assigned.out.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first)
        #expect(try sandbox.run(["retract", String(id), "--reason", "Wrong liaison"]).status == 0)
        rows = try json(try sandbox.run(["history", "C2", "--json"]))
        #expect(rows.map { $0["position"] as? Int } == [11, 20, 21])
        #expect(rows[1]["retraction"] as? String == "RETRACTED at position 21 by vib-lis-01: Wrong liaison")
        #expect(rows[2]["retraction"] as? String == "retracts position 20 (case-assigned)")
        // As known before the retraction.
        rows = try json(try sandbox.run(["history", "C2", "--as-of-position", "20", "--json"]))
        // No retraction yet: empty cells, null in JSON as docs/cli.md says.
        #expect(rows.map { $0["retraction"] is NSNull } == [true, true])
    }

    @Test func historyOfAnUnknownCase() throws {
        let r = try sandbox.run(["history", "NOPE"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("there is no case 'NOPE'"))
    }

    @Test func rebuildReportsItsSpeed() throws {
        let r = try sandbox.run(["rebuild"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.hasPrefix("rebuilt the projections from 19 events in "))
        #expect(r.out.contains(" events/s"))
        // Not a terminal: plain progress lines, no bar.
        #expect(r.err.contains("replayed 19 of 19 events"))
        #expect(!r.err.contains("[#"))
        // Reads after a rebuild give the same answer.
        let rows = try json(try sandbox.run(["caseload", "--today", "10.03.2024", "--json"]))
        #expect(rows.count == 4)
    }

    /// The page release (on by default) changes memory, never the projections: a rebuild
    /// with it and one without give the same caseload and statistics.
    @Test func rebuildWithAndWithoutPageReleaseAgree() throws {
        let reads = [["caseload", "--today", "10.03.2024", "--json"],
                     ["stats", "funnel", "--by", "area", "--year", "2024", "--json"]]
        #expect(try sandbox.run(["rebuild"]).status == 0)
        let released = try reads.map { try sandbox.run($0).out }
        let kept = try sandbox.run(["rebuild", "--no-low-memory"])
        #expect(kept.status == 0, "\(kept)")
        #expect(try reads.map { try sandbox.run($0).out } == released)
        #expect(try json(try sandbox.run(reads[0])).count == 4)
    }
}

/// `referral demo`, and the README's main job.
@Suite struct DemoEndToEndTests {
    let sandbox: Sandbox
    init() throws { sandbox = try Sandbox() }

    @Test func theMainJob() throws {
        var r = try sandbox.run(["demo", "--size", "small"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.hasPrefix("demo small, seed 1: "))
        let events = try sandbox.head().position
        #expect((2_800...3_300).contains(events))
        #expect(try EventStore(at: sandbox.store).verify().isValid)

        r = try sandbox.run(["caseload", "--by", "area", "--today", "31.12.2025"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.hasPrefix("Area "))
        #expect(r.out.contains("viborg-"))
        r = try sandbox.run(["stats", "funnel", "--by", "area", "--year", "2025"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.hasPrefix("Period  Area "))
        #expect(r.out.lines.count > 3)
    }

    @Test func theSameSeedGivesTheSameEvents() throws {
        let other = try Sandbox()
        #expect(try sandbox.run(["demo", "--size", "1000", "--seed", "7", "--no-seal"]).status == 0)
        #expect(try other.run(["demo", "--size", "1000", "--seed", "7", "--no-seal"]).status == 0)
        let a = try sandbox.events(), b = try other.events()
        #expect(a.count == b.count && a.count > 500)
        #expect(a.map(\.id) == b.map(\.id))
        // Erasure decisions stand in `resident-<pseudonym>` streams, and a pseudonym is keyed by
        // each store's own secret: those names differ between stores, every other one is equal.
        let name = { (s: StreamID) in s.category == "resident" ? "resident-…" : s.rawValue }
        #expect(a.map { name($0.stream) } == b.map { name($0.stream) })
        #expect(a.contains { $0.stream.category == "resident" })
        #expect(a.map(\.envelope.occurredAt) == b.map(\.envelope.occurredAt))
    }

    @Test func demoNeedsAnEmptyStore() throws {
        try sandbox.seed()
        let before = try sandbox.head()
        var r = try sandbox.run(["demo"])
        #expect(r.status == 73, "\(r)")
        #expect(r.err.contains("already holds 9 events"))
        #expect(try sandbox.head() == before)
        r = try sandbox.run(["demo", "--size", "huge"])
        #expect(r.status == 64 && r.err.contains("not a size"), "\(r)")
    }
}
