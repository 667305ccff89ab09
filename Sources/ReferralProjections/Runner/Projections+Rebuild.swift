import Foundation
import ReferralEvents

extension Projections {
    /// Rows written per transaction while filling the idle generation: bounds the memory
    /// LMDB holds for dirty pages however large the state is.
    static let rowsPerWriteTransaction = 20_000

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
        let rows = fold?.smallRows(storeID: storeID) ?? RowSet()
        let position = fold?.position ?? 0
        var writing = ProgressMeter(phase: .writing, total: head, callback: progress)
        writing.done = head
        // The large tables go straight from the packed state into LMDB a chunk at a time,
        // and the state is let go as soon as they are written: the rebuild never holds the
        // state and a second full copy of it as rows.
        try install(rows, streamed: [.cases, .open, .counters]) { emit in
            try fold?.largeRows(chunk: Self.rowsPerWriteTransaction, emit)
            fold = nil
        }
        writing.report()
        // The fold's state is freed by now; hand it back rather than keep it in the heap.
        let trimStart = monotonicSeconds()
        LargeBlocks.returnFreedMemory()
        if debugTimes { print("rebuild: freed memory given back in \(monotonicSeconds() - trimStart) s") }
        return ProjectionRun(kind: .rebuilt, fromPosition: before, toPosition: position, eventsApplied: position,
                             seconds: meter.elapsed, reason: reason)
    }

    /// Writes `rows` into the idle slot in chunks, then flips the active pointer and empties
    /// the old slot in one transaction.
    ///
    /// `stream`, when given, supplies the rows of the `streamed` tables instead of `rows`: it
    /// hands them to the function it is given, a chunk at a time, each table's in key order.
    /// They are written first, each chunk in its own transaction as it comes.
    func install(_ rows: RowSet, streamed: Set<Table> = [],
                 _ stream: (((Table, [Row]) throws -> Void) throws -> Void)? = nil) throws {
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
        func write(_ t: Table, _ chunk: ArraySlice<Row>) throws {
            guard !chunk.isEmpty else { return }
            try kv.write { txn in
                guard try claimed(txn) else {
                    throw LogError(.conflict, "another rebuild of the projections started meanwhile; this one stopped without changing what readers see")
                }
                let db = database(target, t)
                for r in chunk { try txn.put(db, r.key, r.value, append: true) }
            }
        }
        func writeAll(_ t: Table, _ rows: [Row]) throws {
            var i = rows.startIndex
            while i < rows.endIndex {
                let j = min(rows.endIndex, i + Self.rowsPerWriteTransaction)
                try write(t, rows[i..<j])
                i = j
            }
        }
        if let stream { try stream(writeAll) }
        for t in Table.allCases where !streamed.contains(t) {
            try writeAll(t, rows.tables[t] ?? [])
        }
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
