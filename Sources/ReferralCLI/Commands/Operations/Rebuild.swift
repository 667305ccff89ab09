import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral rebuild`: not available until its library lands.
    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral rebuild
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("rebuild", "the projection rebuild runner (ReferralProjections)")
        }
    }
}
