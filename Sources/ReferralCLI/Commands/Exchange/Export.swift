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
                Each record is checked against its hash, and in a range against the one before \
                it, as it is read, as `referral verify` does: a record changed, removed or moved \
                outside referral stops the export there (exit 70; an --out file is not written). \
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
            if only == nil, lo > 1, lo <= hi {
                // The first record exported must name the one before it, and follow it.
                guard let before = try store.event(at: lo - 1) else {
                    throw LogError(.corrupt, "the log has no record at position \(lo - 1), before --from \(lo) (the export stops before it, incomplete)")
                }
                chain.expect(after: lo - 1, hash: before.envelope.hash.bytes)
            } else if only == nil {
                chain.expect(after: 0, hash: Array(repeating: 0, count: 32))
            }
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
                // The last record exported must be the one the next record names, if any.
                if let last = chain.last, let next = try store.event(at: last.position + 1),
                   next.envelope.previousHash.bytes != last.hash {
                    throw LogError(.corrupt, "the record at position \(last.position) is not the one the record after it names: it was changed outside referral (the export is incomplete)")
                }
            }
            try sink.close()
            if let out { Console.err.line("exported \(count) events to \(out)") }
        }
    }
}

/// What `referral verify` checks of each record, checked as an export reads it: the record's
/// hash over its bytes, and, in a range (`expect(after:hash:)`), that positions follow one
/// another without a gap and each record names the hash of the one before. An export is how
/// a log moves to another store, where the importer gives the events new hashes, so a record
/// changed, removed or moved outside referral would come out looking sound. (One stream's
/// events are not consecutive, so for them only each record's own hash is checked; and, as
/// for `verify` without a head file, a last record rewritten with a recomputed hash cannot
/// be told from a true one.)
struct ChainCheck {
    private var previous: (position: UInt64, hash: [UInt8])?
    private var consecutive = false

    /// The last record checked.
    var last: (position: UInt64, hash: [UInt8])? { previous }

    /// The range starts after `position`, whose record has `hash` (0 and zeros: the log's start).
    mutating func expect(after position: UInt64, hash: [UInt8]) {
        previous = (position, hash)
        consecutive = true
    }

    mutating func check(_ view: EventView) throws {
        let position = view.position
        guard view.hashIsValid else {
            throw damaged("the record at position \(position) does not match its hash: it was changed outside referral")
        }
        if consecutive, let previous {
            guard position == previous.position + 1 else {
                throw damaged("the log jumps from position \(previous.position) to \(position): records were removed or moved outside referral")
            }
            guard view.previousHashBytes.elementsEqual(previous.hash) else {
                throw damaged("the record at position \(position) does not name the hash of the one before it: the log was changed outside referral")
            }
        }
        previous = (position, Array(view.hashBytes))
    }

    private func damaged(_ what: String) -> LogError {
        LogError(.corrupt, what + " (the export stops before it, incomplete)")
    }
}
