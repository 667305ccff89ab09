import Foundation
import ReferralEvents

/// Thrown inside a catch-up transaction to abort it when only a rebuild can be right.
struct NeedsRebuild: Error {
    var reason: String
}

extension Projections {
    /// Applies the events appended since the checkpoint, in transactions of at most
    /// `catchUpBatch` events, each writing the touched rows and the new checkpoint together.
    ///
    /// Falls back to `rebuild()` (and says why in `reason`) when the projections were never
    /// built, were built by another format or from another log, when the checkpoint's event
    /// no longer matches the log (a restored backup), when the gap is larger than
    /// `rebuildThreshold`, or when a new event is a retraction: a retraction can change any
    /// figure the retracted event fed, and retractions are rare enough that replaying is
    /// the simple way to be right.
    @discardableResult
    public func catchUp(progress: ((ProjectionProgress) -> Void)? = nil) throws -> ProjectionRun {
        let head = try store.head().position
        let storeID = try store.storeID
        let status: (position: UInt64, hash: [UInt8], format: UInt8?, storeID: String)? = try kv.read { txn in
            let rows = StoredRows(txn: txn, dbs: slots[try activeSlot(txn)])
            guard let cp = try Self.checkpoint(rows) else { return nil }
            let format = try rows.get(.state, StateKey.format)?.first
            let id = try rows.get(.state, StateKey.storeID).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return (cp.position, cp.hash, format, id)
        }
        guard let status else { return try rebuild(reason: "the projections had not been built yet", progress: progress) }
        guard status.format == projectionFormat else {
            return try rebuild(reason: "the projections were stored in another format", progress: progress)
        }
        guard status.storeID == storeID else {
            return try rebuild(reason: "the projections were built from another store", progress: progress)
        }
        guard status.position <= head, try logHash(at: status.position) == status.hash else {
            return try rebuild(reason: "the log no longer holds the event the projections were built up to (restored or replaced log)", progress: progress)
        }
        if status.position == head {
            return ProjectionRun(kind: .upToDate, fromPosition: head, toPosition: head, eventsApplied: 0, seconds: 0, reason: nil)
        }
        guard head - status.position <= rebuildThreshold else {
            return try rebuild(reason: "\(head - status.position) new events: replaying the whole log is faster", progress: progress)
        }
        var meter = ProgressMeter(phase: .catchUp, total: head - status.position, callback: progress)
        var position = status.position
        do {
            while position < head {
                let through = min(head, position + catchUpBatch)
                position = try kv.write { txn in
                    let dbs = slots[try activeSlot(txn)]
                    let rows = StoredRows(txn: txn, dbs: dbs)
                    // Another process may have moved the checkpoint since we looked.
                    let from = (try Self.checkpoint(rows)?.position ?? 0) + 1
                    guard from <= through else { return from - 1 }
                    var batch = try CatchUpBatch(rows: rows)
                    try store.replay(from: from, through: through) { view in
                        try batch.apply(view)
                        meter.tick()
                        return true
                    }
                    try batch.flush()
                    return batch.position
                }
            }
        } catch let needs as NeedsRebuild {
            return try rebuild(reason: needs.reason, progress: progress)
        }
        meter.report()
        return ProjectionRun(kind: .caughtUp, fromPosition: status.position, toPosition: position,
                             eventsApplied: position - status.position, seconds: meter.elapsed, reason: nil)
    }

    /// The stored hash of the event at `position` (32 zero bytes for position 0).
    func logHash(at position: UInt64) throws -> [UInt8] {
        guard position > 0 else { return [UInt8](repeating: 0, count: 32) }
        var hash: [UInt8] = []
        try store.replay(from: position, through: position) { view in
            hash = Array(view.hashBytes)
            return false
        }
        return hash
    }
}

/// One catch-up transaction: loads the rows the new events touch, applies the events,
/// and writes back the rows, the counter differences and the checkpoint.
struct CatchUpBatch {
    let rows: StoredRows
    var names: StoredNames
    var cases: [[UInt8]: (before: CaseState, after: CaseState)] = [:]
    var caseOrder: [[UInt8]] = []
    var agreements: [UInt32: AgreementState] = [:]
    var position: UInt64 = 0
    var hash: [UInt8] = []

    init(rows: StoredRows) throws {
        self.rows = rows
        names = try StoredNames(rows: rows)
    }

    mutating func apply(_ view: EventView) throws {
        let code = view.typeCode
        if code == EventType.eventRetracted.code {
            throw NeedsRebuild(reason: "event \(view.position) is a retraction")
        }
        if code >= EventType.caseOpened.code && code <= EventType.caseReopened.code {
            let key = caseKey(stream: view.streamBytes)
            var entry: (before: CaseState, after: CaseState)
            if let known = cases.removeValue(forKey: key) {
                entry = known
            } else {
                let stored = try rows.withValue(.cases, key) { v in try v.map { try CaseState(decoding: $0) } } ?? CaseState()
                entry = (stored, stored)
                caseOrder.append(key)
            }
            try entry.after.apply(view, names: &names)
            cases[key] = entry
        } else if code >= EventType.hoursAgreementMade.code && code <= EventType.hoursAgreementEnded.code {
            let id = try names.id(UnsafeRawBufferPointer(rebasing: view.streamBytes.dropFirst(ProjectionFold.agreementPrefix.count)))
            var agreement = try agreements.removeValue(forKey: id)
                ?? rows.withValue(.agreements, beBytes(id)) { v in try v.map { try AgreementState(decoding: $0) } } ?? AgreementState()
            try agreement.apply(view, names: &names)
            agreements[id] = agreement
        } else if code >= EventType.organisationRegistered.code && code <= EventType.targetGroupDefined.code {
            var registry = RegistryState()
            try registry.apply(view, names: &names)
            for (key, value) in registry.rows() {
                var value = value
                if key.first == RegistryKind.targetGroup.rawValue, let existing = try rows.withValue(.registry, key, { v in try v.map { try decodeTargetGroups($0) } }) {
                    value = encodeTargetGroups(existing + (try value.withUnsafeBytes { try decodeTargetGroups($0) }))
                }
                try put(.registry, key, value)
            }
        }
        position = view.position
        hash = Array(view.hashBytes)
    }

    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        guard let db = rows.dbs[table] else { return }
        try rows.txn.put(db, key, value)
    }

    func delete(_ table: Table, _ key: [UInt8]) throws {
        guard let db = rows.dbs[table] else { return }
        try rows.txn.delete(db, key)
    }

    mutating func flush() throws {
        var deltas: [CounterKey: Int64] = [:]
        for key in caseOrder {
            guard let (before, after) = cases[key] else { continue }
            before.contribute { deltas[$0, default: 0] -= $1 }
            after.contribute { deltas[$0, default: 0] += $1 }
            if after.exists { try put(.cases, key, after.encoded()) }
            if before.exists && before.isOpen {
                for k in OpenCaseRow(before).keys(caseKey: key) { try delete(.open, k) }
            }
            if after.exists && after.isOpen {
                let row = OpenCaseRow(after)
                let value = row.encoded()
                for k in row.keys(caseKey: key) { try put(.open, k, value) }
            }
        }
        for (k, d) in deltas where d != 0 {
            let key = k.bytes
            let now = (try rows.withValue(.counters, key) { $0.map(readLE64) } ?? 0) + d
            if now == 0 { try delete(.counters, key) } else { try put(.counters, key, le64(now)) }
        }
        for (id, a) in agreements where a.exists { try put(.agreements, beBytes(id), a.encoded()) }
        try put(.state, StateKey.nextName, beBytes(names.next))
        try put(.state, StateKey.checkpoint, be64(position) + hash)
    }
}

/// Names interned in LMDB, for catch-up: new names get the next free id and are written
/// in the same transaction as the rows that use them.
struct StoredNames: NameTable {
    let rows: StoredRows
    var next: UInt32
    var cache: [[UInt8]: UInt32] = [:]

    init(rows: StoredRows) throws {
        self.rows = rows
        next = try rows.withValue(.state, StateKey.nextName) { v in v.map { readBE32($0) } } ?? 0
    }

    mutating func id(_ bytes: UnsafeRawBufferPointer) throws -> UInt32 {
        let key = Array(bytes)
        if let id = cache[key] { return id }
        if let id = try rows.withValue(.names, [2] + key, { v in v.map { readBE32($0) } }) {
            cache[key] = id
            return id
        }
        let id = next
        next += 1
        cache[key] = id
        guard let db = rows.dbs[.names] else { return id }
        try rows.txn.put(db, [1] + beBytes(id), key)
        try rows.txn.put(db, [2] + key, beBytes(id))
        return id
    }
}
