import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral caseload`: not available until its library lands.
    struct Caseload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(not available in this build yet)",
            discussion: """
                Example:
                  referral caseload
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            throw CLIError.notAvailable("caseload", "the caseload projection (ReferralProjections)")
        }
    }
}
