import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral withdraw-consent`.
    struct WithdrawConsent: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that the resident took a consent back.",
            discussion: """
                Example:
                  referral withdraw-consent 2024-0001 K1 --reason "The resident no longer wants the jobcenter involved"
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Argument(help: ArgumentHelp("The consent id (see `referral history CASE`).", valueName: "consent"))
        var consentID: String

        @Option(help: "Why.")
        var reason: String = ""

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            try w.append([w.event(c.stream, .consentWithdrawn(ConsentWithdrawn(consentId: consentID, reason: reason)), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "consent \(consentID)"])
        }
    }
}
