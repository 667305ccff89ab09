import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral end-placement`.
    struct EndPlacement: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a placement ended, and how.",
            discussion: """
                Occurred-at (--on) defaults to the end date when that is not in the future. \
                An end date after today is refused (exit 67, future-date): record the end \
                once the placement has ended.

                Example:
                  referral end-placement 2024-0001 P1 --end 26.04.2024 --outcome ordinary-job
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Argument(help: ArgumentHelp("The placement id.", valueName: "placement"))
        var placementID: String

        @Option(help: ArgumentHelp("Last day.", valueName: "date"), transform: Parse.date)
        var end: CalendarDate

        @Option(help: "How it ended.")
        var outcome: PlacementOutcome

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            let payload = PlacementEnded(placementId: placementID, endDate: end, outcome: outcome)
            try w.append([w.event(c.stream, .placementEnded(payload), at: when.resolve(fallback: end))],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "placement \(placementID)"])
        }
    }
}
