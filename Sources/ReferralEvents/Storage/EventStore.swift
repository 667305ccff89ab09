import Foundation

/// The event log: an append-only, hash-chained sequence of referral events in LMDB.
///
/// A store is a directory:
/// - `log.mdb` — the events and their indexes (see `docs/lmdb-layout.md`);
/// - `keys.mdb` — the store secret and one key per resident, kept apart so a key can be
///   destroyed without touching the log (see `KeyStore`).
///
/// Any number of threads and processes may read and append at once: LMDB serialises
/// writers with its lock file, and positions are assigned inside the write transaction,
/// so they stay gapless. Appends are fsync'd before `append` returns unless the store
/// was opened with `durable: false`. Opening after a crash needs no recovery step.
///
/// ```swift
/// let store = try EventStore(at: "/var/lib/referral", create: true)
/// let result = try store.append([event], expecting: [event.stream: .noStream])
/// ```
public final class EventStore: Sendable {
    /// The store's directory.
    public let directory: String
    let env: Environment
    let events: Database
    let eventIDs: Database
    let streams: Database
    let meta: Database
    let rules: Database
    /// A clock the tests can set; production uses the wall clock.
    let clock: @Sendable () -> Timestamp
    /// Whether `replay` unmaps the pages it has passed (see `init(at:…lowMemoryReplay:)`).
    public let lowMemoryReplay: Bool
    /// The layout this handle moved the store from when it opened it (builds of that layout
    /// can no longer open the store), nil when the store was already in `layoutFormat` or new.
    public let movedFromLayout: UInt8?

    /// The layout of `log.mdb` (its databases and their keys), kept in `meta` under `format`.
    /// 1: a `streams` entry per event and a `stream_heads` tree; 2: the stream index in
    /// chunks and no heads tree; 3: each case's rule row in `streams` beside its chunks
    /// instead of in `rules`; 4: case rows name organisations by number; 5: case rows keep
    /// the days the dated rules read, bound from a rules boundary (`RulesBoundaries`);
    /// 6: the same rows, and a second boundary, from which a close lapses a consent that
    /// already lapsed on a later day on the close's day (docs/lmdb-layout.md). The records
    /// themselves are `EventRecord.format`.
    public static let layoutFormat: UInt8 = 6

    /// The `meta` keys of the rules boundaries (`RulesBoundaries`), each a BE u64 position.
    static let datedRulesFromKey = Array("rules-2-from".utf8)
    static let closeLapseFromKey = Array("rules-3-from".utf8)

    /// The `meta` key of the layout format (`layoutFormat`).
    static let formatKey = Array("format".utf8)

    /// The rules boundaries stored in `meta`.
    ///
    /// Every append and every replay of the rules reads them, and checks the layout first:
    /// a newer build may have moved the store on while this process had it open (a worker
    /// left running through an upgrade), and this build's rules would then write rows, or
    /// judge events, the newer layout reads otherwise.
    func rulesBoundaries(_ txn: Transaction) throws -> RulesBoundaries {
        let format = try txn.get(meta, Self.formatKey)?.first ?? 0
        guard format == Self.layoutFormat else {
            throw LogError(.unsupportedFormat, "the store at \(directory) is format \(format) now, and this process (a build of format \(Self.layoutFormat)) had it open before a newer build moved it on; stop this process and use a build as new as that one (`referral --version` names the layout a build reads)")
        }
        return RulesBoundaries(datedRules: try rulesBoundary(txn, Self.datedRulesFromKey),
                               closeLapse: try rulesBoundary(txn, Self.closeLapseFromKey))
    }

    /// One rules boundary from `meta`: present (a store of layout 6 has both), 8 bytes, and a
    /// position (not 0).
    func rulesBoundary(_ txn: Transaction, _ key: [UInt8]) throws -> UInt64 {
        let name = String(decoding: key, as: UTF8.self)
        guard let raw = try txn.get(meta, key) else { throw LogError.corrupt("the rules boundary `\(name)` is missing from `meta`") }
        guard raw.count == 8 else { throw LogError.corrupt("the rules boundary `\(name)` in `meta` is \(raw.count) bytes, not 8") }
        let at: UInt64 = readBigEndian(raw)
        guard at >= 1 else { throw LogError.corrupt("the rules boundary `\(name)` in `meta` is 0; positions start at 1") }
        return at
    }

    /// Stores `boundaries` in `meta`.
    func setRulesBoundaries(_ txn: Transaction, _ boundaries: RulesBoundaries) throws {
        try txn.put(meta, Self.datedRulesFromKey, bigEndianKey(boundaries.datedRules))
        try txn.put(meta, Self.closeLapseFromKey, bigEndianKey(boundaries.closeLapse))
    }

    /// Where the log's LMDB file lives inside a store directory.
    public static func logPath(in directory: String) -> String { directory + "/log.mdb" }

    /// Opens the store in `directory`.
    ///
    /// - Parameters:
    ///   - create: make the directory and files if missing; otherwise a missing store is
    ///     `LogError.notFound` with advice to run `referral init`.
    ///   - durable: fsync every commit (the default). Benchmarks and bulk imports may turn
    ///     it off and call `sync()` at the end.
    ///   - initialMapSize: the LMDB map to start with; it grows by itself when full.
    ///   - lowMemoryReplay: unmap log pages as `replay` passes them, so a full replay's
    ///     resident memory stays bounded instead of growing to the log's size (file-backed,
    ///     reclaimable pages, but counted in RSS). Costs replay speed on logs whose pages are
    ///     scattered (about 2× at 10M events; BENCHMARKS.md), so it is off by default.
    public init(at directory: String, create: Bool = false, durable: Bool = true, initialMapSize: Int = 64 << 20,
                lowMemoryReplay: Bool = false,
                clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }) throws {
        let fm = FileManager.default
        let logPath = EventStore.logPath(in: directory)
        if !fm.fileExists(atPath: logPath) {
            guard create else {
                throw LogError(.notFound, "no store at \(directory); create one with `referral init` or point --store / REFERRAL_STORE at an existing store")
            }
            do {
                try FileSystem.makePrivateDirectories(directory)
            } catch {
                throw LogError(.storage, "cannot create the store directory \(directory): \(error)")
            }
        }
        self.directory = directory
        self.clock = clock
        self.lowMemoryReplay = lowMemoryReplay
        let env = try Environment(path: logPath, maxDatabases: 8, initialMapSize: initialMapSize, durable: durable)
        self.env = env
        events = try env.openDatabase("events")
        eventIDs = try env.openDatabase("event_ids")
        streams = try env.openDatabase("streams")
        let meta = try env.openDatabase("meta")
        self.meta = meta
        rules = try env.openDatabase("rules")
        // Read before the move below, which needs `self` whole (another process may move the
        // store in between; then this one only says so).
        let found = try env.read { txn in try txn.get(meta, Self.formatKey)?.first }
        movedFromLayout = found.flatMap { (2..<Self.layoutFormat).contains($0) ? $0 : nil }
        try env.write { txn in
            let key = Self.formatKey
            if let f = try txn.get(meta, key) {
                let version = f.first ?? 0
                if version >= 2 && version <= 5 {
                    // Layouts 2 to 5 differ only in their rule rows and rules boundaries:
                    // moved, renumbered and derived again in this one transaction, so the
                    // store is in one layout or another, never between (EventStore+Layouts.swift).
                    // The format first: the replay of the move from layout 4 checks it.
                    try txn.put(meta, key, [Self.layoutFormat])
                    if version == 2 { try Self.moveCaseRows(txn, from: rules, to: streams) }
                    if version <= 3 { try Self.numberOrganisations(txn, streams: streams, events: events, rules: rules) }
                    if version <= 4 { try self.moveFromLayout4(txn) } else { try self.moveFromLayout5(txn) }
                    return
                }
                guard version <= Self.layoutFormat else {
                    throw LogError(.unsupportedFormat, "the store at \(directory) has format \(version), written by a newer build; this build reads format \(Self.layoutFormat): use a build as new as the one that last opened the store")
                }
                guard version == Self.layoutFormat else {
                    throw LogError(.unsupportedFormat, "the store at \(directory) has format \(version); this build reads format \(Self.layoutFormat): export its events with the build that wrote it (`referral export`) and import them into a new store (`referral import --as-recorded`, so that the history is judged by the rules it was recorded under)")
                }
            } else {
                try txn.put(meta, key, [Self.layoutFormat])
                try setRulesBoundaries(txn, .everyEvent)
                try txn.put(meta, Array("store-id".utf8), Array(UUID().uuidString.utf8))
            }
        }
    }

    /// Flushes everything to disk; needed only for stores opened with `durable: false`.
    public func sync() throws { try env.sync() }

    /// The LMDB map size in bytes (it grows by itself).
    public var mapSize: Int { env.mapSize }

    /// A stable id for this store, made when it was created.
    public var storeID: String {
        get throws {
            try env.read { txn in
                try txn.get(meta, Array("store-id".utf8)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
        }
    }
}

/// The last event of the log: what an external head file records and `verify` checks.
public struct LogHead: Sendable, Hashable, Codable {
    /// 0 for an empty log.
    public var position: UInt64
    public var hash: String
    public var recordedAt: Timestamp?

    public init(position: UInt64, hash: String, recordedAt: Timestamp?) {
        self.position = position
        self.hash = hash
        self.recordedAt = recordedAt
    }
}
