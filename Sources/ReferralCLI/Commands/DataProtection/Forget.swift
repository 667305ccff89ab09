import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral forget RESIDENT --reason … --legal-basis …`: erasure by key destruction.
    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a resident (GDPR art. 17): record the decision, then destroy their key.",
            discussion: """
                Appends resident-erased (who, why, legal basis) to the stream resident-<pseudonym>, \
                then destroys the resident's key, so their sealed name, CPR number and contact \
                details can never be read again. The log, its hash chain and every statistic stay \
                as they were; `referral verify` still passes. If the command is interrupted after \
                the decision is recorded, run it again (or `referral forget --pending`): it records \
                nothing new and finishes destroying the key. To record that an erasure was \
                refused, use `referral refuse-erasure`.

                Examples:
                  referral forget 0123456789abcdef0123456789abcdef --reason "Borgerens anmodning" --legal-basis "GDPR art. 17(1)(a)"
                  echo 010190-1234 | referral forget --cpr - --reason "Borgerens anmodning" --legal-basis "GDPR art. 17(1)(a)"
                  referral forget --pending
                """
        )

        @Argument(help: ArgumentHelp("The resident's pseudonym (32 hex digits); or give --cpr.", valueName: "resident"), transform: Parse.pseudonym)
        var resident: Pseudonym?

        @Option(help: ArgumentHelp("The resident's CPR number, DDMMYY-SSSS, or - to read it from standard input.", valueName: "cpr"))
        var cpr: String?

        @Option(help: ArgumentHelp("Why the resident is erased; recorded in the event (no CPR numbers).", valueName: "text"))
        var reason: String?

        @Option(name: .customLong("legal-basis"), help: ArgumentHelp("The legal basis, e.g. \"GDPR art. 17(1)(a)\"; recorded in the event.", valueName: "text"))
        var legalBasis: String?

        @Flag(help: "Finish every recorded erasure whose key still exists (after an interruption); names no resident.")
        var pending = false

        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if pending {
                guard resident == nil, cpr == nil, reason == nil, legalBasis == nil else {
                    throw ValidationError("--pending names no resident, reason or legal basis: it finishes erasures already recorded")
                }
                return
            }
            try ResidentOptions.check(resident: resident, cpr: cpr)
            guard reason != nil else { throw ValidationError("say why with --reason: the erasure is recorded with its reason") }
            guard legalBasis != nil else { throw ValidationError("give the legal basis with --legal-basis, e.g. \"GDPR art. 17(1)(a)\"") }
        }

        func run() throws {
            if pending {
                let dp = try PrivacyCLI.open(storeOptions)
                let done = try dp.completePendingErasures()
                Console.out.line(done.isEmpty ? "no erasure was waiting for its key to be destroyed"
                                              : "destroyed the keys of \(done.count) resident(s) whose erasure was recorded: \(done.map(\.hex).joined(separator: ", "))")
                return
            }
            let actor = try PrivacyCLI.reader(identity)
            let dp = try PrivacyCLI.open(storeOptions)
            let who = try ResidentOptions.resolve(resident: resident, cpr: cpr, dp.keys)
            let r = try dp.forget(resident: who, reason: reason ?? "", legalBasis: legalBasis ?? "", by: actor)
            let key = r.keyDestroyed ? "key destroyed" : "no key left to destroy"
            Console.out.line(r.alreadyRecorded
                ? "resident \(who.hex) was already erased at position \(r.position); \(key)"
                : "position \(r.position)  resident \(who.hex)  erased; \(key)")
        }
    }

    /// `referral refuse-erasure RESIDENT --reason … --legal-basis …`
    struct RefuseErasure: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refuse-erasure",
            abstract: "Record that a request to erase a resident was refused (e.g. the duty to keep records); the key is kept.",
            discussion: """
                Appends erasure-refused (who, why, legal basis) to the stream resident-<pseudonym>. \
                Retention never erases a resident with a refusal on record; a later decision \
                can still erase with `referral forget`.

                Example:
                  referral refuse-erasure 0123456789abcdef0123456789abcdef --reason "Verserende klagesag" --legal-basis "Arkivloven § 4"
                """
        )

        @OptionGroup var who: ResidentOptions

        @Option(help: ArgumentHelp("Why the erasure is refused; recorded in the event (no CPR numbers).", valueName: "text"))
        var reason: String

        @Option(name: .customLong("legal-basis"), help: ArgumentHelp("The legal basis for keeping the data; recorded in the event.", valueName: "text"))
        var legalBasis: String

        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let actor = try PrivacyCLI.reader(identity)
            let dp = try PrivacyCLI.open(storeOptions)
            let resident = try who.resolve(dp.keys)
            let position = try dp.refuseErasure(resident: resident, reason: reason, legalBasis: legalBasis, by: actor)
            Console.out.line("position \(position)  resident \(resident.hex)  erasure refused; key kept")
        }
    }
}
