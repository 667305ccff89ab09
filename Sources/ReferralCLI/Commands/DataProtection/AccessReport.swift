import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral access-report RESIDENT --reason …`: GDPR art. 15 export as JSON.
    struct AccessReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "access-report",
            abstract: "Export everything held about one resident as JSON (GDPR art. 15), for the resident.",
            discussion: """
                Every case that names the resident with every event, their personal details \
                (opened, or marked erased), the erasure decisions about them and every \
                access-log entry about them. The report is for the resident, so it holds their \
                own name and CPR number and nobody else's. Only an organisation that holds one \
                of their cases may produce it (else exit 67); producing it is logged. With \
                --out (or --output) the file is created readable by you only and never \
                overwritten.

                Examples:
                  referral access-report 0123456789abcdef0123456789abcdef --reason "Indsigtsanmodning 12.03.2024" --out indsigt.json
                  echo 010190-1234 | referral access-report --cpr - --reason "Indsigtsanmodning"
                """
        )

        @OptionGroup var who: ResidentOptions
        @OptionGroup var why: ReasonOption

        // --out as in `export` and `head`; --output, its first name, still works.
        @Option(name: [.customLong("out"), .customLong("output")],
                help: ArgumentHelp("Write the report to this new file instead of standard output.", valueName: "file"), completion: .file())
        var output: String?

        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let reader = try PrivacyCLI.reader(identity)
            if let output, FileManager.default.fileExists(atPath: output) {
                throw CLIError(ExitStatus.alreadyExists, "\(output) already exists; an access report is never written over another file: choose a new name")
            }
            let dp = try PrivacyCLI.open(storeOptions)
            let resident = try who.resolve(dp.keys)
            let report = try dp.accessReport(resident: resident, by: reader, purpose: why.reason)
            let json = try report.json() + Data("\n".utf8)
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: json, attributes: [.posixPermissions: 0o600]) else {
                    throw CLIError.storage("cannot write \(output); check the directory exists and is writable (the report was logged but not saved: run it again)")
                }
                Console.err.line("access report for resident \(resident.hex) written to \(output): \(report.cases.count) case(s), \(report.cases.reduce(0) { $0 + $1.events.count }) event(s)")
            } else {
                Console.out.write(String(decoding: json, as: UTF8.self))
            }
        }
    }
}
