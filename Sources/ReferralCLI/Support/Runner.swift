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
        var command: any ParsableCommand
        do {
            command = try ReferralCommand.parseAsRoot(arguments)
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
