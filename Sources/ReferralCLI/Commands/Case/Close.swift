import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral close`.
    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a case: the secretariat stops following the resident. Every consent lapses.",
            discussion: """
                Example:
                  referral close 2024-0001 --reason "Started ordinary job"
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
            try w.append([w.event(c.stream, .caseClosed(CaseClosed(reason: reason)), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)"])
        }
    }
}
