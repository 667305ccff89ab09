import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral retention [--dry-run]`: erase what the retention policy says is due.
    struct Retention: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the retention policy: erase (by key destruction) every resident whose deletion deadline has passed.",
            discussion: """
                The policy (--policy, default <store>/retention.json) maps kinds of case (target \
                group, sector or organisation holding it) to deadlines counted from the day the \
                case closed, with the KLE code they come from, e.g.
                  {"rules":[{"match":{"targetGroup":"*"},"years":5,"kle":"P1825D"}]}
                A resident is due when all their cases have closed and the latest deadline has \
                passed. Residents with a recorded erasure refusal are held, never erased here. \
                --dry-run lists and changes nothing; without it every due resident is erased \
                like `referral forget`, with the rule and KLE code as reason and legal basis. \
                Format and rules: docs/data-protection.md.

                Examples:
                  referral retention --dry-run
                  referral retention --policy /etc/referral/retention.json --as-of 31.12.2029
                """
        )

        @Option(help: ArgumentHelp("The retention policy file (default: retention.json in the store).", valueName: "file"), completion: .file())
        var policy: String?

        @Option(name: .customLong("as-of"), help: ArgumentHelp("Apply the deadlines as of this day (default: today).", valueName: "date"), transform: Parse.date)
        var asOf: CalendarDate?

        @Flag(name: .customLong("dry-run"), help: "List what is due (and what is held or not yet due); change nothing.")
        var dryRun = false

        @OptionGroup var output: OutputOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        static let columns = [
            Column("resident", "Resident"), Column("status", "Status"), Column("dueOn", "Due"), Column("cases", "Cases"),
            Column("lastEnded", "Last ended"), Column("rules", "Rules"), Column("kle", "KLE"), Column("position", "Erased at"),
        ]

        func run() throws {
            let path = policy ?? storeOptions.directory + "/retention.json"
            let rules = try RetentionPolicy.load(path: path)
            let dp = try PrivacyCLI.open(storeOptions)
            let plan: RetentionPlan
            var erased: [Pseudonym: ErasureResult] = [:]
            if dryRun {
                plan = try dp.retentionPlan(policy: rules, asOf: asOf)
            } else {
                let actor = try PrivacyCLI.reader(identity)
                let applied = try dp.applyRetention(policy: rules, asOf: asOf, by: actor)
                plan = applied.plan
                for r in applied.erased { erased[r.resident] = r }
            }
            var writer = output.writer(Self.columns)
            func row(_ c: RetentionPlan.Candidate, _ status: String) {
                let kles = c.cases.map(\.kle).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                writer.row([.text(c.resident.hex), .text(status), .date(c.dueOn), .text(c.cases.map(\.caseID).joined(separator: ",")),
                            .optional(c.cases.map(\.endedOn).max()), .text(Set(c.cases.map(\.rule)).sorted().map(String.init).joined(separator: ",")),
                            .text(kles.joined(separator: ",")), erased[c.resident].map { .int($0.position) } ?? .empty])
            }
            for c in plan.due { row(c, dryRun ? "due" : "erased") }
            for c in plan.held { row(c, "held (refusal at \(c.refusalPosition ?? 0))") }
            for c in plan.notYetDue { row(c, "not yet due") }
            writer.finish()
            let verb = dryRun ? "due" : "erased"
            Console.err.line("retention as of \(plan.asOf.danish): \(plan.due.count) \(verb), \(plan.held.count) held by a refusal, \(plan.notYetDue.count) not yet due, \(plan.withOpenCases) with open cases, \(plan.alreadyErased) already erased")
            if !plan.unmatchedCases.isEmpty {
                Console.err.line("no rule of \(path) matches the closed case(s) \(plan.unmatchedCases.joined(separator: ", ")); they are kept until the policy covers them")
            }
        }
    }
}
