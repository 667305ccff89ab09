import Foundation

/// Where a batch sits in an append made in parts (`EventStore.appendChunked`): errors number
/// its events across the whole append, and an id written by an earlier part is a repeat
/// within the append, not a duplicate of the log.
struct AppendPart {
    /// Events in the parts before this one.
    var offset: Int
    /// The log's last position when the append began.
    var startPosition: UInt64
}

/// The outcome of an append made in parts: counts and positions, not one entry per event,
/// so that a long import holds nothing per event once its part is written.
public struct ChunkedAppendResult: Sendable, Hashable {
    /// Events given, in all parts.
    public var events: Int
    /// Events written (the rest were already in the log).
    public var written: Int
    /// The first written event's position; nil when none was written.
    public var firstPosition: UInt64?
    /// The log's last position after the append.
    public var headPosition: UInt64
    /// When the written events entered the log (all of them at once); nil when none was written.
    public var recordedAt: Timestamp?

    /// Events skipped because their id was already in the log.
    public var duplicates: Int { events - written }
}

extension EventStore {
    /// Appends a long sequence of events, handed over a part at a time, in one transaction:
    /// all of them or none, as `append(_:expecting:recordedAt:)` with them in one array, but
    /// without ever holding them all.
    ///
    /// `produce` reads its input from the start and calls `append` with each part in order
    /// (parts of a few thousand events suit it). Each part is checked as `append` checks a
    /// batch, with every earlier part already applied; an error names the event by its number
    /// in the whole append (`LogError.eventIndex` counts from the first part). An id already
    /// in the log before the call is skipped, as `append` skips it; an id given twice is
    /// refused. When `produce` or a part throws, nothing is written.
    ///
    /// `produce` may be called more than once: when the store's map is full, the transaction
    /// is abandoned, the map grown and `produce` called again, from the start. An input that
    /// cannot be read twice (a pipe) should call `reserveSpace(bytes:)` first and refuse to
    /// start over.
    ///
    /// ```swift
    /// let result = try store.appendChunked { append in
    ///     var reader = try MyLineReader(path: path)
    ///     while let part = try reader.next(upTo: 4096) { try append(part) }
    /// }
    /// ```
    ///
    /// With `asRecorded`, into an empty store only: the events are judged by the rules they
    /// were recorded under, without the rules that came later (`RulesBoundaries`),
    /// and the boundaries are set after them, in the same transaction. For moving an older
    /// store's history into a new one, where a history accepted before those checks (two
    /// first contacts, say) would otherwise be refused.
    @discardableResult
    public func appendChunked(recordedAt: Timestamp? = nil, asRecorded: Bool = false,
                              _ produce: (_ append: ([ProposedEvent]) throws -> Void) throws -> Void) throws -> ChunkedAppendResult {
        let now = clock()
        return try env.write { txn in
            let start = try txn.last(events).map { try EventView(checking: $0.value).position } ?? 0
            if asRecorded {
                guard start == 0 else {
                    throw LogError(.invalidInput, "a history is imported as recorded only into an empty store; this one holds \(start) events; make a new store (`referral init --store DIR`) and import into that")
                }
                try setRulesBoundaries(txn, .noEvent)
            }
            var result = ChunkedAppendResult(events: 0, written: 0, firstPosition: nil, headPosition: start, recordedAt: nil)
            try produce { part in
                guard !part.isEmpty else { return }
                let r = try appendPart(txn, part, recordedAt: recordedAt, now: now,
                                       part: AppendPart(offset: result.events, startPosition: start))
                result.events += part.count
                let written = r.events.reduce(0) { $1.duplicate ? $0 : $0 + 1 }
                if written > 0 {
                    if result.firstPosition == nil { result.firstPosition = result.headPosition + 1 }
                    result.written += written
                    result.recordedAt = r.recordedAt
                }
                result.headPosition = r.headPosition
            }
            if asRecorded { try setRulesBoundaries(txn, .after(result.headPosition)) }
            return result
        }
    }

    /// One part of `appendChunked`, validated as `append` validates a batch: on the
    /// encode-ahead thread when it is large.
    private func appendPart(_ txn: Transaction, _ events: [ProposedEvent], recordedAt: Timestamp?, now: Timestamp,
                            part: AppendPart) throws -> AppendResult {
        guard events.count >= Self.encodeAheadMinimum else {
            try Self.validateBatch(events, indexOffset: part.offset)
            return try appendInTransaction(txn, events, expecting: [:], recordedAt: recordedAt, now: now, part: part)
        }
        return try appendValidatingAhead(txn, events, expecting: [:], recordedAt: recordedAt, now: now, part: part)
    }

    /// Grows the store's map, if needed, so that at least `bytes` more can be written before
    /// it is full: a long `appendChunked` from an input that cannot be read twice then never
    /// has to start over. The map is address space, not disk: LMDB keeps the file as small as
    /// its pages.
    public func reserveSpace(bytes: Int) throws {
        try env.reserveMap(free: bytes)
    }
}
