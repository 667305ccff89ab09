import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral history`: not available until its library lands.
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral history
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"))
        var caseID: String

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("history", "the case history projection (ReferralProjections)")
        }
    }
}
