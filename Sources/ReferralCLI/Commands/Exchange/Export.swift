import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral export`: not available until its library lands.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral export
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("export", "the CloudEvents codec (ReferralEvents/JSON)")
        }
    }
}
