import ArgumentParser
import ReferralEvents
import ReferralProjections

extension ReferralCommand {
    /// `referral history CASE`: every event of one case, for an audit.
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every event of one case in order: who, when, why, under which consent, with retractions beside what they retracted.",
            discussion: """
                Occurred is when it happened, Recorded when it entered the log (a meeting may \
                be registered weeks late). Consent lists the consents in force on that day; \
                for a referral, the one that covered it. With --as-of, the case as it was known \
                then. Sealed personal data is never opened here.

                Examples:
                  referral history 2024-0001
                  referral history 2024-0001 --as-of 01.03.2024 --json
                """
        )

        @Argument(help: ArgumentHelp("The case id.", valueName: "case"), transform: Parse.caseID)
        var caseID: String

        @OptionGroup var asOf: AsOfOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var storeOptions: StoreOptions

        static let columns = [
            Column("position", "Position"), Column("occurredAt", "Occurred"), Column("recordedAt", "Recorded"), Column("type", "Type"),
            Column("actor", "Actor"), Column("organisation", "Organisation"), Column("summary", "What"), Column("reason", "Why"),
            Column("consent", "Consent"), Column("retraction", "Retraction"), Column("eventId", "Event id"),
        ]

        func run() throws {
            let store = try storeOptions.open()
            let history = try CaseHistory(store: store, caseId: caseID, asOf: try asOf.position(in: store))
            var writer = output.writer(Self.columns)
            for e in history.entries {
                let consent = e.coveringConsent.map { "covered by \($0)" } ?? e.consentsInForce.joined(separator: ",")
                var retraction = ""
                if let by = e.retractedBy {
                    retraction = "RETRACTED at position \(by.position) by \(by.actor): \(by.reason)"
                } else if let target = e.retracts {
                    retraction = "retracts position \(target.position) (\(target.type))"
                }
                writer.row([.int(e.position), .timestamp(e.occurredAt), .timestamp(e.recordedAt), .text(e.type), .text(e.actor),
                            .text(e.organisation), .text(e.summary), .optional(e.reason), .text(consent), .text(retraction),
                            .text(e.eventId.uuidString.lowercased())])
            }
            writer.finish()
            if output.format == .table {
                Console.err.line("case \(caseID): \(history.entries.count) events, as of log position \(history.asOfPosition)")
            }
        }
    }
}
