import Foundation

// Moving an older store's rows to the current layout (`EventStore.layoutFormat`), done by
// `EventStore.init` in the transaction that opens the store (docs/lmdb-layout.md).

extension EventStore {
    /// Layout 2 → 3: each case's rule row, `c` `0x00` stream id in `rules`, becomes
    /// `StreamIndex.caseRowKey(stream)` in `streams`, with the same value.
    static func moveCaseRows(_ txn: Transaction, from rules: Database, to streams: Database) throws {
        let prefix: [UInt8] = [UInt8(ascii: "c"), 0]
        // A few thousand at a time: the moved rows leave `rules`, so each round starts again
        // at the prefix, and a store of millions of cases is not copied into memory at once.
        var moved: [(key: [UInt8], value: [UInt8])] = []
        repeat {
            moved.removeAll(keepingCapacity: true)
            try txn.forEach(rules, from: prefix) { key, value in
                guard key.starts(with: prefix) else { return false }
                moved.append((Array(key), Array(value)))
                return moved.count < 4096
            }
            for row in moved {
                let stream = StreamID(String(decoding: row.key.dropFirst(2), as: UTF8.self))
                try txn.put(streams, StreamIndex.caseRowKey(stream), row.value, noOverwrite: true)
                try txn.delete(rules, row.key)
            }
        } while !moved.isEmpty
    }

    /// Layout 3 → 4: organisations get their numbers (`RuleKey.organisationNumber`), in the
    /// order the registry stream first registers them, as appends give them; then the table
    /// of parties at the front of every case row, organisation ids, becomes their numbers.
    /// The rest of a row is the same bytes in both layouts.
    static func numberOrganisations(_ txn: Transaction, streams: Database, events: Database, rules: Database) throws {
        var registry: [UInt64] = []
        try txn.forEachStreamPosition(streams, .registry) { _, position in
            registry.append(position)
            return true
        }
        var numbers: [String: OrganisationNumber] = [:]
        for position in registry {
            guard let record = try txn.get(events, bigEndianKey(position)) else {
                throw LogError.corrupt("the stream index names position \(position), which is not in the log", position: position)
            }
            let view = try EventView(checking: record)
            guard view.typeCode == EventType.organisationRegistered.code else { continue }
            let id = try view.decode(OrganisationRegistered.self).organisationId
            numbers[id] = try RuleEngine.number(organisation: id, txn, rules)
        }

        // A few thousand case rows at a time, each round from the key after the last one
        // rewritten, so a store of millions of cases is not copied into memory at once.
        var after: [UInt8]?
        var rewritten: [(key: [UInt8], value: [UInt8])] = []
        repeat {
            rewritten.removeAll(keepingCapacity: true)
            try txn.forEach(streams, from: after) { key, value in
                if let after, key.elementsEqual(after) { return true }
                guard StreamIndex.isCaseRow(key) else { return true }
                rewritten.append((Array(key), try numberedCaseRow(value, numbers: numbers, key: key)))
                return rewritten.count < 4096
            }
            for row in rewritten { try txn.put(streams, row.key, row.value) }
            after = rewritten.last?.key
        } while !rewritten.isEmpty
    }

    /// A layout 3 case row with its parties' ids replaced by their numbers.
    private static func numberedCaseRow(_ row: UnsafeRawBufferPointer, numbers: [String: OrganisationNumber],
                                        key: UnsafeRawBufferPointer) throws -> [UInt8] {
        var r = BinaryReader(row)
        var w = BinaryWriter(capacity: row.count)
        w.bool(try r.bool())
        let parties = try r.array { try $0.trustedString() }
        w.varint(UInt64(parties.count))
        for party in parties {
            guard let n = numbers[party] else {
                throw LogError.corrupt("\(describeRuleRow(key)) names organisation '\(party)', which the log never registers; rebuild the rule rows (`referral rebuild --rules`) with the build that last opened the store")
            }
            w.varint(n)
        }
        w.raw(row[r.offset...])
        return w.bytes
    }

    /// Layout 4 → 6: the rules boundaries become the head position + 1, then every rule row
    /// is derived again by a replay of the log (`rebuildRules`), which gives case rows their
    /// days, first-contact flag and outcome marks. Every event in the log is before the
    /// boundaries, so the replay checks it as it was checked when it was appended, and the
    /// newer rules bind only events appended from now on.
    func moveFromLayout4(_ txn: Transaction) throws {
        let head = try txn.last(events).map { readBigEndian($0.key) } ?? 0
        try setRulesBoundaries(txn, .after(head))
        do {
            _ = try rebuildRules(txn, progress: nil)
        } catch let error as LogError where error.code == .corrupt && error.position != nil {
            throw LogError.corrupt("moving the store at \(directory) to layout \(Self.layoutFormat) replays its log through the rules, and the replay stopped: \(error.message). Nothing was changed; run `referral verify --rules` with the build that last opened the store", position: error.position)
        }
    }

    /// Layout 5 → 6: the rows stay as they are; the close-lapse boundary becomes the head
    /// position + 1, so the closes already in the log keep the lapse days they gave
    /// (`RulesBoundaries.closeLapse`) on every replay, and the rule binds only closes
    /// appended from now on. Nothing is replayed.
    func moveFromLayout5(_ txn: Transaction) throws {
        let head = try txn.last(events).map { readBigEndian($0.key) } ?? 0
        // A layout 5 build read a missing rules boundary as 1.
        let dated = try txn.get(meta, Self.datedRulesFromKey) == nil ? 1 : try rulesBoundary(txn, Self.datedRulesFromKey)
        try setRulesBoundaries(txn, RulesBoundaries(datedRules: dated, closeLapse: head + 1))
    }
}
