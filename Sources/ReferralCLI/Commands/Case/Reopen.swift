import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral reopen`.
    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reopen a closed case. Consent must then be given anew.",
            discussion: """
                Example:
                  referral reopen 2024-0001 --reason "Lost the job, wants help again"
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(help: "Why.")
        var reason: String

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            try w.append([w.event(c.stream, .caseReopened(CaseReopened(reason: reason)), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)"])
        }
    }
}
