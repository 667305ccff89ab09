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
                attributes. Sealed personal data stays sealed; no CPR number is ever exported. \
                Each record is checked against its hash and the one before it as it is read, as \
                `referral verify` does: an export never passes on a record changed outside \
                referral, but stops there (exit 70; an --out file is not written). \
                Keys never leave the store: imported elsewhere, sealed details cannot be opened \
                and CPR look-ups do not find the residents; move a store with `referral backup`.

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
            if let source, !RecordedEvent.isCloudEventSource(source) {
                throw ValidationError("--source '\(source)' is not a URI reference; give one such as urn:referral:org:viborg (RFC 3986 characters, spaces written %20)")
            }
        }

        func run() throws {
            // The log's pages are released behind the replay, so that exporting a large log
            // does not keep it all resident (as `rebuild` does).
            let store = try storeOptions.open(lowMemoryReplay: true)
            let only = try existingStream(stream: stream, caseID: caseID, in: store)
            let sink = try out.map(FileOutput.init) ?? FileOutput.standardOutput
            let lo = max(from ?? 1, 1), hi = to ?? .max
            var count = 0
            var chain = ChainCheck()
            func export(_ view: EventView) throws -> Bool {
                try chain.check(view)
                sink.console.write(try view.decode().cloudEventJSON(source: source) + "\n")
                count += 1
                // A full disk: stop reading the log (`close` reports it) rather than
                // export the rest of a large log into nothing.
                return sink.console.writeError == nil
            }
            if let s = only {
                try store.replay(positions: try store.positions(of: s).filter { (lo...hi).contains($0) }, export)
            } else if lo <= hi {
                try store.replay(from: lo, through: hi, export)
            }
            try sink.close()
            if let out { Console.err.line("exported \(count) events to \(out)") }
        }
    }
}

/// What `referral verify` checks of each record, checked as an export reads it: the record's
/// hash over its bytes, and, for consecutive positions, that it names the hash of the one
/// before. An export is how a log moves to another store, where the importer gives the
/// events new hashes, so a record changed outside referral would come out looking sound.
struct ChainCheck {
    private var previous: (position: UInt64, hash: [UInt8])?

    mutating func check(_ view: EventView) throws {
        let position = view.position
        guard view.hashIsValid else {
            throw damaged("the record at position \(position) does not match its hash: it was changed outside referral")
        }
        if let previous, previous.position + 1 == position, !view.previousHashBytes.elementsEqual(previous.hash) {
            throw damaged("the record at position \(position) does not name the hash of the one before it: the log was changed outside referral")
        }
        previous = (position, Array(view.hashBytes))
    }

    private func damaged(_ what: String) -> LogError {
        LogError(.corrupt, what + " (the export stops before it, incomplete)")
    }
}
