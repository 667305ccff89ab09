import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral answer`: the receiving party accepts or rejects a referral.
    struct Answer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that the receiving party accepted or rejected a referral.",
            discussion: """
                Example:
                  referral answer 2024-0001 R1 --accept --reason "Meeting booked"
                """
        )

        enum Decision: String, EnumerableFlag {
            case accept, reject
            static func help(for value: Decision) -> ArgumentHelp? {
                value == .accept ? "The referral was accepted." : "The referral was rejected."
            }
        }

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Argument(help: ArgumentHelp("The referral id (see `referral history CASE`).", valueName: "referral"))
        var referralID: String

        @Flag var decision: Decision

        @Option(help: "Why.")
        var reason: String = ""

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            try c.requireReferralMade(referralID, inCase: caseID)
            let payload = ReferralAnswered(referralId: referralID, accepted: decision == .accept, reason: reason)
            try w.append([w.event(c.stream, .referralAnswered(payload), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "referral \(referralID)", decision == .accept ? "accepted" : "rejected"])
        }
    }
}
