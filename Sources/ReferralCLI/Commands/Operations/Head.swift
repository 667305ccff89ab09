import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral head`: the log's last position and hash.
    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print or save the log's head (last position and hash) for a later `verify --head`.",
            discussion: """
                Keep head files outside the store (another disk, a ticket, an e-mail to the \
                board): `referral verify --head FILE` then proves the log still holds that \
                position with that hash, so truncation or rewriting is caught.

                Example:
                  referral head --out /mnt/audit/head-2024-06-30.json
                """
        )

        @Option(help: ArgumentHelp("Write the head to this file instead of standard output.", valueName: "file"), completion: .file())
        var out: String?

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let head = try storeOptions.open().head()
            if let out {
                try HeadFile.write(head, to: out)
                Console.out.line("wrote head position \(head.position) hash \(head.hash) to \(out)")
            } else {
                Console.out.write(try HeadFile.encode(head))
            }
        }
    }
}
