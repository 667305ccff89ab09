import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral agree-hours`: a party lends an employee's hours to others.
    struct AgreeHours: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a shared-employee agreement: who pays, whom the hours serve, how many a week, from when.",
            discussion: """
                Without an agreement id the next free one of the year (YYYY-NNNN) is used and printed.

                Example:
                  referral agree-hours --employee "LK" --paying jobcenter-viborg --serves secretariat-viborg --area viborg-ellekonebakken --hours-per-week 18,5 --from 01.01.2024 --to 31.12.2025
                """
        )

        @Argument(help: ArgumentHelp("The agreement id (default: the next free YYYY-NNNN).", valueName: "agreement"), transform: Parse.agreementID)
        var agreementID: String?

        @Option(help: ArgumentHelp("The shared employee (initials or staff id).", valueName: "name"))
        var employee: String

        @Option(help: ArgumentHelp("The organisation that pays the employee.", valueName: "org"))
        var paying: String

        @Option(name: .customLong("serves"), help: ArgumentHelp("An organisation the hours serve (repeat for several).", valueName: "org"))
        var servedOrganisations: [String] = []

        @Option(name: .customLong("area"), help: ArgumentHelp("A housing area the hours serve (repeat for several).", valueName: "area"))
        var servedAreas: [String] = []

        @Option(name: .customLong("hours-per-week"), parsing: .unconditional, help: ArgumentHelp("Agreed hours a week, e.g. 18,5.", valueName: "hours"), transform: Parse.hours)
        var hoursPerWeek: Hours

        @Option(help: ArgumentHelp("First day.", valueName: "date"), transform: Parse.date)
        var from: CalendarDate

        @Option(help: ArgumentHelp("Last day (default: open-ended).", valueName: "date"), transform: Parse.date)
        var to: CalendarDate?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if servedOrganisations.isEmpty && servedAreas.isEmpty {
                throw ValidationError("say whom the hours serve: --serves ORG and/or --area AREA")
            }
        }

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let occurredAt = when.resolve(fallback: from)
            func payload(_ id: String) -> EventPayload {
                .hoursAgreementMade(HoursAgreementMade(agreementId: id, employee: employee, payingOrganisation: paying,
                                                       servedOrganisations: servedOrganisations, servedAreas: servedAreas,
                                                       hoursPerWeek: hoursPerWeek, validFrom: from, validTo: to))
            }
            if let agreementID {
                // The rule `agreement-already-exists` refuses a taken id.
                try w.append([w.event(.agreement(agreementID), payload(agreementID), at: occurredAt)], notes: ["agreement \(agreementID)"])
            } else {
                _ = try w.appendToNewStream(category: "agreement", year: from.year, { id in
                    [w.event(.agreement(id), payload(id), at: occurredAt)]
                }, notes: { ["agreement \($0)"] })
            }
        }
    }
}
