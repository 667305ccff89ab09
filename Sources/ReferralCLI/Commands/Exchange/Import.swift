import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral import`: CloudEvents JSON Lines into the log, all or nothing.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append CloudEvents JSON Lines to the log: all of them, or none.",
            discussion: """
                The input is read once, a part at a time, and appended in one transaction, so a \
                file of any size is imported in little memory (docs/cli.md). Every line \
                is checked against the event schemas (see docs/cloudevents.md); each error names \
                the line, the field and the rule, and then nothing is written (exit 65). Each \
                event is checked against the domain rules with the earlier ones applied; a \
                refusal names the line and the rule and writes nothing (exit 67). Bad lines are \
                reported before a refusal, as if the file had been checked first. Events keep \
                their own actor, organisation and occurred-at; the log assigns position, \
                recorded-at and hashes. An event whose id is already in the log is skipped, so \
                importing a file twice is harmless; one with that id but other content is \
                refused (exit 65), and so is an id twice in the input. \
                Residents' keys and the store secret are not in an export: sealed details \
                imported from another store show as "key not in this store" and CPR look-ups \
                do not find those residents; move a store with `referral backup`.

                Examples:
                  referral import events.jsonl
                  referral export --store /srv/old | referral import --store /srv/new -
                """
        )

        @Argument(help: ArgumentHelp("A JSON Lines file, or - for standard input.", valueName: "file"), completion: .file())
        var file: String

        @Flag(name: .customLong("dry-run"), help: "Only check the file against the schemas; write nothing.")
        var dryRun = false

        @Option(name: .customLong("max-errors"), parsing: .unconditional, help: ArgumentHelp("Stop reporting after this many bad lines.", valueName: "n"), transform: Parse.wholeNumber)
        var maxErrors: Int = 20

        @Flag(name: .customLong("as-recorded"), help: "Into an empty store: judge the events by the rules they were recorded under, without the rules that came with layouts 5 and 6 (for moving an older store's history).")
        var asRecorded = false

        @Option(name: .customLong("part-size"), help: ArgumentHelp("Events handed to the store at a time (for tests).", visibility: .hidden))
        var partSize = 16_384

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard maxErrors > 0 else { throw ValidationError("--max-errors must be at least 1") }
            guard partSize > 0 else { throw ValidationError("--part-size must be at least 1") }
        }

        func run() throws {
            let store = try storeOptions.open()
            if file != "-" {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw CLIError.notFound("there is no file \(file)")
                }
            }
            if dryRun { return try checkOnly() }
            // A pipe cannot be read twice, so the map is grown up front to hold it: a full map
            // mid-import would start the transaction over from the first line. The map is
            // address space, not disk.
            let fileSize = file == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? nil
            try store.reserveSpace(bytes: fileSize.map { 2 * $0 + (64 << 20) } ?? (16 << 30))
            var attempts = 0
            var badLines: [ImportError] = []
            let result: ChunkedAppendResult
            do {
                result = try store.appendChunked(asRecorded: asRecorded) { append in
                    attempts += 1
                    if attempts > 1 && file == "-" {
                        throw CLIError.storage("standard input held more than the store had room for, and it cannot be read again; nothing was imported. Save it to a file and import the file")
                    }
                    badLines = try appendLines(to: append, size: fileSize)
                    if !badLines.isEmpty { throw BadLines() }
                }
            } catch is BadLines {
                throw report(badLines)
            }
            guard result.events > 0 else {
                Console.out.line("\(source) holds no events; nothing was imported")
                return
            }
            let positions = result.firstPosition.map { " at positions \($0)–\(result.headPosition)" } ?? ""
            Console.out.line("imported \(result.written) events\(positions)" + (result.duplicates > 0 ? "; \(result.duplicates) were already in the log" : ""))
        }

        /// Thrown out of the transaction when lines could not be read, which are then reported.
        private struct BadLines: Error {}

        /// Reads the input from its start, handing the events to `append` a part at a time;
        /// the lines are parsed on another thread meanwhile (`PartsAhead`). Returns the bad
        /// lines (at most `maxErrors`); a bad line stops the appending but not the reading, so
        /// that every bad line is reported, and so is one after a refused event: bad lines are
        /// reported first, as if the file had been checked before.
        /// `size` is the file's, for the progress report (none for a pipe, nor under 32 MiB,
        /// which imports in well under a second).
        private func appendLines(to append: ([ProposedEvent]) throws -> Void, size: Int?) throws -> [ImportError] {
            let parts = PartsAhead(try makeReader(), partSize: partSize, maxErrors: maxErrors)
            parts.start()
            defer { parts.cancel() }  // stopped before this returns or throws
            let progress = (size ?? 0) >= 32 << 20 ? Progress(label: "imported", unit: "MB") : nil
            defer { progress?.finish() }
            var badLines: [ImportError] = []
            var refused: LogError?
            var given = 0  // events handed over in earlier parts
            reading: while true {
                switch parts.next() {
                case .part(let entries, let offset):
                    guard badLines.isEmpty, refused == nil else { continue }
                    do {
                        try append(entries.map(\.event))
                    } catch var e as LogError where e.resultCode == nil {  // refused (an LMDB error goes on up)
                        if let i = e.eventIndex, entries.indices.contains(i - given) {
                            e.message = "\(source) line \(entries[i - given].line): " + e.message
                        }
                        refused = e
                        parts.onlyBadLines()
                    }
                    given += entries.count
                    if let progress, let size {
                        progress.update(UInt64(offset >> 20), of: UInt64(size >> 20), note: Progress.grouped(Int64(given)) + " events")
                    }
                case .badLine(let error):
                    badLines.append(error)
                    if badLines.count >= maxErrors { break reading }
                case .end:
                    break reading
                case .failed(let error):
                    throw CLIError.storage("\(source): \(error.rule)")
                }
            }
            if badLines.isEmpty, let refused { throw refused }
            return badLines
        }

        /// `--dry-run`: every line read and checked against the schemas, nothing kept.
        private func checkOnly() throws {
            let reader = try makeReader()
            var events = 0
            var badLines: [ImportError] = []
            while badLines.count < maxErrors, let next = try read(reader) {
                switch next {
                case .success: events += 1
                case .failure(let error): badLines.append(error)
                }
            }
            if !badLines.isEmpty { throw report(badLines) }
            if events == 0 {
                Console.out.line("\(source) holds no events; nothing was imported")
            } else {
                Console.out.line("\(source): \(events) events are well formed (domain rules are checked only when appending); nothing was written")
            }
        }

        /// Prints one error per bad line and gives the error to exit with.
        private func report(_ badLines: [ImportError]) -> CLIError {
            for e in badLines { Console.err.line("referral: \(source): \(e.message)") }
            // Reading stops at the limit, so there may be more.
            let count = badLines.count >= maxErrors ? "at least \(maxErrors) bad lines (reading stopped after \(maxErrors))"
                : "\(badLines.count) bad line\(badLines.count == 1 ? "" : "s")"
            return CLIError.invalidData("\(source) has \(count); nothing was imported. Fix the lines named above and import again")
        }

        private func makeReader() throws -> CloudEventLines.Reader {
            if file == "-" { return CloudEventLines.Reader(fileDescriptor: 0) }
            do {
                return try CloudEventLines.Reader(path: file)
            } catch {
                throw CLIError.storage(error.rule)
            }
        }

        /// The reader's next line; an input that cannot be read is a storage error.
        private func read(_ reader: CloudEventLines.Reader) throws -> Result<CloudEventLines.Entry, ImportError>? {
            do {
                return try reader.next()
            } catch {
                throw CLIError.storage("\(source): \(error.rule)")
            }
        }

        private var source: String { file == "-" ? "standard input" : file }
    }
}
