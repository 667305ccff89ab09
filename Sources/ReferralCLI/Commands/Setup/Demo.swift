import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral demo`: not available until its library lands.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral demo
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("demo", "the demo data generator (ReferralDemo)")
        }
    }
}
