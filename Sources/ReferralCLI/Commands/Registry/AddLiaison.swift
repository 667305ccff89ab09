import ArgumentParser
import ReferralEvents

extension ReferralCommand.Registry {
    /// `referral registry add-liaison`.
    struct AddLiaison: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a liaison: a staff member who follows residents.",
            discussion: """
                Example:
                  referral registry add-liaison vib-lis-01 --name "Anne Jensen" --works-for secretariat-viborg
                """
        )

        @Argument(help: ArgumentHelp("The liaison id, e.g. vib-lis-01.", valueName: "liaison-id"))
        var liaisonID: String

        @Option(help: "The staff member's name.")
        var name: String

        @Option(name: .customLong("works-for"), help: ArgumentHelp("The organisation they work for.", valueName: "org"))
        var worksFor: String

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let payload = LiaisonRegistered(liaisonId: liaisonID, name: name, organisationId: worksFor)
            try w.append([w.event(.registry, .liaisonRegistered(payload), at: when.resolve())], notes: ["liaison \(liaisonID)"])
        }
    }
}
