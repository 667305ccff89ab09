import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral outcome`: the resident's status some months after the case closed.
    struct Outcome: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the resident's status 1, 3, 6 or 12 months after the case closed.",
            discussion: """
                Example:
                  referral outcome 2024-0001 --months 3 --status education
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Months after close: 1, 3, 6 or 12.", valueName: "n"))
        var months: Int

        @Option(help: "The resident's status.")
        var status: OutcomeStatus

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard [1, 3, 6, 12].contains(months) else { throw ValidationError("--months must be 1, 3, 6 or 12, not \(months)") }
        }

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            try w.append([w.event(c.stream, .outcomeRecorded(OutcomeRecorded(monthsAfterClose: months, status: status)), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)"])
        }
    }
}
