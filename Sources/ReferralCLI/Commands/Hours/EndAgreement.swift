import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral end-agreement`.
    struct EndAgreement: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a shared-employee agreement; no hours can be logged after its end date.",
            discussion: """
                Example:
                  referral end-agreement 2024-0001 --end 30.06.2025 --reason "The employee moved to another team"
                """
        )

        @Argument(help: ArgumentHelp("The agreement id.", valueName: "agreement"), transform: Parse.agreementID)
        var agreementID: String

        @Option(help: ArgumentHelp("Last day of the agreement.", valueName: "date"), transform: Parse.date)
        var end: CalendarDate

        @Option(help: "Why.")
        var reason: String = ""

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let a = try StreamSnapshot.loadAgreement(w.store, agreementID)
            try w.append([w.event(a.stream, .hoursAgreementEnded(HoursAgreementEnded(endDate: end, reason: reason)), at: when.resolve(fallback: end))],
                         expecting: [a.stream: .exactly(a.version)], notes: ["agreement \(agreementID)"])
        }
    }
}
