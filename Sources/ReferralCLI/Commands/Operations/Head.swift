import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral head`: the log's last position and hash.
    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print or save the heads of the log and the access log (last position and hash) for a later `verify --head`.",
            discussion: """
                Keep head files outside the store (another disk, a ticket, an e-mail to the \
                board): `referral verify --head FILE` then proves the log still holds that \
                position with that hash, so truncation or rewriting is caught; likewise the access \
                log's last entry (accessLog in the file), whose chain alone cannot show entries \
                removed from its end or a rewrite with every hash recomputed.

                Example:
                  referral head --out /mnt/audit/head-2024-06-30.json
                """
        )

        @Option(help: ArgumentHelp("Write the head to this file instead of standard output.", valueName: "file"), completion: .file())
        var out: String?

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let store = try storeOptions.open()
            let log = try store.head()
            let access = FileManager.default.fileExists(atPath: ReferralEvents.AccessLog.path(in: store.directory))
                ? try ReferralEvents.AccessLog(directory: store.directory).head() : nil
            let head = HeadFile.Contents(log, accessLog: access)
            if let out {
                try HeadFile.write(head, to: out)
                Console.out.line("wrote head position \(log.position) hash \(log.hash)\(access.map { ", access log entry \($0.entries) hash \($0.hash)" } ?? "") to \(out)")
            } else {
                Console.out.write(try HeadFile.encode(head))
            }
        }
    }
}
