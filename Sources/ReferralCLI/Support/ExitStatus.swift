import ArgumentParser
import ReferralEvents

/// The exit statuses of `referral`, one per kind of failure, so scripts can tell a refused
/// referral from a broken disk.
///
/// They follow BSD `sysexits.h` where a code fits. The table is printed in `referral --help`
/// and in docs/cli.md; keep the three in step.
enum ExitStatus {
    static let success: Int32 = 0
    /// Bad flags or arguments, an impossible date, a malformed id, a missing identity, or a
    /// command that is not available in this build.
    static let usage: Int32 = 64
    /// Input data (an import file, a head file) is malformed.
    static let invalidData: Int32 = 65
    /// The store, case, agreement, event or file does not exist.
    static let notFound: Int32 = 66
    /// A domain rule refused the write (e.g. a referral without consent).
    static let refused: Int32 = 67
    /// Someone else wrote to the same case or agreement meanwhile.
    static let conflict: Int32 = 68
    /// `verify` found corruption or tampering.
    static let corrupt: Int32 = 70
    /// `init`, `demo`, `backup` or `access-report --out` found something already there.
    static let alreadyExists: Int32 = 73
    /// The store or the file system failed.
    static let storage: Int32 = 74

    /// The table shown in `referral --help` and docs/cli.md.
    static let table = """
          0  success
         64  usage: bad flags, impossible date, malformed id, missing identity,
             or a command not available in this build
         65  invalid input data (import file, head file, retention policy,
             configuration file; free text holding a CPR number)
         66  not found: no store, unknown case, agreement, event or file
         67  refused by a domain rule (e.g. a referral without consent)
         68  version conflict: the case changed meanwhile; run the command again
         70  the store is damaged: verify found corruption (the message names the
             first bad position; with --rules, the first rule row that is not what
             the log gives), or a store file is cut short, empty or not LMDB
         73  already exists: init over a store, demo into a store with events,
             backup into a non-empty directory, access-report onto a file
         74  store or I/O failure
        """

    /// The status for an error thrown by the event log.
    static func status(for error: LogError) -> Int32 {
        switch error.code {
        case .conflict: conflict
        case .ruleViolation: refused
        case .invalidInput: invalidData
        case .corrupt: corrupt
        case .notFound: notFound
        default: storage
        }
    }
}

/// A failure the command line reports itself: what went wrong and what to do, and the exit
/// status that says which kind of failure it is.
struct CLIError: Error, Sendable, Hashable, CustomStringConvertible {
    var status: Int32
    var message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }

    static func usage(_ message: String) -> CLIError { CLIError(ExitStatus.usage, message) }
    static func notFound(_ message: String) -> CLIError { CLIError(ExitStatus.notFound, message) }
    static func invalidData(_ message: String) -> CLIError { CLIError(ExitStatus.invalidData, message) }
    static func storage(_ message: String) -> CLIError { CLIError(ExitStatus.storage, message) }

    /// A command whose library has not landed in this build: an honest refusal, never a fake.
    static func notAvailable(_ command: String, _ what: String) -> CLIError {
        .usage("`referral \(command)` is not available in this build: \(what) is not part of it yet")
    }
}
