import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral consent`: the resident allows named parties to act for named purposes.
    struct Consent: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the resident's consent: which parties, which purposes, oral or written, until when.",
            discussion: """
                A referral to a party needs a consent that covers that party and the purpose \
                `referral` on the day of the referral. Consent lapses when withdrawn, when \
                --until has passed, or when the case closes. Without --id the next free id \
                (K1, K2, …) is used and printed.

                Example:
                  referral consent 2024-0001 --party jobcenter-viborg --purpose referral --purpose information-sharing --form written --until 31.12.2024
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @Option(name: .customLong("party"), help: ArgumentHelp("An organisation the consent covers (repeat for several).", valueName: "org"))
        var parties: [String] = []

        @Option(name: .customLong("purpose"), help: ArgumentHelp("A purpose the consent covers (repeat for several).", valueName: "purpose"))
        var purposes: [ConsentPurpose] = []

        @Option(help: "How it was given.")
        var form: ConsentForm = .written

        @Option(help: ArgumentHelp("Last day it is valid (default: until withdrawn or the case closes).", valueName: "date"), transform: Parse.date)
        var until: CalendarDate?

        @Option(help: ArgumentHelp("The consent id (default: the next free K<n>).", valueName: "id"), transform: { try Parse.identifier($0, what: "consent") })
        var id: String?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if parties.isEmpty { throw ValidationError("name at least one party the resident consents to share with: --party ORG") }
            if purposes.isEmpty { throw ValidationError("name at least one purpose: --purpose \(ConsentPurpose.allCases.map(\.rawValue).joined(separator: "|"))") }
        }

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let c = try StreamSnapshot.loadCase(w.store, caseID)
            let consentID = id ?? c.nextID(prefix: "K") { if case .consentGiven(let p) = $0 { p.consentId } else { nil } }
            let payload = ConsentGiven(consentId: consentID, parties: parties, purposes: purposes, form: form, validUntil: until)
            try w.append([w.event(c.stream, .consentGiven(payload), at: when.resolve())],
                         expecting: [c.stream: .exactly(c.version)], notes: ["case \(caseID)", "consent \(consentID)"])
        }
    }
}
