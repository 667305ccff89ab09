import ArgumentParser
import Foundation
import ReferralEvents

/// Runs one invocation of `referral` and turns every outcome into an exit status.
///
/// ArgumentParser's own `main()` would print any error from `run()` as "Error: …" with exit
/// status 1. This keeps its handling of parse errors, help and `--generate-completion-script`
/// (status 64 or 0, with usage text), and maps the errors our commands throw to the
/// documented statuses, with one message on stderr and never a stack trace.
enum Runner {
    static func main(_ arguments: [String]) -> Int32 {
        let (rest, overrides) = leadingGlobalOptions(arguments)
        for (name, value) in overrides { setenv(name, value, 1) }
        if let first = rest.first, let message = unknownCommand(first) {
            // Before ArgumentParser, which would blame the first option it cannot place
            // ("Unknown option '--store'") instead of the word that is not a command.
            Console.err.line("referral: " + visible(message))
            return ExitStatus.usage
        }
        if rest.first == "help", let message = unknownHelpTopic(Array(rest.dropFirst())) {
            // ArgumentParser's `help` prints the root help with status 0 for a word it does not
            // know, which a script would take for success.
            Console.err.line("referral: " + visible(message))
            return ExitStatus.usage
        }
        var command: any ParsableCommand
        do {
            command = try ReferralCommand.parseAsRoot(rest)
        } catch {
            return reportArgumentParserError(error)
        }
        do {
            try command.run()
            // A command that printed a table to a full disk (`referral log > file`) has not
            // done its job, whatever it returned: say so, as git and coreutils do.
            if let reason = Console.out.lostOutput() {
                var message = "referral: cannot write standard output: \(reason); the output is incomplete"
                if let recorded = OpenedStores.appendedSinceOpened() {
                    let positions = recorded.count == 1 ? "position \(recorded.lowerBound)" : "positions \(recorded.lowerBound)–\(recorded.upperBound)"
                    message += ", but the command did record its events (\(positions)): see `referral log --from \(recorded.lowerBound)` before running it again"
                }
                Console.err.line(visible(message))
                return ExitStatus.storage
            }
            return ExitStatus.success
        } catch {
            Console.out.flush()
            return report(error)
        }
    }

    /// The options every command shares, given before the subcommand, as in `git -C`:
    /// `referral --store DIR caseload`. They are taken off the arguments and passed on as
    /// the environment variables they stand for (`REFERRAL_STORE`, `REFERRAL_ACTOR`,
    /// `REFERRAL_ORG`), so the same option after the subcommand still wins.
    static func leadingGlobalOptions(_ arguments: [String]) -> (rest: [String], environment: [(String, String)]) {
        let names = ["--store": "REFERRAL_STORE", "--actor": "REFERRAL_ACTOR", "--org": "REFERRAL_ORG"]
        var env: [(String, String)] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if let eq = arg.firstIndex(of: "="), let variable = names[String(arg[..<eq])] {
                env.append((variable, String(arg[arg.index(after: eq)...])))
                i += 1
            } else if let variable = names[arg], i + 1 < arguments.count {
                env.append((variable, arguments[i + 1]))
                i += 2
            } else {
                break
            }
        }
        return (Array(arguments[i...]), env)
    }

    /// Every subcommand's name and alias, and `help`.
    static let commandNames: Set<String> = Set(
        ReferralCommand.groups.flatMap(\.subcommands).flatMap { [$0._commandName] + $0.configuration.aliases } + ["help"])

    /// Words a newcomer may try for what `referral` does under another name. Above all: the
    /// log is never edited, a mistake is corrected by retracting the event.
    static let synonyms: [String: [String]] = [
        "delete": ["retract"], "remove": ["retract"], "edit": ["retract"], "update": ["retract"],
        "undo": ["retract"], "correct": ["retract"], "show": ["history", "caseload"],
        "list": ["caseload", "log"], "statistics": ["stats"], "status": ["caseload", "head"],
    ]

    /// For a first argument that is no subcommand, what to say (as git does for `git stauts`);
    /// nil for a subcommand or an option.
    static func unknownCommand(_ word: String) -> String? {
        guard !word.hasPrefix("-"), !commandNames.contains(word) else { return nil }
        var text = "'\(word)' is not a referral command. See 'referral --help'."
        let similar = similarCommands(to: word)
        if !similar.isEmpty {
            text += "\n\nThe most similar command\(similar.count == 1 ? " is" : "s are")\n" + similar.map { "\t\($0)" }.joined(separator: "\n")
        }
        if similar.contains("retract") {
            text += "\n\nThe log is never edited: `referral retract` records that an earlier event was wrong, and `referral retract --help` says how."
        }
        return text
    }

    /// For `referral help WORD…`, what to say when the words name no (sub)command; nil when
    /// they do.
    static func unknownHelpTopic(_ words: [String]) -> String? {
        var children: [any ParsableCommand.Type] = ReferralCommand.groups.flatMap(\.subcommands)
        var path: [String] = []
        for word in words where !word.hasPrefix("-") {
            guard let next = children.first(where: { $0._commandName == word || $0.configuration.aliases.contains(word) }) else {
                let parent = (["referral"] + path).joined(separator: " ")
                var text = "unknown command '\((path + [word]).joined(separator: " "))'; see '\(parent) --help' for the commands"
                if path.isEmpty {
                    let similar = similarCommands(to: word)
                    if !similar.isEmpty { text += " (the most similar: \(similar.joined(separator: ", ")))" }
                }
                return text
            }
            children = next.configuration.subcommands
            path.append(word)
        }
        return nil
    }

    /// The commands `word` was probably meant to be: its synonyms, the names it begins (three
    /// letters or more), and the names within two edits of it (one for short words),
    /// nearest first.
    static func similarCommands(to word: String) -> [String] {
        let w = word.lowercased()
        if let named = synonyms[w] { return named }
        let limit = w.count <= 4 ? 1 : 2
        let scored = commandNames.filter { $0 != "help" }.compactMap { name -> (Int, String)? in
            if w.count >= 3, name.hasPrefix(w) { return (0, name) }
            let d = editDistance(w, name)
            return d <= limit ? (d, name) : nil
        }
        return scored.sorted { $0 < $1 }.map(\.1)
    }

    /// Edits (insert, delete, replace, or swap two neighbours) that turn `a` into `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        guard !x.isEmpty, !y.isEmpty else { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }

    /// Prints the message for `error` and returns its exit status.
    static func report(_ error: any Error) -> Int32 {
        func say(_ message: String) { Console.err.line("referral: " + visible(message)) }
        switch error {
        case let e as CLIError:
            say(e.message)
            return e.status
        case let e as LogError:
            say(describe(e))
            return ExitStatus.status(for: e)
        case _ where isArgumentParserError(error):
            return reportArgumentParserError(error)
        default:
            say("\(error)")
            return ExitStatus.storage
        }
    }

    /// Help requests, `ValidationError`s from `validate()` and parse errors: ArgumentParser
    /// prints them with the usage text (some of its error types are internal, hence the
    /// module check).
    static func isArgumentParserError(_ error: any Error) -> Bool {
        error is ExitCode || error is CleanExit || error is ValidationError
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// An error message with control characters shown as escapes, line breaks and tabs kept:
    /// messages quote what the user gave (an id from an import file, say), which must not
    /// act on the terminal.
    static func visible(_ message: String) -> String {
        message.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: "\t", omittingEmptySubsequences: false).map { TerminalText.visible(String($0)) }.joined(separator: "\t")
        }.joined(separator: "\n")
    }

    /// How a log error reads on the terminal: rule refusals name their rule.
    static func describe(_ e: LogError) -> String {
        switch e.code {
        case .ruleViolation: "refused (\(e.rule?.rawValue ?? "rule")): \(e.message)"
        case .conflict: "version conflict: \(e.message)"
        case .corrupt: "the store is damaged: \(e.message); run `referral verify` (it checks log.mdb, keys.mdb and access.mdb) and restore the damaged file from a backup (see docs/cli.md)"
        default: e.message
        }
    }

    private static func reportArgumentParserError(_ error: any Error) -> Int32 {
        let code = ReferralCommand.exitCode(for: error).rawValue
        let text = ReferralCommand.fullMessage(for: error)
        if !text.isEmpty {
            if code == 0 { Console.out.line(text) } else { Console.err.line(visible(text)) }
        }
        Console.out.flush()
        // ArgumentParser uses EXIT_FAILURE for errors it does not know; ours are mapped above.
        return code == 1 ? ExitStatus.usage : code
    }
}
