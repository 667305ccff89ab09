import Foundation
import ReferralEvents

/// The projections of one store: caseloads, statistics and their checkpoint, kept in
/// `<store>/projections.mdb` and brought up to date from the log.
///
/// Everything users read comes from here (or, for case histories, straight from the log).
/// State and the position it has applied up to are written in one LMDB transaction, so a
/// crash can never leave them apart. `catchUp()` applies only new events; `rebuild()`
/// replays the whole log into the idle generation of databases and flips it in when done,
/// so readers never see a half-built projection.
///
/// ```swift
/// let projections = try Projections(store: store)
/// try projections.catchUp { print($0.eventsDone, "of", $0.totalEvents) }
/// let mine = try projections.current().caseload(CaseloadQuery(today: today, liaison: "vib-lis-01"))
/// let q1 = try projections.asKnownAt(reportDay).referrals(StatisticsQuery(quarter: 1, of: 2024))
/// ```
public final class Projections: Sendable {
    /// The log the projections are folded from.
    public let store: EventStore
    /// Why the projections file was set aside when opened (cut short, emptied, not an LMDB
    /// file, damaged pages), nil if it was sound. It holds only what the log gives, so it is
    /// moved to `projections.mdb.damaged` and the projections are rebuilt from the log.
    public let setAsideBecause: String?
    let kv: KeyValueStore
    let meta: KeyValueDatabase
    /// The two generations' databases: slot 0 (`A.*`) and slot 1 (`B.*`).
    let slots: [[Table: KeyValueDatabase]]
    /// A gap larger than this is closed by a rebuild, which folds far faster than
    /// row-by-row catch-up.
    let rebuildThreshold: UInt64
    /// Events applied per catch-up transaction.
    let catchUpBatch: UInt64
    /// Threads a full fold of a long log splits the cases over.
    let foldThreads: Int

    /// Where a store keeps its projections.
    public static func path(in directory: String) -> String { directory + "/projections.mdb" }

    /// Opens (creating if needed) the projections of `store`. Nothing is folded until
    /// `catchUp()` or `rebuild()`.
    ///
    /// Open one `Projections` per file per process and share it (it is `Sendable`): LMDB
    /// must not have the same file open twice in one process. Other processes may open it
    /// at the same time; LMDB serialises their writers.
    ///
    /// - Parameters:
    ///   - path: defaults to `<store directory>/projections.mdb`.
    ///   - rebuildThreshold: catch-up of more new events than this rebuilds instead.
    ///   - catchUpBatch: events applied per catch-up transaction.
    ///   - foldThreads: threads a full fold of 50,000 events or more splits the cases over
    ///     (each walks the log; 2 suits a 2-core machine, 1 folds on the caller's thread only).
    public init(store: EventStore, path: String? = nil, rebuildThreshold: UInt64 = 200_000, catchUpBatch: UInt64 = 20_000,
                foldThreads: Int = 2) throws {
        self.store = store
        self.foldThreads = max(1, foldThreads)
        self.rebuildThreshold = rebuildThreshold
        self.catchUpBatch = max(1, catchUpBatch)
        let slotNames = ["A", "B"]
        var names = ["meta"]
        for s in slotNames { for t in Table.allCases { names.append("\(s).\(t.rawValue)") } }
        let file = path ?? Projections.path(in: store.directory)
        let kv: KeyValueStore
        do {
            kv = try KeyValueStore(path: file, databases: names, durable: false)
            setAsideBecause = nil
        } catch let error as LogError where error.code == .corrupt {
            // Derived data only: keep the damaged file for a look, start afresh, and let the
            // next catch-up rebuild everything from the log (checkpoint 0).
            let aside = file + ".damaged"
            unlink(aside)
            guard rename(file, aside) == 0 else { throw error }
            kv = try KeyValueStore(path: file, databases: names, durable: false)
            setAsideBecause = error.message
        }
        self.kv = kv
        meta = kv["meta"]
        slots = slotNames.map { s in Dictionary(uniqueKeysWithValues: Table.allCases.map { ($0, kv["\(s).\($0.rawValue)"]) }) }
    }

    func database(_ slot: Int, _ table: Table) -> KeyValueDatabase {
        slots[slot][table] ?? kv["\(slot == 0 ? "A" : "B").\(table.rawValue)"]
    }

    static let activeKey = Array("active".utf8)
    static let buildingKey = Array("building".utf8)

    func activeSlot(_ txn: KeyValueTransaction) throws -> Int {
        guard let v = try txn.get(meta, Self.activeKey), let b = v.first else { return 0 }
        return Int(b & 1)
    }

    /// The log position the stored projections have applied up to (0 before the first build).
    public func checkpoint() throws -> UInt64 {
        try kv.read { txn in try Self.checkpoint(StoredRows(txn: txn, dbs: slots[try activeSlot(txn)]))?.position ?? 0 }
    }

    static func checkpoint(_ rows: some RowReader) throws -> (position: UInt64, hash: [UInt8])? {
        try rows.withValue(.state, StateKey.checkpoint) { v in
            guard let v, v.count == 40 else { return nil }
            return (readBE64(v), Array(v[8..<40]))
        }
    }

    /// Flushes the projections file to disk (it is written without fsync: it can always
    /// be rebuilt from the log, and LMDB never tears a transaction).
    public func sync() throws { try kv.sync() }

    // MARK: - Views

    /// The stored projections as they are now (call `catchUp()` first to include the newest events).
    public func current() -> ProjectionView { ProjectionView(source: .stored(self)) }

    /// Every projection as of log position `position`: folded in memory from position 1,
    /// leaving out events retracted at or before it. Nothing is stored.
    public func asOf(position: UInt64, progress: ((ProjectionProgress) -> Void)? = nil) throws -> ProjectionView {
        let head = try store.head().position
        guard position <= head else {
            throw LogError(.invalidInput, "position \(position) is beyond the log's last position \(head); pick a position from 0 to \(head)")
        }
        var meter = ProgressMeter(phase: .asOf, total: position, callback: progress)
        let fold = try ProjectionFold.run(store: store, through: position, meter: &meter, shares: position >= 50_000 ? foldThreads : 1)
        meter.report()
        return ProjectionView(source: .memory(MemoryRows(rows: fold.rows(storeID: try store.storeID)), position))
    }

    /// Every projection as it was known at `time`: as of the last position recorded at or
    /// before it ("as known on 1 March").
    public func asKnownAt(_ time: Timestamp, progress: ((ProjectionProgress) -> Void)? = nil) throws -> ProjectionView {
        try asOf(position: try store.position(asKnownAt: time), progress: progress)
    }
}

/// What a catch-up or rebuild did.
public struct ProjectionRun: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// Nothing new in the log.
        case upToDate = "up-to-date"
        /// New events applied to the stored state.
        case caughtUp = "caught-up"
        /// Replayed from position 1 into a fresh generation.
        case rebuilt
    }

    public var kind: Kind
    /// The checkpoint before and after.
    public var fromPosition: UInt64
    public var toPosition: UInt64
    public var eventsApplied: UInt64
    public var seconds: Double
    /// Why a catch-up became a rebuild (a retraction, a missing or foreign checkpoint, a large gap).
    public var reason: String?

    public var eventsPerSecond: Double { seconds > 0 ? Double(eventsApplied) / seconds : 0 }
}
