import ArgumentParser
import ReferralEvents

extension ReferralCommand.Registry {
    /// `referral registry add-area`.
    struct AddArea: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a housing area covered by a social master plan.",
            discussion: """
                The municipality and the housing organisations must be registered first.

                Example:
                  referral registry add-area viborg-ellekonebakken --name Ellekonebakken --municipality viborg-kommune --housing-org boligselskabet-viborg --plan "Viborg helhedsplan 2021-2025" --plan-from 01.01.2021 --plan-to 31.12.2025
                """
        )

        @Argument(help: ArgumentHelp("The area id, e.g. viborg-ellekonebakken.", valueName: "area-id"))
        var areaID: String

        @Option(help: "Its name.")
        var name: String

        @Option(help: ArgumentHelp("The municipality's organisation id.", valueName: "org"))
        var municipality: String

        @Option(name: .customLong("housing-org"), help: ArgumentHelp("A housing organisation that owns homes there (repeat for several).", valueName: "org"))
        var housingOrganisations: [String] = []

        @Option(help: "The plan's name, e.g. \"Viborg helhedsplan 2021-2025\".")
        var plan: String

        @Option(name: .customLong("plan-from"), help: ArgumentHelp("The plan period's first day.", valueName: "date"), transform: Parse.date)
        var planFrom: CalendarDate

        @Option(name: .customLong("plan-to"), help: ArgumentHelp("The plan period's last day.", valueName: "date"), transform: Parse.date)
        var planTo: CalendarDate

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let payload = HousingAreaRegistered(areaId: areaID, name: name, municipality: municipality, housingOrganisations: housingOrganisations,
                                                plan: plan, planFrom: planFrom, planTo: planTo)
            try w.append([w.event(.registry, .housingAreaRegistered(payload), at: when.resolve())], notes: ["area \(areaID)"])
        }
    }
}
