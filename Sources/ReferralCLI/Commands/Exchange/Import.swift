import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral import`: CloudEvents JSON Lines into the log, all or nothing.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append CloudEvents JSON Lines to the log: all of them, or none.",
            discussion: """
                Every line is checked against the event schemas first (see docs/cloudevents.md); \
                each error names the line, the field and the rule, and then nothing is written \
                (exit 65). The events are then appended in one transaction, checked against the \
                domain rules in order; a refusal names the line and the rule and writes nothing \
                (exit 67). Events keep their own actor, organisation and occurred-at; the log \
                assigns position, recorded-at and hashes. An event whose id is already in the \
                log is skipped, so importing a file twice is harmless.

                Examples:
                  referral import events.jsonl
                  referral export --store /srv/old | referral import --store /srv/new -
                """
        )

        @Argument(help: ArgumentHelp("A JSON Lines file, or - for standard input.", valueName: "file"), completion: .file())
        var file: String

        @Flag(name: .customLong("dry-run"), help: "Only check the file against the schemas; write nothing.")
        var dryRun = false

        @Option(name: .customLong("max-errors"), help: ArgumentHelp("Stop reporting after this many bad lines.", valueName: "n"))
        var maxErrors = 20

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard maxErrors > 0 else { throw ValidationError("--max-errors must be at least 1") }
        }

        func run() throws {
            let store = try storeOptions.open()
            let data = try readInput()
            let result = CloudEventLines.read(data, maxErrors: maxErrors)
            if !result.errors.isEmpty {
                for e in result.errors { Console.err.line("referral: \(source): \(e.message)") }
                let more = result.errors.count >= maxErrors ? " (stopped after \(maxErrors) errors)" : ""
                throw CLIError.invalidData("\(source) has \(result.errors.count) bad line\(result.errors.count == 1 ? "" : "s")\(more); nothing was imported. Fix the lines named above and import again")
            }
            let events = result.events.map(\.event)
            guard !events.isEmpty else {
                Console.out.line("\(source) holds no events; nothing was imported")
                return
            }
            if dryRun {
                Console.out.line("\(source): \(events.count) events are well formed (domain rules are checked only when appending); nothing was written")
                return
            }
            let appended: AppendResult
            do {
                appended = try store.append(events)
            } catch var e as LogError {
                if let i = e.eventIndex, i < result.events.count {
                    e.message = "\(source) line \(result.events[i].line): " + e.message
                }
                throw e
            }
            let fresh = appended.events.filter { !$0.duplicate }
            let positions = fresh.isEmpty ? "" : " at positions \(fresh[0].position)–\(fresh[fresh.count - 1].position)"
            Console.out.line("imported \(fresh.count) events\(positions)" + (fresh.count < events.count ? "; \(events.count - fresh.count) were already in the log" : ""))
        }

        private var source: String { file == "-" ? "standard input" : file }

        private func readInput() throws -> Data {
            if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
            guard FileManager.default.fileExists(atPath: file) else {
                throw CLIError.notFound("there is no file \(file)")
            }
            do {
                return try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw CLIError.storage("cannot read \(file): \(error.localizedDescription)")
            }
        }
    }
}
