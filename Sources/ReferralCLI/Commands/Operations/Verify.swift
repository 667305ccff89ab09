import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral verify`: checks the hash chain and the indexes.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the whole store: the log's hash chain and indexes, the key store and the access log.",
            discussion: """
                Checks log.mdb (hash chain, positions, stream versions, indexes), that keys.mdb \
                opens and every key in it reads, and the access log's hash chain (access.mdb, \
                as `referral access-log --verify`), and says how each file fared. Exits 0 when \
                all are sound, 70 naming what is wrong (the log's first bad position) when one \
                is not: restore that file from a backup. With --head FILE (from `referral head \
                --out FILE`) it also checks that the log still reaches that position with that \
                hash. Store files or the store directory that other users may read are named, \
                with the chmod that closes them (a warning, exit 0).

                With --rules it then also replays the whole log through the domain rules and \
                checks that the rule state they keep (registrations, each case's consents, \
                referrals and placements, which the consent gate reads) is exactly what the log \
                gives. Nothing is written, but appends wait until it is done (seconds per \
                million events). A note names the positions before which events are replayed \
                without rules that came later (a store moved from an older layout, or a history \
                imported with `referral import --as-recorded`).

                Like any command, verify first moves a store of an older layout to this build's \
                (docs/lmdb-layout.md), which older builds then refuse to open.

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
            let report = try store.verify(expectedHead: expected?.log) { done, locating in
                progress.update(done, of: total, note: locating ? "something is wrong; looking for the first bad position" : "")
            }
            progress.finish()
            var failures: [String] = []
            if let failure = report.failure {
                failures.append(Self.failureMessage(failure))
            } else {
                Console.out.line("ok: \(report.eventsChecked) events; hash chain and indexes sound; head position \(report.head.position) hash \(report.head.hash)")
                if let expected {
                    Console.out.line("the log matches the head file (position \(expected.position))")
                }
            }
            failures += Self.checkKeysAndAccessLog(store.directory, expectedAccessHead: expected?.accessLog)
            for loose in store.looseFileModes() { Console.err.line("warning: \(loose)") }
            if !failures.isEmpty { throw CLIError(ExitStatus.corrupt, failures.joined(separator: "\n")) }
            guard rules else { return }
            let replay = Progress(label: "replayed through the rules")
            let rows = try store.verifyRules { done in replay.update(done, of: total, note: "") }
            replay.finish()
            if let failure = rows.failure {
                throw CLIError(ExitStatus.corrupt, "verify --rules failed: \(failure.message). The rule state is derived from the log: once you know how it came to differ, `referral rebuild --rules` derives it again (or restore the store from a backup; docs/verify.md)")
            }
            Console.out.line("ok: the rule state is what the log gives (\(rows.caseRows) case rows, \(rows.otherRows) other rows, \(rows.eventsReplayed) events replayed)")
            // Events before a rules boundary are replayed without its rule: an auditor should know.
            if let note = Self.boundariesNote(datedRulesFrom: rows.datedRulesFrom, closeLapseFrom: rows.closeLapseFrom) {
                Console.out.line(note)
            }
        }

        /// The note `verify --rules` prints when a rules boundary is past position 1: the
        /// events before it are replayed without that boundary's rule (a store moved from an
        /// older layout, or a history imported with `--as-recorded`). Nil when both are 1.
        static func boundariesNote(datedRulesFrom: UInt64, closeLapseFrom: UInt64) -> String? {
            let dated = "the dated rules of layout 5", lapse = "the close-lapse rule of layout 6"
            let what: String
            switch (datedRulesFrom > 1, closeLapseFrom > 1) {
            case (false, false): return nil
            case (true, true) where datedRulesFrom == closeLapseFrom:
                what = "before position \(datedRulesFrom) are replayed without \(dated) or \(lapse)"
            case (true, true):
                what = "before position \(datedRulesFrom) are replayed without \(dated), and before position \(closeLapseFrom) without \(lapse)"
            case (true, false): what = "before position \(datedRulesFrom) are replayed without \(dated)"
            case (false, true): what = "before position \(closeLapseFrom) are replayed without \(lapse)"
            }
            return "note: the events \(what) (a store moved from an older layout, or a history imported with --as-recorded; docs/domain-rules.md, \"The rules boundaries\")"
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

        /// Checks keys.mdb and access.mdb, printing a line for each that is sound; returns
        /// what is wrong with the others.
        static func checkKeysAndAccessLog(_ directory: String, expectedAccessHead: AccessLogHead?) -> [String] {
            var failures: [String] = []
            do {
                let keys = try KeyStore.verify(directory: directory)
                Console.out.line("ok: keys.mdb: the store secret and \(keys.residentKeys) resident key(s) read")
            } catch let error as LogError where error.code == .notFound {
                failures.append("verify failed: \(error.message)")  // it says what to restore
            } catch {
                failures.append("verify failed: keys.mdb: \(error). Restore keys.mdb from the backup the log came from (see docs/cli.md); keys made since that backup are lost, and with them those residents' sealed details")
            }
            guard FileManager.default.fileExists(atPath: ReferralEvents.AccessLog.path(in: directory)) else {
                if let expected = expectedAccessHead, expected.entries > 0 {
                    failures.append("verify failed: access.mdb is missing, but the head file records \(expected.entries) entries. Restore access.mdb from a backup")
                } else {
                    Console.out.line("ok: access.mdb: none yet (no personal data has been shown)")
                }
                return failures
            }
            do {
                let log = try ReferralEvents.AccessLog(directory: directory)
                let report = try log.verify(expectedHead: expectedAccessHead)
                if let failure = report.failure { throw failure }
                Console.out.line("ok: access.mdb: \(report.entriesChecked) entries, chain intact, head \(report.headHash)")
                if let expected = expectedAccessHead {
                    Console.out.line("the access log matches the head file (entry \(expected.entries))")
                }
            } catch {
                failures.append("verify failed: access.mdb: \(error). Restore access.mdb from a backup and keep the damaged file for the audit (see docs/data-protection.md)")
            }
            return failures
        }
    }
}
