import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral assign`: the case moves to another liaison.
    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a case to another liaison.",
            discussion: """
                Example:
                  referral assign 2024-0001 --to vib-lis-02 --reason "Anne is on leave"
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(help: ArgumentHelp("The liaison who takes over.", valueName: "liaison"))
        var to: String

        @Option(help: "Why.")
        var reason: String = ""

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            try w.append([w.event(c.stream, .caseAssigned(CaseAssigned(liaisonId: to, reason: reason)), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "liaison \(to)"])
        }
    }
}
