import Foundation

/// What `verifyRules` found.
public struct RuleRowsReport: Sendable, Hashable {
    /// Events replayed through the domain rules.
    public var eventsReplayed: UInt64
    /// Case rule rows compared (in `streams`).
    public var caseRows: Int
    /// Other rule rows compared (in `rules`: registrations, target groups, agreements,
    /// daily hours, retractions).
    public var otherRows: Int
    /// The first difference, nil when every row is what a replay of the log gives.
    public var failure: LogError?
    /// The position from which layout 5's dated rules bind (1: every event); the events
    /// before it were accepted, and are replayed, without them (docs/domain-rules.md, "The
    /// rules boundaries").
    public var datedRulesFrom: UInt64 = 1
    /// The position from which layout 6's close-lapse rule binds (1: every event).
    public var closeLapseFrom: UInt64 = 1

    public var isValid: Bool { failure == nil }
}

extension EventStore {
    /// Checks the rule rows, the state the domain rules and the consent gate read
    /// (docs/lmdb-layout.md), against the log: replays every event through the rules, in
    /// position order, into scratch databases, and compares what that gives with the stored
    /// rows, byte for byte. `verify` checks the log and its indexes, not these rows; a row
    /// changed outside the append path (a consent made to look valid, a registration
    /// removed) is found only here.
    ///
    /// The replay runs in a write transaction that is always aborted, so nothing is written,
    /// but appends wait until it is done: about 2 s for the 1M-event demo log, 44 s for the
    /// 10M one (BENCHMARKS.md, "Import and export").
    ///
    /// - Returns: a report whose `failure` names the first row that differs, or the first
    ///   event the rules refuse on replay. Throws only when the store cannot be read.
    public func verifyRules(progress: ((_ replayed: UInt64) -> Void)? = nil) throws -> RuleRowsReport {
        try env.writeAndAbort { txn in
            let scratchRules = try txn.openDatabase("verify-rules")
            let scratchCases = try txn.openDatabase("verify-case-rows")
            try txn.clear(scratchRules)
            try txn.clear(scratchCases)
            var report = RuleRowsReport(eventsReplayed: 0, caseRows: 0, otherRows: 0, failure: nil)
            let boundaries = try rulesBoundaries(txn)
            (report.datedRulesFrom, report.closeLapseFrom) = (boundaries.datedRules, boundaries.closeLapse)
            (report.eventsReplayed, report.failure) = try replayRules(txn, rules: scratchRules, caseRows: scratchCases, progress: progress)
            guard report.failure == nil else { return report }

            // Every stored row must be the replay's, and the replay must have no other rows:
            // equal counts then mean equal sets.
            func compare(stored: Database, replayed: Database, only: (UnsafeRawBufferPointer) -> Bool, count: inout Int) throws -> LogError? {
                var difference: LogError?
                try txn.forEach(stored) { key, value in
                    guard only(key) else { return true }
                    count += 1
                    let derived = try txn.get(replayed, Array(key))
                    guard let derived, derived.elementsEqual(value) else {
                        let how = derived == nil ? "a replay of the log has no such row" : "its bytes differ from a replay's"
                        difference = LogError.corrupt("\(Self.describeRuleRow(key)) is not what the log gives: \(how)")
                        return false
                    }
                    return true
                }
                if difference == nil, try txn.count(replayed) != count {
                    try txn.forEach(replayed) { key, _ in
                        guard try txn.get(stored, Array(key)) == nil else { return true }
                        difference = LogError.corrupt("\(Self.describeRuleRow(key)) is missing: the log gives it")
                        return false
                    }
                }
                return difference
            }
            report.failure = try compare(stored: streams, replayed: scratchCases, only: StreamIndex.isCaseRow, count: &report.caseRows)
            if report.failure == nil {
                report.failure = try compare(stored: rules, replayed: scratchRules, only: { _ in true }, count: &report.otherRows)
            }
            return report
        }
    }

    /// Derives the rule rows again from the log and replaces the stored ones with them, in
    /// one write transaction: for rows `verifyRules` found wrong. Appends wait until it is
    /// done; if the rules refuse an event on replay, nothing is written and that is thrown.
    ///
    /// - Returns: the number of events replayed.
    @discardableResult
    public func rebuildRules(progress: ((_ replayed: UInt64) -> Void)? = nil) throws -> UInt64 {
        try env.write { txn in try rebuildRules(txn, progress: progress) }
    }

    /// `rebuildRules` inside `txn` (also the move from layout 4, `moveFromLayout4`).
    func rebuildRules(_ txn: Transaction, progress: ((_ replayed: UInt64) -> Void)?) throws -> UInt64 {
        try txn.clear(rules)
        var caseRowKeys: [[UInt8]] = []
        try txn.forEach(streams) { key, _ in
            if StreamIndex.isCaseRow(key) { caseRowKeys.append(Array(key)) }
            return true
        }
        for key in caseRowKeys { try txn.delete(streams, key) }
        let (replayed, refusal) = try replayRules(txn, rules: rules, caseRows: streams, progress: progress)
        if let refusal { throw refusal }
        return replayed
    }

    /// Replays every event through the rules, in position order, into `rules` and `caseRows`
    /// (empty to begin with): a fresh rule engine every 1,000 events, as appends have. Returns
    /// the events replayed and, if the rules refuse one, why.
    private func replayRules(_ txn: Transaction, rules: Database, caseRows: Database,
                             progress: ((UInt64) -> Void)?) throws -> (replayed: UInt64, refusal: LogError?) {
        // Each event is checked under the rules it was (or would have been) appended under:
        // the checks since the boundary only from there on.
        let boundaries = try rulesBoundaries(txn)
        func engine() -> RuleEngine {
            RuleEngine(txn: txn, rules: rules, eventIDs: eventIDs, events: events, streams: streams, caseRows: caseRows, boundaries: boundaries)
        }
        var checker = engine()
        // Batch-local stream numbers, as an append gives them; the rows are flushed and the
        // numbering starts over every `batch` events, as after an append.
        var slots: [StreamID: Int] = [:]
        let batch: UInt64 = 1000
        var replayed: UInt64 = 0
        var refusal: LogError?
        // Pages the replay has passed are released as `verify`'s scans release them (a
        // retraction's replay of its stream reads them in again if it needs them).
        var pages = lowMemoryReplay ? MapPageReleaser(env) : nil
        try txn.forEach(events) { key, value in
            defer { pages?.passed(value) }
            let position = readBigEndian(key)
            let event: RecordedEvent
            do { event = try EventView(checking: value).decode() } catch {
                refusal = LogError.corrupt("position \(position): the record does not decode; run `referral verify`", position: position)
                return false
            }
            let slot: Int
            if let s = slots[event.stream] { slot = s } else { slot = slots.count; slots[event.stream] = slot }
            checker.positionLimit = position
            let proposed = ProposedEvent(id: event.id, stream: event.stream, payload: event.payload, occurredAt: event.envelope.occurredAt,
                                         actor: event.envelope.actor, organisation: event.envelope.organisation)
            do {
                try checker.check(proposed, slot: slot, position: position, recordedAt: event.envelope.recordedAt, now: event.envelope.recordedAt)
            } catch let error as LogError where error.code == .ruleViolation {
                refusal = LogError.corrupt("position \(position): the rules refuse the event (\(event.payload.type.name)) when the log is replayed: \(error.message)", position: position)
                return false
            }
            replayed += 1
            if replayed % batch == 0 {
                try checker.flush()
                checker = engine()
                slots.removeAll(keepingCapacity: true)
            }
            if replayed % 100_000 == 0 { progress?(replayed) }
            return true
        }
        pages?.finish()
        if refusal == nil { try checker.flush() }
        return (replayed, refusal)
    }

    /// Names a rule row by its key, for a report.
    static func describeRuleRow(_ key: UnsafeRawBufferPointer) -> String {
        if StreamIndex.isCaseRow(key) {
            return "the rule row of '\(String(decoding: key.dropLast(), as: UTF8.self))'"
        }
        guard key.count >= 2, key[1] == 0 else { return "the rule row with key \(hexString(Array(key)))" }
        let id = UnsafeRawBufferPointer(rebasing: key[2...])
        let text = String(decoding: id.prefix(while: { $0 != 0 }), as: UTF8.self)
        switch key[0] {
        case UInt8(ascii: "o"): return "the registration row of organisation '\(text)'"
        case UInt8(ascii: "a"): return "the registration row of housing area '\(text)'"
        case UInt8(ascii: "l"): return "the registration row of liaison '\(text)'"
        case UInt8(ascii: "t"): return "the row of target group '\(text)'"
        case UInt8(ascii: "g"): return "the rule row of '\(text)'"
        case UInt8(ascii: "h"):
            // The key ends with the day as a big-endian UInt32 (`RuleKey.dailyHours`).
            let day = id.count >= 4 ? Int32(bitPattern: UInt32(bigEndian: id.loadUnaligned(fromByteOffset: id.count - 4, as: UInt32.self))) : 0
            return "the daily hours row of '\(text)' for \(CalendarDate(daysSinceEpoch: day).danish)"
        case UInt8(ascii: "x"): return "the retraction row of event \(hexString(Array(id)))"
        case UInt8(ascii: "n"): return "the number of organisation '\(text)'"
        case UInt8(ascii: "N"):
            let n = id.count == 4 ? UInt32(bigEndian: id.loadUnaligned(as: UInt32.self)) : 0
            return "the row of organisation number \(n)"
        case UInt8(ascii: "c"): return "a layout 2 case row of '\(text)' in `rules` (an older build appended after the store was moved to layout 3)"
        default: return "the rule row with key \(hexString(Array(key)))"
        }
    }
}
