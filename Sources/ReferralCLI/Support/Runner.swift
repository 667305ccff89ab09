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
        var command: any ParsableCommand
        do {
            command = try ReferralCommand.parseAsRoot(rest)
        } catch {
            return reportArgumentParserError(error)
        }
        do {
            try command.run()
            Console.out.flush()
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

    /// Prints the message for `error` and returns its exit status.
    static func report(_ error: any Error) -> Int32 {
        switch error {
        case let e as CLIError:
            Console.err.line("referral: \(e.message)")
            return e.status
        case let e as LogError:
            Console.err.line("referral: " + describe(e))
            return ExitStatus.status(for: e)
        case _ where isArgumentParserError(error):
            return reportArgumentParserError(error)
        default:
            Console.err.line("referral: \(error)")
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

    /// How a log error reads on the terminal: rule refusals name their rule.
    static func describe(_ e: LogError) -> String {
        switch e.code {
        case .ruleViolation: "refused (\(e.rule?.rawValue ?? "rule")): \(e.message)"
        case .conflict: "version conflict: \(e.message)"
        case .corrupt: "the store is damaged: \(e.message); run `referral verify` and restore from a backup (see docs/cli.md)"
        default: e.message
        }
    }

    private static func reportArgumentParserError(_ error: any Error) -> Int32 {
        let code = ReferralCommand.exitCode(for: error).rawValue
        let text = ReferralCommand.fullMessage(for: error)
        if !text.isEmpty {
            if code == 0 { Console.out.line(text) } else { Console.err.line(text) }
        }
        Console.out.flush()
        // ArgumentParser uses EXIT_FAILURE for errors it does not know; ours are mapped above.
        return code == 1 ? ExitStatus.usage : code
    }
}
