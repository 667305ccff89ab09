import ArgumentParser
import ReferralEvents

/// The root of `referral`: the event-sourced case and referral tracker between a
/// municipality's jobcenter and social housing organisations.
///
/// Each subcommand lives in its own file under Commands/ as an extension of this type.
/// Adding one is one line in `groups` below.
struct ReferralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "referral",
        abstract: "Record and read referrals between the jobcenter and social housing, as an append-only event log.",
        discussion: """
            Every fact (a case opened, consent given, a referral made, hours logged) is an \
            immutable event in one hash-chained log; caseloads and statistics are rebuilt \
            from it. Mistakes are corrected with `referral retract`, never by editing.

            STORE
              \(StoreLocation.helpText) --store, --actor and --org may also \
            come before the subcommand: referral --store DIR caseload.

            IDENTITY
              \(IdentityOptions.helpText)

            DATES
              Dates are accepted as YYYY-MM-DD (ISO 8601) or DD.MM.YYYY; times as ISO 8601 \
            date-times (2024-03-01T09:30:00Z). Tables show dates as DD.MM.YYYY, times in UTC.

            OUTPUT
              Read commands print aligned tables; --json, --csv (RFC 4180) and --excel-csv \
            (semicolon, UTF-8 BOM, CRLF, decimal comma) are for machines and Danish Excel. \
            Tables show control characters in free text as escapes (\\u{1B}); --excel-csv \
            puts ' before text starting with = + - @ so Excel does not run it as a formula; \
            --csv and --json keep text as recorded. Errors go to standard error and say what \
            to do.

            EXIT STATUS
            \(ExitStatus.table)

            SHELL COMPLETION
              referral --generate-completion-script bash > referral.bash
              (also zsh and fish; where to put them: docs/cli.md)

            Example (the demo, its caseloads and statistics):
              referral demo --store /tmp/referral-demo --size small
              referral caseload --store /tmp/referral-demo --by area --today 31.12.2025
              referral stats funnel --store /tmp/referral-demo --by area --year 2025
            """,
        // The store layout too: which build reads which store (`unsupported-format` names it).
        version: "0.1.0 (store layout \(EventStore.layoutFormat))",
        groupedSubcommands: groups
    )

    /// The subcommands, grouped as `--help` shows them.
    static let groups: [CommandGroup] = [
        CommandGroup(name: "Setup", subcommands: [Init.self, Config.self, Demo.self]),
        CommandGroup(name: "Reference data", subcommands: [Registry.self]),
        CommandGroup(name: "Cases", subcommands: [
            Open.self, Assign.self, Consent.self, WithdrawConsent.self, Refer.self, Answer.self, Contact.self,
            StartPlacement.self, EndPlacement.self, Outcome.self, Close.self, Reopen.self, Retract.self,
        ]),
        CommandGroup(name: "Shared employee hours", subcommands: [AgreeHours.self, LogHours.self, EndAgreement.self]),
        CommandGroup(name: "Reading", subcommands: [Caseload.self, History.self, Stats.self, Log.self]),
        CommandGroup(name: "Exchange", subcommands: [Import.self, Export.self]),
        CommandGroup(name: "Operations", subcommands: [Rebuild.self, Verify.self, Head.self, Backup.self]),
        CommandGroup(name: "Data protection", subcommands: dataProtection),
    ]

    /// The data-protection commands (forget, access-report, access-log, retention): one
    /// line each.
    static let dataProtection: [any ParsableCommand.Type] = [
        Resident.self, AccessReportCommand.self, AccessLogCommand.self, Forget.self, RefuseErasure.self, Retention.self,
    ]
}
