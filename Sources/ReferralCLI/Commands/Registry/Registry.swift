import ArgumentParser

extension ReferralCommand {
    /// `referral registry …`: the reference data every case points at.
    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register organisations, housing areas, liaisons and target groups, or list them.",
            discussion: """
                Reference data lives in the `registry` stream. A case can only name an \
                area, organisation, liaison and target group that are registered. A wrong \
                entry is corrected with `referral retract EVENT-ID` and registered anew.

                Example:
                  referral registry add-organisation jobcenter-viborg --name "Jobcenter Viborg" --kind municipality --sector jobcenter --municipality Viborg
                """,
            subcommands: [AddOrganisation.self, AddArea.self, AddLiaison.self, DefineTargetGroup.self, List.self]
        )
    }
}
