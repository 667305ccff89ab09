import Foundation
import ReferralEvents
import Testing

/// What the tool does with hostile text, odd argument values and odd stores, run through the
/// built binary: output that cannot be turned against a spreadsheet or a terminal, values
/// refused for what they are, and exit statuses as `referral --help` lists them.
@Suite struct CLIHygieneEndToEndTests {
    let sandbox: Sandbox
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
        try sandbox.openCase("C1")
    }

    static let formula = "=HYPERLINK(\"http://evil\",\"click\")"
    static let terminalAttack = "\u{1B}[31mRED\u{1B}[0m\tand \u{202E}txet"

    /// An error quoting what the user gave shows its control characters as escapes: an id
    /// from a command line or an import file cannot recolour or rewrite the terminal.
    @Test func errorsShowControlCharactersVisibly() throws {
        let r = try sandbox.run(["consent", "C1", "--id", "K\u{1B}[31mRED", "--party", "jobcenter-viborg", "--purpose", "referral", "--on", "02.02.2024"])
        #expect(r.status != 0, "\(r)")
        #expect(!r.err.contains("\u{1B}") && r.err.contains("\\u{1B}"), "\(r)")
    }

    @Test func excelCSVNeutralisesAFormulaInAReasonButCSVKeepsIt() throws {
        #expect(try sandbox.run(["close", "C1", "--reason", Self.formula, "--on", "01.03.2024"]).status == 0)
        let excel = try sandbox.run(["history", "C1", "--excel-csv"])
        #expect(excel.status == 0, "\(excel)")
        #expect(excel.out.contains(";\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\";"), "\(excel)")
        let csv = try sandbox.run(["history", "C1", "--csv"])
        #expect(csv.out.contains(",\"=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\","), "\(csv)")
    }

    @Test(arguments: [["history", "C1"], ["log"]])
    func tablesShowControlCharactersInsteadOfObeyingThem(_ args: [String]) throws {
        #expect(try sandbox.run(["close", "C1", "--reason", Self.terminalAttack, "--on", "01.03.2024"]).status == 0)
        let r = try sandbox.run(args)
        #expect(r.status == 0, "\(r)")
        #expect(!r.out.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" || $0 == "\t" }, "\(r)")
        // `history` shows the reason itself; `log` its payload summary, JSON-quoted.
        #expect(r.out.contains("\\u{1B}[31mRED\\u{1B}[0m and \\u{202E}txet") || r.out.contains("\\u001b[31mRED\\u001b[0m\\tand \\u{202E}txet"), "\(r)")
        // Machines get the text as it was written.
        let json = try sandbox.run(args + ["--json"])
        #expect(json.out.contains("\\u001b[31mRED"), "\(json)")
    }

    @Test(arguments: ["0x10", "1.005", "1e1", "inf"])
    func hoursMustBeDecimalWithTwoDecimalsAtMost(_ value: String) throws {
        let before = try sandbox.head()
        let r = try sandbox.run(["log-hours", "A1", "--date", "01.03.2024", "--hours", value])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("'\(value)'") && r.err.contains("at most two decimals, e.g. 7.5 or 7,5"), "\(r)")
        #expect(try sandbox.head() == before)
    }

    @Test func anEmptyStoreIsAUsageErrorNotTheDefaultStore() throws {
        let defaultStore = sandbox.root + "/home/.local/share/referral/store"
        var r = try sandbox.run(["init", "--store", ""], store: false)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("--store needs a directory"), "\(r)")
        r = try sandbox.run(["init"], store: false, environment: ["REFERRAL_STORE": ""])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("REFERRAL_STORE"), "\(r)")
        r = try sandbox.run(["--store", "", "log"], store: false)
        #expect(r.status == 64, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: defaultStore))
    }

    @Test(.enabled(if: Sandbox.canRunUnprivileged, "needs a user without privileges (setpriv when root)"))
    func aStoreDirectoryThatCannotBeReadIsPermissionDeniedNotMissing() throws {
        #expect(chmod(sandbox.root, 0o755) == 0)
        #expect(chmod(sandbox.store, 0) == 0)
        defer { chmod(sandbox.store, 0o700) }
        let r = try sandbox.run(["log"], asNobody: true)
        #expect(r.status == 74, "\(r)")
        #expect(r.err.contains("Permission denied") && r.err.contains(sandbox.store), "\(r)")
        #expect(!r.err.contains("no store"), "\(r)")
    }

    @Test(arguments: ["10", "-5"])
    func aDemoTooSmallIsRefusedBeforeAnythingIsCreated(_ size: String) throws {
        let dir = sandbox.root + "/demo"
        let r = try sandbox.run(["demo", "--store", dir, "--size", size], store: false)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("at least 500"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test func anUnknownReferralIsNotFoundInAnswerAndContactAlike() throws {
        let before = try sandbox.head()
        var r = try sandbox.run(["answer", "C1", "R9", "--accept"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("case 'C1' has no referral 'R9'"), "\(r)")
        r = try sandbox.run(["contact", "C1", "--referral", "R9", "--jobcenter", "jobcenter-viborg"])
        #expect(r.status == 66, "\(r)")
        r = try sandbox.run(["contact", "C1", "--referral", "R9"])
        #expect(r.status == 66, "\(r)")
        #expect(try sandbox.head() == before)
    }

    @Test func usageMistakesExit64() throws {
        var r = try sandbox.run(["backup", ""])
        #expect(r.status == 64, "\(r)")
        r = try sandbox.run(["help", "nosuch"], store: false)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("unknown command 'nosuch'") && r.out.isEmpty, "\(r)")
        r = try sandbox.run(["help", "registry", "nosuch"], store: false)
        #expect(r.status == 64, "\(r)")
        r = try sandbox.run(["help", "registry", "add-area"], store: false)
        #expect(r.status == 0 && r.out.contains("add-area"), "\(r)")
    }

    @Test(arguments: [(["caseload", "--inactive-days", "-5"], "--inactive-days"), (["caseload", "--consent-days", "-1"], "--consent-days"),
                      (["stats", "--suppress", "-1"], "--suppress")])
    func negativeCountsAreNamedAsSuch(_ args: [String], _ flag: String) throws {
        let r = try sandbox.run(args)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("'-") && r.err.contains(flag) && r.err.contains("non-negative whole number"), "\(r)")
        #expect(!r.err.contains("Missing value"), "\(r)")
    }

    @Test func emptyCellsAreNullInJSON() throws {
        var r = try sandbox.run(["history", "C1", "--json"])
        var row = try #require((try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])?.first, "\(r)")
        #expect(row["consent"] is NSNull && row["retraction"] is NSNull && row["reason"] is NSNull, "\(r)")
        r = try sandbox.run(["caseload", "--today", "02.02.2024", "--json"])
        row = try #require((try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])?.first, "\(r)")
        #expect(row["flags"] is NSNull, "\(r)")
        #expect(!r.out.contains("\"\""), "\(r)")
    }

    @Test func toAloneRunsFromTheFirstMonthWithData() throws {
        // The registered plan starts in January 2021, the case was opened in February 2024.
        var r = try sandbox.run(["stats", "cases", "--to", "2024-06", "--period", "total", "--json"])
        var row = try #require((try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])?.first, "\(r)")
        #expect(row["period"] as? String == "2021-01..2024-06", "\(r)")
        #expect(row["opened"] as? Int == 1 || row["opened"] as? String == "<5", "\(r)")
        // As --from alone runs to this month.
        r = try sandbox.run(["stats", "cases", "--from", "2024-01", "--period", "total", "--json"])
        row = try #require((try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])?.first, "\(r)")
        #expect((row["period"] as? String)?.hasPrefix("2024-01..") == true, "\(r)")
    }
}
