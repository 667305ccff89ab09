import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral refer`: a decision to send the resident to another party.
    struct Refer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refer the resident to another party (needs the resident's consent for that party).",
            discussion: """
                Refused (exit 67) unless a valid consent in the case covers the receiving \
                party and the purpose `referral`. --from defaults to your --org and --by to \
                the case's liaison. Without --id the next free id (R1, R2, …) is used and printed.

                Example:
                  referral refer 2024-0001 --to jobcenter-viborg --kind jobcenter-contact --reason "Wants help finding a job"
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(help: ArgumentHelp("The receiving organisation.", valueName: "org"))
        var to: String

        @Option(help: "What the resident is referred to.")
        var kind: ReferralKind

        @Option(help: "Why.")
        var reason: String

        @Option(help: ArgumentHelp("The referring organisation (default: your --org).", valueName: "org"))
        var from: String?

        @Option(help: ArgumentHelp("The liaison who decided (default: the case's liaison).", valueName: "liaison"))
        var by: String?

        @Option(help: ArgumentHelp("The referral id (default: the next free R<n>).", valueName: "id"), transform: { try Parse.identifier($0, what: "referral") })
        var id: String?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            guard let decidedBy = by ?? c.currentLiaison else {
                throw CLIError.usage("case '\(caseID)' has no liaison; say who decided with --by LIAISON")
            }
            let referralID = id ?? c.nextID(prefix: "R") { if case .referralMade(let p) = $0 { p.referralId } else { nil } }
            let payload = ReferralMade(referralId: referralID, kind: kind, fromOrganisation: from ?? w.identity.organisation,
                                       toOrganisation: to, reason: reason, decidedBy: decidedBy)
            try w.append([w.event(c.stream, .referralMade(payload), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "referral \(referralID)"])
        }
    }
}
