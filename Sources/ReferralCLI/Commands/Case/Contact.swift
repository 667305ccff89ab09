import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral contact`: a meeting between the resident and the jobcenter.
    struct Contact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a meeting between the resident and the jobcenter.",
            discussion: """
                --kind defaults to `first` for the case's first jobcenter contact and \
                `follow-up` after that. --jobcenter defaults to the receiving party of \
                --referral.

                Example:
                  referral contact 2024-0001 --referral R1 --on 12.03.2024
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(help: ArgumentHelp("The jobcenter's organisation id (default: the referral's receiver).", valueName: "org"))
        var jobcenter: String?

        @Option(help: "First contact or follow-up (default: worked out from the case).")
        var kind: ContactKind?

        @Option(help: ArgumentHelp("The referral that led to it.", valueName: "referral"))
        var referral: String?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            var org = jobcenter
            if let referral { try c.requireReferralMade(referral, inCase: caseID) }
            if org == nil, let referral {
                guard let r = c.referral(referral) else {
                    throw CLIError.notFound("case '\(caseID)' has no referral '\(referral)'; see `referral history \(caseID)`")
                }
                org = r.toOrganisation
            }
            guard let org else { throw CLIError.usage("name the jobcenter with --jobcenter ORG (or give --referral)") }
            let contactKind = kind ?? (c.hasJobcenterContact ? .followUp : .first)
            let payload = JobcenterContactHeld(contactKind: contactKind, jobcenter: org, referralId: referral)
            try w.append([w.event(c.stream, .jobcenterContactHeld(payload), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "\(contactKind.rawValue) contact with \(org)"])
        }
    }
}
