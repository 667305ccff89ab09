import Foundation
import ReferralEvents

extension Projections {
    /// Rows written per transaction while filling the idle generation: bounds the memory
    /// LMDB holds for dirty pages however large the state is.
    static let rowsPerWriteTransaction = 100_000

    /// Replays the whole log (positions 1…head) into the idle generation and flips it in.
    ///
    /// Readers keep seeing the previous generation until the flip, which is one
    /// transaction that also carries the new checkpoint. If another rebuild claims the idle
    /// generation meanwhile, this one stops with `.conflict` and writes nothing visible.
    @discardableResult
    public func rebuild(progress: ((ProjectionProgress) -> Void)? = nil) throws -> ProjectionRun {
        try rebuild(reason: nil, progress: progress)
    }

    func rebuild(reason: String?, progress: ((ProjectionProgress) -> Void)?) throws -> ProjectionRun {
        let before = try checkpoint()
        let head = try store.head().position
        var meter = ProgressMeter(phase: .rebuild, total: head, callback: progress)
        var fold: ProjectionFold? = try ProjectionFold.run(store: store, through: head, meter: &meter,
                                                          shares: head >= 50_000 ? foldThreads : 1)
        meter.report()
        let storeID = try store.storeID
        let rows = fold?.derivedRows(storeID: storeID) ?? RowSet()
        let position = fold?.position ?? 0
        var writing = ProgressMeter(phase: .writing, total: head, callback: progress)
        writing.done = head
        // The case rows go straight from the state into LMDB a chunk at a time, and the
        // state is let go as soon as they are written: the rebuild never holds the state
        // and a second full copy of it as rows.
        try install(rows) { (emit: ([Row]) throws -> Void) in
            try fold?.caseRows(chunk: Self.rowsPerWriteTransaction, emit)
            fold = nil
        }
        writing.report()
        return ProjectionRun(kind: .rebuilt, fromPosition: before, toPosition: position, eventsApplied: position,
                             seconds: meter.elapsed, reason: reason)
    }

    /// Writes `rows` into the idle slot in chunks, then flips the active pointer and empties
    /// the old slot in one transaction.
    ///
    /// `streamedCases`, when given, supplies the case rows instead of `rows`: it hands them,
    /// in key order, to the function it is given, a chunk at a time. They are written first.
    func install(_ rows: RowSet, streamedCases: ((([Row]) throws -> Void) throws -> Void)? = nil) throws {
        let token = Array(UUID().uuidString.utf8)
        let target: Int = try kv.write { txn in
            let target = 1 - (try activeSlot(txn))
            try txn.put(meta, Self.buildingKey, token + [UInt8(target)])
            for db in slots[target].values { try txn.clear(db) }
            return target
        }
        func claimed(_ txn: KeyValueTransaction) throws -> Bool {
            try txn.get(meta, Self.buildingKey) == token + [UInt8(target)]
        }
        var batch: [(Table, Row)] = []
        batch.reserveCapacity(Self.rowsPerWriteTransaction)
        func flush() throws {
            guard !batch.isEmpty else { return }
            try kv.write { txn in
                guard try claimed(txn) else {
                    throw LogError(.conflict, "another rebuild of the projections started meanwhile; this one stopped without changing what readers see")
                }
                for (t, r) in batch { try txn.put(database(target, t), r.key, r.value, append: true) }
            }
            batch.removeAll(keepingCapacity: true)
        }
        if let streamedCases {
            try streamedCases { chunk in
                for r in chunk {
                    batch.append((.cases, r))
                    if batch.count == Self.rowsPerWriteTransaction { try flush() }
                }
            }
        }
        for t in Table.allCases where !(t == .cases && streamedCases != nil) {
            for r in rows.tables[t] ?? [] {
                batch.append((t, r))
                if batch.count == Self.rowsPerWriteTransaction { try flush() }
            }
        }
        try flush()
        try kv.write { txn in
            guard try claimed(txn) else {
                throw LogError(.conflict, "another rebuild of the projections started meanwhile; this one stopped without changing what readers see")
            }
            try txn.put(meta, Self.activeKey, [UInt8(target)])
            try txn.delete(meta, Self.buildingKey)
            for db in slots[1 - target].values { try txn.clear(db) }
        }
    }
}
