import Foundation

/// What happened to one event of an append.
public struct AppendedEvent: Sendable, Hashable {
    public var id: UUID
    public var stream: StreamID
    public var position: UInt64
    public var version: UInt64
    /// True when the id was already in the log: nothing was written and `position` is the original.
    public var duplicate: Bool
}

/// The outcome of an atomic append.
public struct AppendResult: Sendable, Hashable {
    /// One entry per proposed event, in order.
    public var events: [AppendedEvent]
    /// The log's last position after the append.
    public var headPosition: UInt64
    public var recordedAt: Timestamp
}

extension EventStore {
    /// Appends `events` atomically: all of them or none.
    ///
    /// Before anything is written, each event is checked against the domain rules (with the
    /// batch's earlier events already applied) and each stream in `expecting` against its
    /// expected version. An event whose id is already in the log is not written again; its
    /// original position is returned (`duplicate`), however long ago it was written. An
    /// event with such an id but other content (`difference(stored:proposed:)`) is refused
    /// with `.invalidInput`.
    ///
    /// - Parameters:
    ///   - expecting: the expected version per stream; streams not named are not checked.
    ///   - recordedAt: when the events entered the log. Defaults to now; a migration or
    ///     import may give an earlier time, but never one before the log's last event
    ///     (recorded-at never decreases along the log) nor one in the future.
    /// - Throws: `LogError` with code `.conflict`, `.ruleViolation` (naming the rule and the
    ///   event), `.invalidInput` or `.storage`. Nothing is written when it throws.
    @discardableResult
    public func append(_ events: [ProposedEvent], expecting: [StreamID: ExpectedVersion] = [:],
                       recordedAt: Timestamp? = nil) throws -> AppendResult {
        try append(events, expecting: expecting, recordedAt: recordedAt, encodeAheadFrom: Self.encodeAheadMinimum)
    }

    /// `append(_:expecting:recordedAt:)` with the smallest batch that encodes its records on
    /// a second thread given, so tests can run both ways on the same events.
    @discardableResult
    func append(_ events: [ProposedEvent], expecting: [StreamID: ExpectedVersion] = [:],
                recordedAt: Timestamp? = nil, encodeAheadFrom: Int) throws -> AppendResult {
        let now = clock()
        guard events.count >= encodeAheadFrom else {
            try Self.validateBatch(events)
            return try env.write { txn in
                try appendInTransaction(txn, events, expecting: expecting, recordedAt: recordedAt, now: now,
                                        encodeAheadFrom: encodeAheadFrom)
            }
        }
        return try env.write { txn in
            try appendValidatingAhead(txn, events, expecting: expecting, recordedAt: recordedAt, now: now,
                                      encodeAheadFrom: encodeAheadFrom)
        }
    }

    /// Appends a large batch in `txn` while it is validated on the encode-ahead thread: no
    /// event reaches the rule checks before it is validated, and an invalid batch fails with
    /// the validation's error, whatever else went wrong, as if it had been validated first.
    func appendValidatingAhead(_ txn: Transaction, _ events: [ProposedEvent], expecting: [StreamID: ExpectedVersion],
                               recordedAt: Timestamp?, now: Timestamp, encodeAheadFrom: Int = EventStore.encodeAheadMinimum,
                               part: AppendPart? = nil) throws -> AppendResult {
        let validation = ValidateAhead(events, indexOffset: part?.offset ?? 0)
        validation.start()
        defer { _ = validation.finish() }  // stopped before this returns or throws
        let result: AppendResult
        do {
            result = try appendInTransaction(txn, events, expecting: expecting, recordedAt: recordedAt, now: now,
                                             encodeAheadFrom: encodeAheadFrom, validation: validation, part: part)
        } catch {
            if let invalid = validation.finish() { throw invalid }
            throw error
        }
        if let invalid = validation.finish() { throw invalid }  // before the commit
        return result
    }

    /// Appends one event. See `append(_:expecting:recordedAt:)`.
    @discardableResult
    public func append(_ event: ProposedEvent, expected: ExpectedVersion = .any) throws -> AppendedEvent {
        try append([event], expecting: [event.stream: expected]).events[0]
    }

    /// - Parameters:
    ///   - encodeAheadFrom: the smallest batch (events to write) whose records are encoded on
    ///     a second thread while the rules are checked (`EncodeAhead`); tests lower it to run
    ///     both paths on the same events.
    ///   - validation: the batch's validation when it runs on that thread, still going;
    ///     nil when the batch was validated before.
    ///   - part: where the batch sits in an append made in parts (`appendChunked`); nil
    ///     for a whole append.
    func appendInTransaction(_ txn: Transaction, _ batch: [ProposedEvent], expecting: [StreamID: ExpectedVersion],
                             recordedAt requested: Timestamp?, now: Timestamp,
                             encodeAheadFrom: Int = EventStore.encodeAheadMinimum,
                             validation: ValidateAhead? = nil, part: AppendPart? = nil) throws -> AppendResult {
        let indexOffset = part?.offset ?? 0
        // The head: position, hash and recorded-at of the last event.
        var position: UInt64 = 0
        var previousHash = ChainHash(Digest.zero)
        var lastRecordedAt = Timestamp(millisecondsSinceEpoch: .min)
        if let (_, value) = try txn.last(events) {
            let view = try EventView(checking: value)
            position = view.position
            previousHash = ChainHash(view.hash)
            lastRecordedAt = view.recordedAt
        }
        // Idempotency: ids already in the log are reported, not written. An id above the id
        // index's greatest key cannot be in it: with time-ordered ids (the default) that is
        // nearly every new event, whose look-up is then skipped and whose entry goes in at the
        // tree's right edge (`MDB_APPEND`) instead of through a search.
        var greatestID: IDOrder? = nil  // nil: the index is empty
        if let (key, _) = try txn.last(eventIDs) {
            greatestID = key.count == 16 ? IDOrder(key) : IDOrder(high: .max, low: .max)  // odd key: always look up
        }
        let lookupsBelow = greatestID
        var results: [AppendedEvent?] = []
        results.reserveCapacity(batch.count)
        var fresh: [Int] = []  // indices, not copies of the events
        fresh.reserveCapacity(batch.count)
        for i in batch.indices {
            let known: UnsafeRawBufferPointer?
            if let bound = lookupsBelow, IDOrder(batch[i].id) <= bound {
                known = try withUnsafeBytes(of: batch[i].id.uuid) { try txn.get(eventIDs, $0) }
            } else {
                known = nil
            }
            if let existing = known {
                let pos = readBigEndian(existing)
                if let part, pos > part.startPosition {
                    // Written by an earlier part of this append: the same id twice in one import.
                    var err = LogError(.invalidInput, "event \(indexOffset + i + 1) repeats the id \(batch[i].id.uuidString.lowercased()) of an earlier event in the same import; give every event its own id")
                    err.eventIndex = indexOffset + i
                    err.eventId = batch[i].id
                    throw err
                }
                guard let record = try txn.get(events, bigEndianKey(pos)) else {
                    throw LogError.corrupt("the id index names position \(pos), which is not in the log", position: pos)
                }
                let view = try EventView(checking: record)
                // The same id is the same event: a retry. An id naming a different event
                // would otherwise be dropped without a word.
                if let field = Self.difference(stored: try view.decode(), proposed: batch[i]) {
                    var err = LogError(.invalidInput, "event \(indexOffset + i + 1) has the id \(batch[i].id.uuidString.lowercased()) of the event at position \(pos), but its \(field) differs; an id names one event, so give a changed event a new id (or correct it with `referral retract`)")
                    err.eventIndex = indexOffset + i
                    err.eventId = batch[i].id
                    throw err
                }
                results.append(AppendedEvent(id: batch[i].id, stream: view.stream, position: pos, version: view.version, duplicate: true))
            } else {
                results.append(nil)
                fresh.append(i)
            }
        }

        // A retry of events that are all in the log already is answered before any other check.
        if fresh.isEmpty {
            return AppendResult(events: results.map { $0! }, headPosition: position, recordedAt: lastRecordedAt)
        }
        let recordedAt: Timestamp
        if let requested {
            guard requested <= now else {
                throw LogError(.invalidInput, "recorded-at \(requested) is in the future; the log records when events entered it")
            }
            guard requested >= lastRecordedAt else {
                throw LogError(.invalidInput, "recorded-at \(requested) is before the log's last event (\(lastRecordedAt)); recorded-at never decreases along the log")
            }
            recordedAt = requested
        } else {
            recordedAt = max(now, lastRecordedAt)
        }

        // Each stream gets a batch-local number (its slot) the first time it is seen, so its
        // id is hashed once per event; the stream's last chunk of the stream index is read
        // then, once per append: it gives the stream's version for the expected-version
        // checks, and the new positions go onto it.
        // Reserved for the whole batch: growing the table rehashed every stream id seen so far.
        var slotOf: [StreamID: Int] = Dictionary(minimumCapacity: fresh.count)
        var tails: [StreamTail] = []
        var slotStreams: [StreamID] = []
        tails.reserveCapacity(fresh.count)
        slotStreams.reserveCapacity(fresh.count)
        var chunks = try StreamTails(txn, streams)
        defer { chunks.close() }
        // One cursor each for the log and the id index, kept at their ends between appends.
        let eventCursor = try txn.cursor(events)
        defer { eventCursor.close() }
        let idCursor = try txn.cursor(eventIDs)
        defer { idCursor.close() }
        // Domain rules, then the writes, event by event in one transaction.
        var engine = RuleEngine(txn: txn, rules: rules, eventIDs: eventIDs, events: events, streams: streams, boundaries: try rulesBoundaries(txn))
        func slot(_ s: StreamID) throws -> Int {
            if let i = slotOf[s] { return i }
            let i = tails.count
            let (t, caseRow) = try chunks.tailAndCaseRow(s)
            if let caseRow { engine.preload(slot: i, stream: s, row: caseRow) }
            // New positions are stored as distances from the chunk's last one.
            guard t.lastPosition <= position else {
                throw LogError.corrupt("the stream index of '\(s)' names position \(t.lastPosition), after the log's last event (\(position))", position: position + 1)
            }
            tails.append(t)
            slotStreams.append(s)
            slotOf[s] = i
            return i
        }
        func currentVersion(_ s: StreamID) throws -> UInt64 { tails[try slot(s)].version }
        // A set, not `fresh.contains`: a large import touches thousands of streams, and a
        // scan of the batch per stream made appending quadratic.
        let freshStreams = expecting.isEmpty ? [] : Set(fresh.map { batch[$0].stream })
        for (stream, expected) in expecting where freshStreams.contains(stream) {
            let actual = try currentVersion(stream)
            let ok: Bool
            switch expected {
            case .any: ok = true
            case .noStream: ok = actual == 0
            case .streamExists: ok = actual > 0
            case .exactly(let v): ok = actual == v
            }
            if !ok { throw LogError.conflict(stream: stream, expected: expected, actual: actual) }
        }

        // Checks one event (borrowed from the batch: binding `batch[i]` to a local copied the
        // event and retained all its strings) and gives it the next position and its stream
        // version.
        func checkOne(_ e: borrowing ProposedEvent, at i: Int) throws -> UInt64 {
            let s = try slot(e.stream)
            if case .eventRetracted = e.payload {
                // A retraction replays its stream from the index (`RuleEngine`), which must
                // hold this batch's earlier events too.
                for j in tails.indices where tails[j].changed {
                    try chunks.put(slotStreams[j], tails[j])
                    tails[j].changed = false
                }
            }
            do {
                try engine.check(e, slot: s, position: position + 1, recordedAt: recordedAt, now: now)
            } catch var error as LogError {
                error.eventIndex = indexOffset + i
                error.eventId = e.id
                if part != nil {
                    error.message = "event \(indexOffset + i + 1) (\(e.payload.type.name)): " + error.message + "; nothing of the import was written"
                } else if batch.count > 1 {
                    error.message = "event \(i + 1) of \(batch.count) (\(e.payload.type.name)): " + error.message + "; nothing in the batch was written"
                }
                throw error
            }
            position += 1
            if tails[s].isFull {
                // The chunk is full: it is final (written now if this batch filled it) and
                // the stream goes on in a new one.
                if tails[s].changed { try chunks.put(e.stream, tails[s]) }
                tails[s] = tails[s].next
            }
            tails[s].append(position)
            let version = tails[s].version
            results[i] = AppendedEvent(id: e.id, stream: e.stream, position: position, version: version, duplicate: false)
            return version
        }
        // Puts one record at `position` and its id into the id index. Keys from stack values:
        // an array for each cost an allocation an event.
        func put(_ recordBytes: UnsafeRawBufferPointer, at position: UInt64, id: UUID) throws {
            try withUnsafeBytes(of: position.bigEndian) { posKey in
                try eventCursor.put(posKey, recordBytes, append: true)
                let order = IDOrder(id)
                let atEnd = greatestID.map { order > $0 } ?? true
                try withUnsafeBytes(of: id.uuid) { try idCursor.put($0, posKey, append: atEnd, noOverwrite: true) }
                if atEnd { greatestID = order }
            }
        }

        if fresh.count >= encodeAheadFrom {
            // Records are encoded on a second thread as the events pass their checks.
            let firstPosition = position + 1
            let encoder = EncodeAhead(batch: batch, fresh: fresh, firstPosition: firstPosition,
                                      recordedAt: recordedAt, previousHash: previousHash, indexOffset: indexOffset)
            encoder.start()
            defer { _ = encoder.finish() }  // the encoder has stopped before this returns or throws
            var putCount = 0
            // Puts the records of `fresh[putCount..<n]`; false when the encoder refused one.
            func putEncoded(upTo n: Int) throws -> Bool {
                guard encoder.waitEncoded(n) else { return false }
                for k in putCount..<n {
                    try put(encoder.record(k), at: firstPosition + UInt64(k), id: batch[fresh[k]].id)
                }
                putCount = n
                return true
            }
            var checkFailure: (index: Int, error: any Error)?
            for k in fresh.indices {
                // Not a rule check before the event's envelope is validated.
                if let validation, !validation.waitValidated(fresh[k] + 1) { break }
                do {
                    if case .eventRetracted = batch[fresh[k]].payload {
                        // Its check replays the stream from the log: the batch's earlier
                        // records go in first.
                        guard try putEncoded(upTo: k) else { break }
                    }
                    encoder.publish(k, version: try checkOne(batch[fresh[k]], at: fresh[k]))
                } catch {
                    checkFailure = (k, error)
                    break
                }
            }
            if let invalid = validation?.finish() { throw invalid }
            // Whichever event failed first is reported, as if they had been done one by one.
            if let e = encoder.finish(), e.index < checkFailure?.index ?? Int.max { throw e.error }
            if let c = checkFailure { throw c.error }
            guard try putEncoded(upTo: fresh.count) else {
                throw LogError(.storage, "the records of an append were not all encoded")  // not reached: finish() reported none refused
            }
        } else {
            if let invalid = validation?.finish() { throw invalid }  // all validated before any check
            // One record buffer for the whole batch (each record is put before the next is made).
            var record = BinaryWriter(capacity: 1024)
            for i in fresh {
                let version = try checkOne(batch[i], at: i)
                let hash = try EventRecord.encode(batch[i], position: position, version: version, recordedAt: recordedAt,
                                                  previousHash: previousHash, into: &record)
                guard record.bytes.count <= Self.maxRecordSize else {
                    throw Self.oversize(batch[i], index: indexOffset + i, bytes: record.bytes.count)
                }
                try record.bytes.withUnsafeBytes { try put($0, at: position, id: batch[i].id) }
                previousHash = hash
            }
        }
        for j in tails.indices where tails[j].changed {
            try chunks.put(slotStreams[j], tails[j])
        }
        try engine.flush()
        return AppendResult(events: results.map { $0! }, headPosition: position, recordedAt: recordedAt)
    }

    /// Batches of at least this many events to write encode their records on a second
    /// thread (`EncodeAhead`). Below it, handing work to another thread costs more than it
    /// saves: `referral-bench batch --nosync --batch 64` ran at the one-thread speed,
    /// `--batch 128` 9% above it (BENCHMARKS.md, workload 2).
    static let encodeAheadMinimum = 128

    /// The error for an event whose stored record would exceed `maxRecordSize`.
    static func oversize(_ e: borrowing ProposedEvent, index i: Int, bytes: Int) -> LogError {
        var err = LogError(.invalidInput, "event \(i + 1) of the batch (\(e.payload.type.name)) would be \(bytes) bytes stored; at most \(maxRecordSize) are allowed: shorten its texts or lists")
        err.eventIndex = i
        err.eventId = e.id
        return err
    }

    /// The first part of `proposed` that is not what the log holds for its id, or nil when
    /// it is the same event (a retry). Position, version, recorded-at and the hashes are the
    /// log's, not the writer's, and are not compared.
    static func difference(stored: RecordedEvent, proposed: ProposedEvent) -> String? {
        let e = stored.envelope
        if e.stream != proposed.stream { return "stream ('\(proposed.stream)', stored '\(e.stream)')" }
        if stored.payload.type != proposed.payload.type { return "type (\(proposed.payload.type.name), stored \(e.type.name))" }
        if stored.payload != proposed.payload { return "data" }
        if e.occurredAt != proposed.occurredAt { return "time (\(proposed.occurredAt), stored \(e.occurredAt))" }
        if e.actor != proposed.actor { return "actor" }
        if e.organisation != proposed.organisation { return "organisation" }
        if e.correlationId != proposed.correlationId { return "correlation id" }
        if e.causationId != proposed.causationId { return "causation id" }
        return nil
    }

    static let maxIdentifierLength = 200
    /// The largest stored record append accepts: far above any real event (texts are capped at
    /// 4,000 bytes, sealed details at 16 KiB) but a wall against lists of hundreds of thousands.
    static let maxRecordSize = 64 << 10

    /// The checks made before any transaction: every envelope, and no id twice in the batch.
    /// `indexOffset` is the number of events before `events` in an append made in parts.
    static func validateBatch(_ events: [ProposedEvent], indexOffset: Int = 0) throws {
        for i in events.indices { try validateEvent(events, at: i, indexOffset: indexOffset) }
        try checkUniqueIDs(events, indexOffset: indexOffset)
    }

    /// The envelope and payload dates of `events[i]`.
    static func validateEvent(_ events: [ProposedEvent], at i: Int, indexOffset: Int = 0) throws {
        // Field by field, not the whole event: passing `events[i]` copied every event (and
        // retained each of its payload's strings, cold in the cache) before the check.
        try validateEnvelope(stream: events[i].stream, actor: events[i].actor, organisation: events[i].organisation,
                             id: events[i].id, index: indexOffset + i, opensStream: events[i].payload.opensStream)
        // The payload's dates read in place (`firstDate` is inlined): passing the payload
        // copied it too.
        if let (field, date) = events[i].payload.firstDate(outside: CalendarDate.supportedRange) {
            var err = LogError(.invalidInput, "the \(events[i].payload.type.name) event's \(field) (\(date.iso8601)) is outside the years 1900–2199; check the date")
            err.eventIndex = indexOffset + i
            err.eventId = events[i].id
            throw err
        }
        if let field = events[i].payload.firstFieldHoldingCPRNumber() {
            throw cprRefusal("the \(events[i].payload.type.name) event's \(field)", id: events[i].id, index: indexOffset + i)
        }
    }

    /// A CPR number in clear is refused without echoing it (docs/data-protection.md).
    static func cprRefusal(_ what: String, id: UUID, index: Int) -> LogError {
        var err = LogError(.invalidInput, "\(what) looks like it holds a CPR number; the log can never erase it, so write it without the number (a resident's CPR number is only kept sealed, given with `referral open --cpr`)")
        err.eventIndex = index
        err.eventId = id
        return err
    }

    /// No id twice in the batch.
    static func checkUniqueIDs(_ events: [ProposedEvent], indexOffset: Int = 0) throws {
        // Ids in ascending order (time-ordered ids made in order: nearly every batch) cannot
        // repeat, and comparing neighbours is far cheaper than hashing every id into a set.
        var ascending = true
        for i in events.indices.dropFirst() where !(IDOrder(events[i - 1].id) < IDOrder(events[i].id)) {
            ascending = false
            break
        }
        if ascending { return }
        var seen = Set<UUID>()
        seen.reserveCapacity(events.count)
        for i in events.indices where !seen.insert(events[i].id).inserted {
            let which = indexOffset == 0 ? "event \(i + 1) of the batch" : "event \(indexOffset + i + 1)"
            var err = LogError(.invalidInput, "\(which) repeats the id \(events[i].id) of an earlier event in the same batch; give every event its own id")
            err.eventIndex = indexOffset + i
            err.eventId = events[i].id
            throw err
        }
    }

    /// `opensStream`: the event starts its stream (a case opened, an agreement made), whose
    /// id is screened for a CPR number then; the streams of earlier logs, made before the
    /// screen, still take their events, and so do erasure streams (`resident-<pseudonym>`,
    /// 32 hex digits that now and then hold ten decimal ones reading as a CPR number).
    static func validateEnvelope(stream: StreamID, actor: String, organisation: OrganisationID, id: UUID, index: Int,
                                 opensStream: Bool) throws {
        func fail(_ message: String) -> LogError {
            var err = LogError(.invalidInput, message)
            err.eventIndex = index
            err.eventId = id
            return err
        }
        // Three calls rather than a loop over an array literal: that array was allocated
        // for every event of every append.
        func check(_ name: StaticString, _ value: String, screen: Bool = true) throws {
            guard !value.isEmpty else { throw fail("the event's \(name) is empty; every event needs a \(name)") }
            guard value.utf8.count <= maxIdentifierLength else { throw fail("the event's \(name) is longer than \(maxIdentifierLength) bytes") }
            // Printable ASCII (nearly every id) needs no Unicode property lookup.
            // Over the contiguous UTF-8 when there is one (a native string): the generic
            // UTF8View iteration cost several times more.
            let printable = value.utf8.withContiguousStorageIfAvailable { $0.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
                ?? value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            guard printable || !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw fail("the event's \(name) contains control characters")
            }
            guard !screen || !PersonalDetails.containsCPRNumber(value) else {
                throw cprRefusal("the event's \(name)", id: id, index: index)
            }
        }
        try check("stream", stream.rawValue, screen: opensStream)
        try check("actor", actor)
        try check("organisation", organisation)
    }
}

/// An event id in the id index's key order (its 16 bytes compared as unsigned bytes).
struct IDOrder: Comparable {
    var high: UInt64
    var low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ id: UUID) {
        self = withUnsafeBytes(of: id.uuid) { IDOrder($0) }
    }

    /// From a 16-byte key.
    init(_ key: UnsafeRawBufferPointer) {
        high = UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
        low = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    static func < (a: IDOrder, b: IDOrder) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

func uuidKey(_ id: UUID) -> [UInt8] {
    withUnsafeBytes(of: id.uuid) { Array($0) }
}
