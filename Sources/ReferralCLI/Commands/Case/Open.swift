import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral open`: a resident starts being followed.
    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a case: a resident starts being followed by the secretariat.",
            discussion: """
                The resident is a pseudonym. Give it with --resident, or give the CPR number \
                with --cpr (DDMMYY-SSSS, or - to read it from standard input so it stays out \
                of the process list): the store's secret turns it into the pseudonym, and the \
                CPR number, with --name, --phone, --email and --address, is sealed with the \
                resident's own key. The CPR number never reaches the log in clear.

                Without a case id, the next free one of the year (YYYY-NNNN) is used and printed.

                Example:
                  referral open --cpr 010190-1234 --name "Resident Name" --area viborg-ellekonebakken --liaison vib-lis-01 --target-group jobparat --age-band 25-29 --gender female
                """
        )

        @Argument(help: ArgumentHelp("The case id (default: the next free YYYY-NNNN).", valueName: "case"), transform: Parse.caseID)
        var caseID: String?

        @Option(help: ArgumentHelp("The resident's pseudonym (32 hex digits).", valueName: "pseudonym"), transform: Parse.pseudonym)
        var resident: Pseudonym?

        @Option(help: ArgumentHelp("The resident's CPR number, DDMMYY-SSSS, or - to read it from standard input.", valueName: "cpr"))
        var cpr: String?

        @Option(help: "The resident's name (sealed; needs --cpr).")
        var name: String?
        @Option(help: "The resident's phone number (sealed; needs --cpr).")
        var phone: String?
        @Option(help: "The resident's e-mail address (sealed; needs --cpr).")
        var email: String?
        @Option(help: "The resident's address (sealed; needs --cpr).")
        var address: String?

        @Option(help: ArgumentHelp("The housing area the resident lives in.", valueName: "area"))
        var area: String

        @Option(help: ArgumentHelp("The liaison who follows the case.", valueName: "liaison"))
        var liaison: String

        @Option(name: .customLong("target-group"), help: ArgumentHelp("The target group (målgruppe) code, e.g. jobparat.", valueName: "code"))
        var targetGroup: String

        @Option(name: .customLong("age-band"), help: "The resident's age band.")
        var ageBand: AgeBand

        @Option(help: "The resident's gender.")
        var gender: Gender = .unknown

        @Option(help: ArgumentHelp("The organisation that follows the case (default: your --org).", valueName: "org"))
        var owner: String?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            switch (resident, cpr) {
            case (nil, nil): throw ValidationError("name the resident with --resident PSEUDONYM or --cpr DDMMYY-SSSS")
            case (.some, .some): throw ValidationError("give --resident or --cpr, not both")
            default: break
            }
            if cpr == nil, [name, phone, email, address].contains(where: { $0 != nil }) {
                throw ValidationError("--name, --phone, --email and --address are sealed with the CPR number; give --cpr too")
            }
            // Never echo the value: it is a CPR number.
            if let cpr, cpr != "-", PersonalDetails.normaliseCPR(cpr) == nil {
                throw ValidationError("--cpr is not a CPR number: use DDMMYY-SSSS with a real birth date")
            }
        }

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let occurredAt = when.resolve()
            var pseudonym: Pseudonym
            var sealed: SealedData?
            if let resident {
                pseudonym = resident
            } else {
                let cprText = try readCPR()
                let keys = try storeOptions.openKeys()
                pseudonym = try keys.pseudonym(forCPR: cprText)
                guard let normalised = PersonalDetails.normaliseCPR(cprText) else {
                    throw CLIError.usage("--cpr is not a CPR number: use DDMMYY-SSSS with a real birth date")
                }
                if let erased = try DataProtection.finishPendingErasure(of: pseudonym, store: w.store, keys: keys) {
                    Console.err.line("referral: this resident's erasure recorded at position \(erased) was unfinished; their old key is now destroyed, and the new details are sealed with a new one")
                }
                sealed = try keys.seal(PersonalDetails(cpr: normalised, name: name ?? "", phone: phone, email: email, address: address), for: pseudonym)
            }
            let payload = CaseOpened(resident: pseudonym, areaId: area, organisationId: owner ?? w.identity.organisation, liaisonId: liaison,
                                     targetGroup: targetGroup, ageBand: ageBand, gender: gender, personalData: sealed)
            if let caseID {
                // No `.noStream` expectation: the rule `case-already-exists` refuses a taken id
                // with a clearer message than a version conflict would.
                try w.append([w.event(.case(caseID), .caseOpened(payload), at: occurredAt)],
                             notes: ["case \(caseID)", "resident \(pseudonym.hex)"])
            } else {
                _ = try w.appendToNewStream(category: "case", year: occurredAt.date.year, { id in
                    [w.event(.case(id), .caseOpened(payload), at: occurredAt)]
                }, notes: { ["case \($0)", "resident \(pseudonym.hex)"] })
            }
        }

        private func readCPR() throws -> String {
            guard let cpr else { throw CLIError.usage("give --cpr") }
            guard cpr == "-" else { return cpr }
            guard let line = readLine(strippingNewline: true), PersonalDetails.normaliseCPR(line) != nil else {
                throw CLIError.usage("standard input does not hold a CPR number: write DDMMYY-SSSS with a real birth date")
            }
            return line
        }
    }
}
