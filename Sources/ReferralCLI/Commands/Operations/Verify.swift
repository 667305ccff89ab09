import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral verify`: checks the hash chain and the indexes.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the whole log: hash chain, positions, stream versions and indexes.",
            discussion: """
                Exits 0 when the log is sound, 70 naming the first bad position when it is not. \
                With --head FILE (from `referral head --out FILE`) it also checks that the log \
                still reaches that position with that hash.

                With --rules it then also replays the whole log through the domain rules and \
                checks that the rule state they keep (registrations, each case's consents, \
                referrals and placements, which the consent gate reads) is exactly what the log \
                gives. Nothing is written, but appends wait until it is done (seconds per \
                million events).

                Examples:
                  referral verify --head /mnt/audit/head-2024-06-30.json
                  referral verify --rules
                """
        )

        @Option(help: ArgumentHelp("A head file to check the log against.", valueName: "file"), completion: .file())
        var head: String?

        @Flag(help: "Also check the domain rules' state against a replay of the log.")
        var rules = false

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let expected = try head.map(HeadFile.read)
            // The scans release the pages they have passed (as `rebuild` and `export` do).
            let store = try storeOptions.open(lowMemoryReplay: true)
            let total = try store.head().position
            let progress = Progress(label: "verified")
            let report = try store.verify(expectedHead: expected) { done, locating in
                progress.update(done, of: total, note: locating ? "something is wrong; looking for the first bad position" : "")
            }
            progress.finish()
            if let failure = report.failure {
                throw CLIError(ExitStatus.corrupt, Self.failureMessage(failure))
            }
            Console.out.line("ok: \(report.eventsChecked) events; hash chain and indexes sound; head position \(report.head.position) hash \(report.head.hash)")
            if let expected {
                Console.out.line("the log matches the head file (position \(expected.position))")
            }
            guard rules else { return }
            let replay = Progress(label: "replayed through the rules")
            let rows = try store.verifyRules { done in replay.update(done, of: total, note: "") }
            replay.finish()
            if let failure = rows.failure {
                throw CLIError(ExitStatus.corrupt, "verify --rules failed: \(failure.message). The rule state is derived from the log: once you know how it came to differ, `referral rebuild --rules` derives it again (or restore the store from a backup; docs/verify.md)")
            }
            Console.out.line("ok: the rule state is what the log gives (\(rows.caseRows) case rows, \(rows.otherRows) other rows, \(rows.eventsReplayed) events replayed)")
        }

        /// What a failed verify says. The store's messages mostly begin with their
        /// position, either as a label ("position 12: the stored hash does not match …")
        /// or as the subject of a sentence ("position 3059 has hash … but the head file
        /// records …"). A label follows "verify failed at"; a sentence follows "verify
        /// failed:" whole, never glued to "at" (which read "verify failed at position 3059
        /// has hash …"). Other messages get "at position N:" in front.
        static func failureMessage(_ failure: LogError) -> String {
            let message = failure.message
            let detail: String
            if message.hasPrefix("position ") {
                let number = message.dropFirst("position ".count).prefix { $0.isNumber }
                let labelled = message.dropFirst("position ".count + number.count).hasPrefix(":")
                detail = labelled ? " at " + message : ": " + message
            } else if let position = failure.position {
                detail = " at position \(position): \(message)"
            } else {
                detail = ": " + message
            }
            return "verify failed\(detail). Restore the store from a backup (see docs/cli.md)"
        }
    }
}
