import ArgumentParser
import ReferralEvents
import ReferralProjections

extension ReferralCommand {
    /// `referral caseload`: open cases and what needs attention.
    struct Caseload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open cases per liaison, organisation or area, with what needs attention.",
            discussion: """
                Flags: active-placement (a placement started and not ended), awaiting-answer \
                (a referral not yet answered), inactive (no event for --inactive-days, 30), \
                consent-expiring (a consent in force ends within --consent-days, 14). They are \
                judged on --today (default: today, or the --as-of day). With --by, counts per \
                liaison, organisation or area instead of one row per case. A liaison's own \
                caseload is never suppressed.

                Examples:
                  referral caseload --liaison vib-lis-01
                  referral caseload --by area --today 31.12.2025
                  referral caseload --flag awaiting-answer --excel-csv > venter.csv
                """
        )

        enum Flag: String, ExpressibleByArgument, CaseIterable {
            case activePlacement = "active-placement", awaitingAnswer = "awaiting-answer", inactive
            case consentExpiring = "consent-expiring"

            var flags: CaseloadFlags {
                switch self {
                case .activePlacement: .activePlacement
                case .awaitingAnswer: .awaitingAnswer
                case .inactive: .inactive
                case .consentExpiring: .consentExpiring
                }
            }
        }

        enum Grouping: String, ExpressibleByArgument, CaseIterable {
            case liaison, organisation, area
            var grouping: CaseloadGrouping {
                switch self {
                case .liaison: .liaison
                case .organisation: .organisation
                case .area: .area
                }
            }
        }

        @Option(help: ArgumentHelp("Only this liaison's cases.", valueName: "liaison"))
        var liaison: String?

        @Option(name: .customLong("organisation"), help: ArgumentHelp("Only this organisation's cases.", valueName: "org"))
        var organisation: String?

        @Option(help: ArgumentHelp("Only cases in this housing area.", valueName: "area"))
        var area: String?

        @Option(name: .customLong("flag"), help: ArgumentHelp("Only cases with this flag (repeat to require several).", valueName: "flag"))
        var required: [Flag] = []

        @Option(help: "Count per liaison, organisation or area instead of listing cases.")
        var by: Grouping?

        @Option(help: ArgumentHelp("The day the flags are judged on (default: today, or the --as-of day).", valueName: "date"), transform: Parse.date)
        var today: CalendarDate?

        @Option(name: .customLong("inactive-days"), parsing: .unconditional, help: ArgumentHelp("Days without events before a case counts as inactive.", valueName: "n"), transform: Parse.wholeNumber)
        var inactiveDays: Int = 30

        @Option(name: .customLong("consent-days"), parsing: .unconditional, help: ArgumentHelp("Days ahead in which an ending consent is flagged.", valueName: "n"), transform: Parse.wholeNumber)
        var consentDays: Int = 14

        @OptionGroup var asOf: AsOfOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if inactiveDays < 1 { throw ValidationError("--inactive-days must be at least 1") }
            if consentDays < 0 { throw ValidationError("--consent-days must be 0 or more") }
            if by != nil && (liaison != nil || organisation != nil || area != nil || !required.isEmpty) {
                throw ValidationError("--by counts every open case; leave out --liaison, --organisation, --area and --flag")
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let view = try ProjectionAccess.view(store, asOf: asOf)
            let day = today ?? asOf.asOf?.date ?? Timestamp.now().date
            // Idle days would come out negative for a case shown: the view holds facts from
            // after the day it is judged on.
            func refuseJudgingBeforeFacts(_ rows: [CaseloadRow]) throws {
                guard let today, let latest = rows.max(by: { $0.lastActivity < $1.lastActivity }), latest.lastActivity > today else { return }
                throw CLIError.usage("--today \(today.danish) is before the last activity of case \(latest.caseId) (\(latest.lastActivity.danish)): the flags would be judged on a day before the facts they judge; give a later day, or add --as-of \(today.danish) to see the caseload as it was known then")
            }
            if let by {
                if today != nil { try refuseJudgingBeforeFacts(view.caseload(CaseloadQuery(today: day))) }  // --by counts every case
                let rows = try view.caseloadSummary(by: by.grouping, today: day, inactiveAfterDays: inactiveDays, consentWarningDays: consentDays)
                var t = Table([Column(by.rawValue, by.rawValue.capitalized), Column("openCases", "Open"), Column("activePlacement", "Active placement"),
                               Column("awaitingAnswer", "Awaiting answer"), Column("inactive", "Inactive"), Column("consentExpiring", "Consent expiring")])
                for r in rows {
                    t.rows.append([.text(r.group), .int(r.openCases), .int(r.activePlacement), .int(r.awaitingAnswer), .int(r.inactive), .int(r.consentExpiring)])
                }
                output.print(t)
            } else {
                let query = CaseloadQuery(today: day, liaison: liaison, organisation: organisation, area: area,
                                          requiring: CaseloadFlags(required.map(\.flags)), inactiveAfterDays: inactiveDays, consentWarningDays: consentDays)
                let rows = try view.caseload(query)
                try refuseJudgingBeforeFacts(rows)
                var writer = output.writer(Self.columns)
                for r in rows {
                    writer.row([.text(r.caseId), .text(r.liaison), .text(r.organisation), .text(r.area), .text(r.targetGroup), .date(r.openedOn),
                                .date(r.lastActivity), .int(r.daysSinceActivity), .int(r.activePlacements), .int(r.pendingReferrals),
                                .int(r.consentsInForce), .optional(r.nextConsentExpiry), .text(r.flags.description)])
                }
                writer.finish()
            }
            if output.format == .table {
                Console.err.line("as of log position \(try view.position()), judged on \(day.danish)")
            }
        }

        static let columns = [
            Column("case", "Case"), Column("liaison", "Liaison"), Column("organisation", "Organisation"), Column("area", "Area"),
            Column("targetGroup", "Target group"), Column("openedOn", "Opened"), Column("lastActivity", "Last activity"),
            Column("daysSinceActivity", "Idle days"), Column("activePlacements", "Placements"), Column("pendingReferrals", "Awaiting"),
            Column("consentsInForce", "Consents"), Column("nextConsentExpiry", "Consent ends"), Column("flags", "Flags"),
        ]
    }
}
