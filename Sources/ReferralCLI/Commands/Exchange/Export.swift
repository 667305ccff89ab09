import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral export`: the log as CloudEvents JSON Lines.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the log, a position range or one stream as CloudEvents JSON Lines.",
            discussion: """
                One CloudEvents 1.0 JSON object per line (structured mode), keys sorted, readable \
                by any CloudEvents SDK and checkable against Schemas/ (see docs/cloudevents.md). \
                Each line carries the event's position, recorded-at and hashes as extension \
                attributes. Sealed personal data stays sealed; no CPR number is ever exported.

                Examples:
                  referral export --out all.jsonl
                  referral export --from 1001 --to 2000 > slice.jsonl
                  referral export --case 2024-0001
                """
        )

        @Option(parsing: .unconditional, help: ArgumentHelp("First position.", valueName: "position"))
        var from: UInt64?

        @Option(parsing: .unconditional, help: ArgumentHelp("Last position.", valueName: "position"))
        var to: UInt64?

        @Option(help: ArgumentHelp("Only this stream, e.g. registry or case-2024-0001.", valueName: "stream"))
        var stream: String?

        @Option(name: .customLong("case"), help: ArgumentHelp("Only this case (the same as --stream case-CASE).", valueName: "case"), transform: Parse.caseID)
        var caseID: String?

        @Option(help: ArgumentHelp("The CloudEvents source to write (default: urn:referral:org:<organisation> per event).", valueName: "uri"))
        var source: String?

        @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"), completion: .file())
        var out: String?

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if stream != nil && caseID != nil { throw ValidationError("give --stream or --case, not both") }
            if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to)") }
        }

        func run() throws {
            // The log's pages are released behind the replay, so that exporting a large log
            // does not keep it all resident (as `rebuild` does).
            let store = try storeOptions.open(lowMemoryReplay: true)
            let only = try existingStream(stream: stream, caseID: caseID, in: store)
            let sink = try out.map(FileOutput.init) ?? FileOutput.standardOutput
            let lo = max(from ?? 1, 1), hi = to ?? .max
            var count = 0
            if let s = only {
                let events = try store.readStream(s)
                for e in events where (lo...hi).contains(e.position) {
                    sink.console.write(e.cloudEventJSON(source: source) + "\n")
                    count += 1
                }
            } else if lo <= hi {
                try store.replay(from: lo, through: hi) { view in
                    sink.console.write(try view.decode().cloudEventJSON(source: source) + "\n")
                    count += 1
                    // A full disk: stop reading the log (`close` reports it) rather than
                    // export the rest of a large log into nothing.
                    return sink.console.writeError == nil
                }
            }
            try sink.close()
            if let out { Console.err.line("exported \(count) events to \(out)") }
        }
    }
}
