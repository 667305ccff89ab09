import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral start-placement`.
    struct StartPlacement: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a work placement, wage-subsidy job, internship or apprenticeship started.",
            discussion: """
                Occurred-at (--on) defaults to the start date when that is not in the future. \
                Without --id the next free id (P1, P2, …) is used and printed.

                Example:
                  referral start-placement 2024-0001 --kind work-placement --employer grocer-viborg --start 01.04.2024 --planned-end 26.04.2024 --hours-per-week 20 --referral R1
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(help: "The kind of placement.")
        var kind: PlacementKind

        @Option(help: ArgumentHelp("The employer's organisation id.", valueName: "org"))
        var employer: String

        @Option(help: ArgumentHelp("First day.", valueName: "date"), transform: Parse.date)
        var start: CalendarDate

        @Option(name: .customLong("planned-end"), help: ArgumentHelp("Planned last day.", valueName: "date"), transform: Parse.date)
        var plannedEnd: CalendarDate?

        @Option(name: .customLong("hours-per-week"), parsing: .unconditional, help: ArgumentHelp("Hours a week, e.g. 20 or 18,5.", valueName: "hours"), transform: Parse.hours)
        var hoursPerWeek: Hours

        @Option(help: ArgumentHelp("The referral that led to it.", valueName: "referral"))
        var referral: String?

        @Option(help: ArgumentHelp("The placement id (default: the next free P<n>).", valueName: "id"), transform: { try Parse.identifier($0, what: "placement") })
        var id: String?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            let placementID = id ?? c.nextID(prefix: "P") { if case .placementStarted(let p) = $0 { p.placementId } else { nil } }
            let payload = PlacementStarted(placementId: placementID, kind: kind, employer: employer, startDate: start,
                                           plannedEndDate: plannedEnd, hoursPerWeek: hoursPerWeek, referralId: referral)
            try w.append([w.event(c.stream, .placementStarted(payload), at: when.resolve(fallback: start))],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "placement \(placementID)"])
        }
    }
}
