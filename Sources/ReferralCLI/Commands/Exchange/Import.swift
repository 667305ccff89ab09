import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral import`: not available until its library lands.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral import
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("import", "the CloudEvents codec (ReferralEvents/JSON)")
        }
    }
}
