import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral access-log`: who was shown which personal data, when and why.
    struct AccessLogCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "access-log",
            abstract: "List who was shown which resident's personal data, when and why (refusals too).",
            discussion: """
                Every command that shows personal data (resident show, resident find, \
                access-report) records an entry: who, for which organisation, which case and \
                resident (as a pseudonym), which fields (names only, never values), why, on what \
                basis, and the event log's position then. The access log is a separate, \
                append-only, hash-chained file (access.mdb); --verify checks its chain.

                Examples:
                  referral access-log --case 2024-0001
                  referral access-log --reader vib-lis-02 --from 01.03.2024 --until 31.03.2024 --excel-csv > adgang.csv
                  referral access-log --verify
                """
        )

        @Option(name: .customLong("case"), help: ArgumentHelp("Only entries about this case.", valueName: "case"), transform: Parse.caseID)
        var caseID: String?

        @Option(help: ArgumentHelp("Only entries about this resident (pseudonym).", valueName: "resident"), transform: Parse.pseudonym)
        var resident: Pseudonym?

        @Option(name: .customLong("reader"), help: ArgumentHelp("Only reads by this actor.", valueName: "name"))
        var reader: String?

        @Option(name: .customLong("reader-org"), help: ArgumentHelp("Only reads for this organisation.", valueName: "org"))
        var readerOrganisation: String?

        @Option(help: ArgumentHelp("Only entries recorded on or after this date or time.", valueName: "date"), transform: Parse.instant)
        var from: Timestamp?

        @Option(help: ArgumentHelp("Only entries recorded on or before this date (the whole day) or time.", valueName: "date"), transform: Parse.endOfPeriod)
        var until: Timestamp?

        @Flag(help: "Check the chain of every entry instead of listing (exit 70 if an entry was removed from the middle, reordered or edited in place; entries removed from the end show only against a head file: `referral verify --head FILE`).")
        var verify = false

        @OptionGroup var output: OutputOptions
        @OptionGroup var storeOptions: StoreOptions

        static let columns = [
            Column("sequence", "#"), Column("recordedAt", "Recorded"), Column("actor", "Reader"), Column("organisation", "Organisation"),
            Column("action", "Action"), Column("outcome", "Outcome"), Column("cases", "Cases"), Column("resident", "Resident"),
            Column("fields", "Fields"), Column("purpose", "Why"), Column("basis", "Basis"), Column("logPosition", "Log position"),
        ]

        func validate() throws {
            if let from, let until, from > until {
                throw ValidationError("--from is after --until: nothing can lie between them; give the earlier date or time with --from")
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let log = try ReferralEvents.AccessLog(directory: store.directory)
            if verify {
                let report = try log.verify()
                if let failure = report.failure { throw failure }
                Console.out.line("access log: \(report.entriesChecked) entries, chain intact, head \(report.headHash)")
                return
            }
            let records = try log.list(AccessLogQuery(caseID: caseID, resident: resident, actor: reader, organisation: readerOrganisation,
                                                      from: from, through: until))
            var writer = output.writer(Self.columns)
            for r in records {
                let e = r.entry
                writer.row([.int(r.sequence), .timestamp(r.recordedAt), .text(e.reader.actor), .text(e.reader.organisation), .text(e.action.rawValue),
                            .text(e.outcome.rawValue), .text(e.cases.joined(separator: ",")), .optional(e.resident?.hex),
                            .text(e.fields.joined(separator: ",")), .text(e.purpose), .text(e.basis), .int(e.logPosition)])
            }
            writer.finish()
            if output.format == .table { Console.err.line("\(records.count) access entr\(records.count == 1 ? "y" : "ies")") }
        }
    }
}
