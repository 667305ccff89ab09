import ArgumentParser
import ReferralEvents

extension ReferralCommand.Registry {
    /// `referral registry add-organisation`.
    struct AddOrganisation: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a party: a jobcenter, housing organisation, secretariat, employer, school or civil-society partner.",
            discussion: """
                Example:
                  referral registry add-organisation jobcenter-viborg --name "Jobcenter Viborg" --kind municipality --sector jobcenter --municipality Viborg
                """
        )

        @Argument(help: ArgumentHelp("The organisation id, e.g. jobcenter-viborg.", valueName: "organisation-id"))
        var organisationID: String

        @Option(help: "Its name.")
        var name: String

        @Option(help: "What kind of party it is.")
        var kind: OrganisationKind

        @Option(help: "Its sector (statistics group referrals sector to sector).")
        var sector: Sector

        @Option(help: "The municipality it belongs to or works in, e.g. Viborg.")
        var municipality: String

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let payload = OrganisationRegistered(organisationId: organisationID, name: name, kind: kind, sector: sector, municipality: municipality)
            try w.append([w.event(.registry, .organisationRegistered(payload), at: when.resolve())], notes: ["organisation \(organisationID)"])
        }
    }
}
