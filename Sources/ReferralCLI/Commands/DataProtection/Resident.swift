import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral resident find|show`: find a resident by CPR number, or read a case's
    /// personal details through the consent gate. Every use is logged.
    struct Resident: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find a resident by CPR number, or show a case's personal details (consent-gated, logged).",
            discussion: """
                Both record in the access log who looked, for which organisation, at which case \
                and why (--reason); the log keeps the pseudonym, never the CPR number or the \
                details shown. See `referral access-log` and docs/data-protection.md.

                Examples:
                  echo 010190-1234 | referral resident find --cpr - --reason "Ny henvendelse"
                  referral resident show 2024-0001 --reason "Forberede første samtale"
                """,
            subcommands: [Find.self, Show.self]
        )

        /// `referral resident find --cpr …`
        struct Find: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Find a resident by CPR number and list the cases your organisation may see.",
                discussion: """
                    The CPR number is turned into the resident's pseudonym with the store's \
                    secret; it is never printed, logged or written to the event log. Listed are \
                    the cases your organisation holds and those where a valid consent names it \
                    for information-sharing or personal-details.

                    Example:
                      echo 010190-1234 | referral resident find --cpr - --reason "Ny henvendelse"
                    """
            )

            @Option(help: ArgumentHelp("The resident's CPR number, DDMMYY-SSSS, or - to read it from standard input.", valueName: "cpr"))
            var cpr: String

            @OptionGroup var why: ReasonOption
            @OptionGroup var output: OutputOptions
            @OptionGroup var identity: IdentityOptions
            @OptionGroup var storeOptions: StoreOptions

            func validate() throws {
                if cpr != "-", PersonalDetails.normaliseCPR(cpr) == nil {
                    throw ValidationError("--cpr is not a CPR number: use DDMMYY-SSSS with a real birth date")
                }
            }

            func run() throws {
                let reader = try PrivacyCLI.reader(identity)
                let dp = try PrivacyCLI.open(storeOptions)
                let found = try dp.findResident(cpr: try PrivacyCLI.readCPR(cpr), by: reader, purpose: why.reason)
                var writer = output.writer([Column("resident", "Resident"), Column("case", "Case"), Column("organisation", "Held by"),
                                            Column("open", "Open"), Column("basis", "Basis")])
                for c in found.cases {
                    writer.row([.text(found.resident.hex), .text(c.caseID), .text(c.organisation), .text(c.isOpen ? "yes" : "no"), .text(c.basis.description)])
                }
                writer.finish()
                if output.format == .table {
                    Console.err.line("resident \(found.resident.hex): \(found.cases.count) case(s) you may see\(found.erased ? "; erased" : ""); logged as access entry \(found.access.sequence)")
                }
            }
        }

        /// `referral resident show CASE --reason …`
        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show the personal details of a case, if your organisation holds it or a valid consent covers personal-details.",
                discussion: """
                    The organisation that holds the case may always see them. Any other needs a \
                    consent of the case that names it for the purpose personal-details and is \
                    valid today (not withdrawn, not expired, not lapsed by the case closing); \
                    otherwise the read is refused (exit 67) with the missing consent named. \
                    Reads and refusals are both logged. Details of an erased resident show as erased; \
                    details sealed in another store (imported) as key not in this store.

                    Example:
                      referral resident show 2024-0001 --reason "Forberede første samtale"
                    """
            )

            @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
            var caseID: String

            @OptionGroup var why: ReasonOption
            @OptionGroup var output: OutputOptions
            @OptionGroup var identity: IdentityOptions
            @OptionGroup var storeOptions: StoreOptions

            func run() throws {
                let reader = try PrivacyCLI.reader(identity)
                let dp = try PrivacyCLI.open(storeOptions)
                let read = try dp.readPersonalDetails(caseID: caseID, by: reader, purpose: why.reason)
                var writer = output.writer([Column("case", "Case"), Column("resident", "Resident"), Column("status", "Status"), Column("cpr", "CPR"),
                                            Column("name", "Name"), Column("phone", "Phone"), Column("email", "E-mail"), Column("address", "Address"),
                                            Column("basis", "Basis")])
                let d = read.details.details
                // For programs the access report's codes, for people words.
                let machine = output.format == .json || output.format == .csv
                let status = switch read.details {
                case .present: "present"
                case .erased: "erased"
                case .keyNotInStore: machine ? "key-not-in-store" : "key not in this store"
                case .none: machine ? "none" : "none recorded"
                }
                writer.row([.text(read.caseID), .text(read.resident.hex), .text(status), .optional(d.map { PrivacyCLI.showCPR($0.cpr) }),
                            .optional(d?.name), .optional(d?.phone), .optional(d?.email), .optional(d?.address), .text(read.basis.description)])
                writer.finish()
                if read.details == .keyNotInStore {
                    Console.err.line("the details were sealed in another store, whose key never left it (imported by export/import, which carries no keys); they are not erased: read them in the store they came from, and move stores with `referral backup`")
                }
                if output.format == .table {
                    Console.err.line("logged as access entry \(read.access.sequence) (\(reader), \(read.basis))")
                }
            }
        }
    }
}
