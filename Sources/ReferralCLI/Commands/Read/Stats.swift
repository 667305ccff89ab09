import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral stats`: not available until its library lands.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral stats
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("stats", "the statistics projections (ReferralProjections)")
        }
    }
}
