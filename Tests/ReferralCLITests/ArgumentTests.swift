import ArgumentParser
import Foundation
import ReferralEvents
import Testing
@testable import ReferralCLI

/// Argument values and command parsing, in process.
@Suite struct ArgumentTests {
    static func day(_ y: Int, _ m: Int, _ d: Int) -> CalendarDate { CalendarDate(year: y, month: m, day: d)! }

    @Test func datesInBothForms() throws {
        #expect(try Parse.date("2024-02-29") == Self.day(2024, 2, 29))
        #expect(try Parse.date("29.02.2024") == Self.day(2024, 2, 29))
        let noDay = #expect(throws: ArgumentValueError.self) { try Parse.date("29.02.2023") }
        #expect(noDay?.description.contains("no such day") == true)
        let noDate = #expect(throws: ArgumentValueError.self) { try Parse.date("yesterday") }
        #expect(noDate?.description.contains("not a date") == true)
        // A real day in a year the log does not record is not "no such day".
        for text in ["31.12.9999", "1899-12-31"] {
            let year = #expect(throws: ArgumentValueError.self) { try Parse.date(text) }
            #expect(year?.description.contains("is outside 1900–2199") == true, "\(text)")
        }
        let instant = #expect(throws: ArgumentValueError.self) { try Parse.instant("9999-12-31T23:59:59Z") }
        #expect(instant?.description.contains("the year 9999 is outside 1900–2199") == true)
    }

    @Test func instants() throws {
        // 2024-03-01 is day 19783 after 1970-01-01; 10:00 at +01:00 is 09:00 UTC.
        #expect(try Parse.instant("2024-03-01T10:00:00+01:00").millisecondsSinceEpoch == 19783 * 86_400_000 + 9 * 3_600_000)
        #expect(try Parse.instant("01.03.2024").millisecondsSinceEpoch == 19783 * 86_400_000)
        #expect(try Parse.endOfPeriod("01.03.2024").millisecondsSinceEpoch == 19784 * 86_400_000 - 1)
        #expect(try Parse.endOfPeriod("2024-03-01T10:00:00Z").millisecondsSinceEpoch == 19783 * 86_400_000 + 10 * 3_600_000)
        #expect(throws: ArgumentValueError.self) { try Parse.instant("2024-03-01T25:00:00Z") }
    }

    @Test func hours() throws {
        #expect(try Parse.hours("7,5") == Hours(hundredths: 750))
        #expect(try Parse.hours("18.25") == Hours(hundredths: 1825))
        #expect(try Parse.hours("1,05") == Hours(hundredths: 105))
        #expect(try Parse.hours("12") == Hours(hundredths: 1200))
        for bad in ["0", "-1", "lots", "", "nan", "inf", "0x10", "1e2", "1.005", "1,005", "+5", "1.", ".5", "1.000,5", "1 5"] {
            #expect(throws: ArgumentValueError.self, "\(bad)") { try Parse.hours(bad) }
        }
        let e = #expect(throws: ArgumentValueError.self) { try Parse.hours("1.005") }
        #expect(e?.description.contains("at most two decimals") == true)
    }

    @Test func isoWeeks() throws {
        #expect(try Parse.isoWeek("2024-W10") == Self.day(2024, 3, 4))
        #expect(try Parse.isoWeek("2024w01") == Self.day(2024, 1, 1))
        #expect(try Parse.isoWeek("2020-W53") == Self.day(2020, 12, 28))
        // 2025's week 1 starts on Monday 30 December 2024.
        #expect(try Parse.isoWeek("2025-W01") == Self.day(2024, 12, 30))
        let e = #expect(throws: ArgumentValueError.self) { try Parse.isoWeek("2023-W53") }
        #expect(e?.description == "2023 has no ISO week 53")
        #expect(throws: ArgumentValueError.self) { try Parse.isoWeek("2024-10") }
    }

    @Test func identifiers() throws {
        #expect(try Parse.caseID("2024-0001") == "2024-0001")
        #expect(try Parse.caseID("VIB_1.a") == "VIB_1.a")
        for bad in ["", "a b", "æble", String(repeating: "x", count: 65), "a/b"] {
            #expect(throws: ArgumentValueError.self, "\(bad)") { try Parse.caseID(bad) }
        }
        #expect(try Parse.eventID("5c0b7e2a-3f4d-4e21-9a57-1b2c3d4e5f60") == UUID(uuidString: "5C0B7E2A-3F4D-4E21-9A57-1B2C3D4E5F60"))
    }

    /// Every command's help, with its subcommands', as (command path, example line) pairs:
    /// the lines of the discussion that start with `referral `.
    static func helpExamples() -> [(String, String)] {
        var found: [(String, String)] = []
        func visit(_ command: any ParsableCommand.Type, path: String) {
            for line in command.configuration.discussion.split(separator: "\n") {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("referral ") { found.append((path, text)) }
            }
            for sub in command.configuration.subcommands + command.configuration.groupedSubcommands.flatMap(\.subcommands) {
                visit(sub, path: path + " " + sub._commandName)
            }
        }
        visit(ReferralCommand.self, path: "referral")
        var seen: Set<String> = []
        return found.filter { seen.insert($0.0 + "\n" + $0.1).inserted }
    }

    /// An example line as the shell would split it: quotes removed, a redirection or pipe and
    /// what follows dropped.
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = [], word = "", quote: Character? = nil, inWord = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { word.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                inWord = true
            } else if ch == " " {
                if inWord { words.append(word); word = ""; inWord = false }
            } else {
                word.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        if let cut = words.firstIndex(where: { [">", "<", "|", "2>"].contains($0) }) { words = Array(words[..<cut]) }
        return words
    }

    @Test func everyExampleInTheHelpParses() throws {
        let examples = Self.helpExamples()
        #expect(examples.count > 40, "\(examples.count) examples")  // nearly every command has one or more
        for (path, line) in examples {
            let words = Array(Self.shellWords(line).dropFirst())  // without `referral`
            let (rest, _) = Runner.leadingGlobalOptions(words)
            #expect(Runner.unknownCommand(rest.first ?? "") == nil, "\(path): \(line)")
            do {
                _ = try ReferralCommand.parseAsRoot(rest)
            } catch where ReferralCommand.exitCode(for: error) == .success {
                // --generate-completion-script and --help end the parse with their output.
            } catch {
                Issue.record("\(path): `\(line)` does not parse: \(ReferralCommand.message(for: error))")
            }
        }
    }

    @Test(arguments: [
        ["stats", "funnel", "--from", "2025-01", "--to", "2024-12"],
        ["log", "--from", "20", "--to", "10"],
        ["log", "--since", "02.01.2025", "--until", "01.01.2025"],
        ["export", "--from", "20", "--to", "10"],
        ["access-log", "--from", "2025-01-02", "--until", "2025-01-01"],
    ])
    func aRangeThatEndsBeforeItStartsIsAUsageError(_ arguments: [String]) {
        do {
            _ = try ReferralCommand.parseAsRoot(arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(ReferralCommand.exitCode(for: error) == .validationFailure)
            #expect(ReferralCommand.message(for: error).contains("is after"), "\(ReferralCommand.message(for: error))")
        }
        // The same day or month at both ends is a range of its own.
        let same = arguments.enumerated().map { i, a in i == arguments.count - 1 ? arguments[arguments.count - 3] : a }
        #expect(throws: Never.self) { _ = try ReferralCommand.parseAsRoot(same) }
    }

    @Test func everyCommandThatWritesAFileTakesOut() throws {
        let pseudonym = "0123456789abcdef0123456789abcdef"
        for flag in ["--out", "--output"] {  // --output was access-report's only name
            let c = try #require(try ReferralCommand.parseAsRoot(["access-report", pseudonym, "--reason", "x", flag, "r.json"]) as? ReferralCommand.AccessReportCommand)
            #expect(c.output == "r.json")
        }
        #expect((try ReferralCommand.parseAsRoot(["export", "--out", "e.jsonl"]) as? ReferralCommand.Export)?.out == "e.jsonl")
        #expect((try ReferralCommand.parseAsRoot(["head", "--out", "h.json"]) as? ReferralCommand.Head)?.out == "h.json")
    }

    @Test func commandsNearAMistypedOne() {
        #expect(Runner.editDistance("verfy", "verify") == 1)
        #expect(Runner.editDistance("histroy", "history") == 1)  // a swap is one edit
        #expect(Runner.editDistance("", "log") == 3)
        #expect(Runner.similarCommands(to: "rebuid") == ["rebuild"])
        #expect(Runner.similarCommands(to: "exp") == ["export"])  // the start of a name
        #expect(Runner.similarCommands(to: "ret") == ["retention", "retract"])
        #expect(Runner.similarCommands(to: "Delete") == ["retract"])
        #expect(Runner.similarCommands(to: "zzzz").isEmpty)
        #expect(Runner.unknownCommand("caseload") == nil)
        #expect(Runner.unknownCommand("help") == nil)
        #expect(Runner.unknownCommand("--store") == nil)
        #expect(Runner.unknownCommand("access-report") == nil)
        #expect(Runner.commandNames.isSuperset(of: ["init", "retract", "stats", "registry", "forget", "backup"]))
    }

    @Test func weeklyHoursAreSpreadToTheHundredth() {
        func spread(_ h: Int32) -> [Int32] { ReferralCommand.LogHours.spread(Hours(hundredths: h), over: 5).map(\.hundredths) }
        #expect(spread(1853) == [371, 371, 371, 370, 370])
        #expect(spread(1850) == [370, 370, 370, 370, 370])
        #expect(spread(3) == [1, 1, 1, 0, 0])
    }

    @Test func referParsesIntoTheDomain() throws {
        let command = try ReferralCommand.parseAsRoot(["refer", "C1", "--to", "jobcenter-viborg", "--kind", "jobcenter-contact",
                                                       "--reason", "Wants a job", "--on", "01.03.2024", "--actor", "a", "--org", "o"])
        let refer = try #require(command as? ReferralCommand.Refer)
        #expect(refer.caseID == "C1" && refer.to == "jobcenter-viborg" && refer.kind == .jobcenterContact && refer.reason == "Wants a job")
        #expect(refer.when.occurredAt == Timestamp(Self.day(2024, 3, 1)))
        #expect(refer.identity.actor == "a" && refer.identity.organisation == "o")
        #expect(refer.from == nil && refer.by == nil && refer.id == nil)
    }

    @Test func outputFormatFlags() throws {
        for (flag, format) in [("--json", OutputFormat.json), ("--csv", .csv), ("--excel-csv", .excelCSV), ("--table", .table)] {
            let log = try #require(try ReferralCommand.parseAsRoot(["log", flag]) as? ReferralCommand.Log)
            #expect(log.output.format == format)
        }
        #expect(try (ReferralCommand.parseAsRoot(["log"]) as? ReferralCommand.Log)?.output.format == .table)
        let e = #expect(throws: (any Error).self) { try ReferralCommand.parseAsRoot(["log", "--json", "--csv"]) }
        #expect(e.map { ReferralCommand.exitCode(for: $0).rawValue } == 64)
    }

    @Test(arguments: [
        (["open", "--area", "a", "--liaison", "l", "--target-group", "g", "--age-band", "25-29"], "--resident"),
        (["open", "--cpr", "not-a-cpr", "--area", "a", "--liaison", "l", "--target-group", "g", "--age-band", "25-29"], "not a CPR number"),
        (["open", "--resident", "0123456789abcdef0123456789abcdef", "--name", "X", "--area", "a", "--liaison", "l", "--target-group", "g", "--age-band", "25-29"], "give --cpr too"),
        (["consent", "C1", "--purpose", "referral"], "--party"),
        (["consent", "C1", "--party", "x", "--until", "30.02.2024"], "no such day"),
        (["log-hours", "A1", "--date", "01.03.2024", "--week", "2024-W10", "--hours", "2"], "not both"),
        (["agree-hours", "--employee", "e", "--paying", "p", "--hours-per-week", "3", "--from", "01.01.2024"], "--serves"),
        (["outcome", "C1", "--months", "2", "--status", "education"], "1, 3, 6 or 12"),
        (["log", "--from", "5", "--to", "2"], "--from 5 is after --to 2"),
        (["log-hours", "A1", "--date", "01.03.2024", "--hours", "0x10"], "not a number of hours"),
        (["log-hours", "A1", "--date", "01.03.2024", "--hours", "1.005"], "more than two decimals"),
        (["caseload", "--inactive-days", "-5"], "non-negative whole number"),
        (["stats", "--suppress", "-1"], "non-negative whole number"),
        (["close", "C1", "--reason", "r", "--on", "2024-03-01T09:30"], "a date-time needs its zone"),
        (["close", "C1", "--reason", "r", "--on", "2024-03-01T09:30:00"], "add Z for UTC (2024-03-01T09:30:00Z)"),
        (["stats", "funnel", "--by", "gender"], "stats funnel cannot be grouped by gender; it takes --by area, organisation or sector (age-band, gender and target-group group `stats residents`)"),
        (["stats", "hours", "--by", "sector"], "stats hours cannot be grouped by sector; it takes --by area or organisation"),
        (["demo", "--size", "10"], "at least 500"),
        (["demo", "--size", "-5"], "not negative"),
        (["log", "--store", ""], "--store needs a directory"),
        (["backup", ""], "empty string"),
    ])
    func usageErrorsExit64WithAMessage(_ args: [String], _ fragment: String) throws {
        let e = #expect(throws: (any Error).self) { try ReferralCommand.parseAsRoot(args) }
        let error = try #require(e)
        #expect(ReferralCommand.exitCode(for: error).rawValue == 64)
        #expect(ReferralCommand.message(for: error).contains(fragment), "\(ReferralCommand.message(for: error))")
    }

    /// Every command, nested ones included.
    static func allCommands(_ root: any ParsableCommand.Type = ReferralCommand.self) -> [any ParsableCommand.Type] {
        let config = root.configuration
        let children = config.subcommands
        return children + children.flatMap { allCommands($0) }
    }

    @Test func everyCommandHasAnAbstractAndAnExampleInItsHelp() {
        let commands = Self.allCommands()
        #expect(commands.count >= 30)
        for command in commands {
            let help = ReferralCommand.helpMessage(for: command)
            #expect(help.contains("Example"), "\(command) has no example")
            #expect(!command.configuration.abstract.isEmpty, "\(command) has no abstract")
        }
    }

    @Test func logErrorsMapToTheDocumentedStatuses() {
        let cases: [(LogError.Code, Int32)] = [(.conflict, 68), (.ruleViolation, 67), (.invalidInput, 65), (.corrupt, 70),
                                               (.notFound, 66), (.storage, 74), (.unsupportedFormat, 74)]
        for (code, status) in cases {
            #expect(ExitStatus.status(for: LogError(code, "x")) == status, "\(code)")
        }
    }

    @Test func aVersionConflictExits68AndSaysToRetry() throws {
        // Two writers read case C1 at version 1; the second to append finds version 2.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("referral-cli-\(UUID().uuidString)").path
        let store = try EventStore(at: dir, create: true, durable: false)
        try store.append(Sandbox.registry)
        let opened = ProposedEvent(stream: .case("C1"), payload: .caseOpened(CaseOpened(resident: Pseudonym(high: 1, low: 2), areaId: "viborg-ellekonebakken",
                                   organisationId: "secretariat-viborg", liaisonId: "vib-lis-01", targetGroup: "jobparat", ageBand: .from25to29, gender: .female)),
                                   occurredAt: Timestamp(Self.day(2024, 2, 1)), actor: "a", organisation: "secretariat-viborg")
        try store.append(opened, expected: .noStream)
        let first = try StreamSnapshot.loadCase(store, "C1")
        let second = try StreamSnapshot.loadCase(store, "C1")
        func close(_ reason: String) -> ProposedEvent {
            ProposedEvent(stream: .case("C1"), payload: .caseClosed(CaseClosed(reason: reason)), occurredAt: Timestamp(Self.day(2024, 3, 1)),
                          actor: "a", organisation: "secretariat-viborg")
        }
        try store.append([close("first")], expecting: [first.stream: .exactly(first.version)])
        let e = #expect(throws: LogError.self) { try store.append([close("second")], expecting: [second.stream: .exactly(second.version)]) }
        let error = try #require(e)
        #expect(ExitStatus.status(for: error) == 68)
        #expect(Runner.describe(error).hasPrefix("version conflict: "))
        #expect(Runner.describe(error).contains("retry"))
        #expect(try store.head().position == 11)
    }

    @Test func leadingGlobalOptionsBecomeEnvironment() {
        let (rest, env) = Runner.leadingGlobalOptions(["--store", "/s", "--actor=a", "--org", "o", "log", "--store", "/t"])
        #expect(rest == ["log", "--store", "/t"])
        #expect(env.map { [$0.0, $0.1] } == [["REFERRAL_STORE", "/s"], ["REFERRAL_ACTOR", "a"], ["REFERRAL_ORG", "o"]])
        #expect(Runner.leadingGlobalOptions(["--help"]).rest == ["--help"])
        #expect(Runner.leadingGlobalOptions(["--store"]).rest == ["--store"])
    }
}
