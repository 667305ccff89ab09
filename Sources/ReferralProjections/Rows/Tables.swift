import ReferralEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The databases one generation of projection state is kept in (see docs/projections.md).
///
/// Each exists twice, as `A.<name>` and `B.<name>`: the active slot serves readers while a
/// full rebuild fills the other, and one transaction flips them.
enum Table: String, CaseIterable, Sendable {
    /// Checkpoint (position and hash of the last applied event), next name id, format.
    case state
    /// `1 ‖ id → name bytes` and `2 ‖ name bytes → id`.
    case names
    /// `kind ‖ id → row`: organisations, areas, liaisons, target groups.
    case registry
    /// `case id → CaseState`.
    case cases
    /// Open cases, four ways: `0 ‖ case`, `1 ‖ liaison ‖ case`, `2 ‖ organisation ‖ case`, `3 ‖ area ‖ case`.
    case open
    /// `CounterKey → Int64`: the monthly statistics.
    case counters
    /// `agreement id → AgreementState`.
    case agreements
}

enum StateKey {
    static let checkpoint = Array("checkpoint".utf8)
    static let nextName = Array("next-name".utf8)
    static let format = Array("format".utf8)
    static let storeID = Array("store-id".utf8)
}

/// Bumped when a stored row layout changes; a store with another format is rebuilt.
let projectionFormat: UInt8 = 1

/// Reads rows of one generation, from LMDB or from memory (an as-of fold).
protocol RowReader {
    func withValue<T>(_ table: Table, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T
    /// Entries in key order from the first key ≥ `from` until `body` returns false.
    func scan(_ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws
}

extension RowReader {
    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(table, key) { $0.map { Array($0) } }
    }

    /// Entries whose key starts with `prefix`.
    func scan(_ table: Table, prefix: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try scan(table, from: prefix) { k, v in
            guard k.count >= prefix.count, k.starts(with: prefix) else { return false }
            return try body(k, v)
        }
    }
}

/// One key-value row.
struct Row: Sendable {
    var key: [UInt8]
    var value: [UInt8]
}

/// A full generation of rows, sorted per table: what a fold derives, before it is
/// written to LMDB or kept in memory for an as-of query.
struct RowSet: Sendable {
    var tables: [Table: [Row]] = [:]

    mutating func sort() {
        for t in Table.allCases {
            tables[t]?.sort { bytesPrecede($0.key, $1.key) }
        }
    }

    var count: Int { tables.values.reduce(0) { $0 + $1.count } }
}

/// LMDB's key order: memcmp over the common length, then the shorter first.
@inline(__always)
func bytesPrecede(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in
            let n = min(pa.count, pb.count)
            if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                let c = memcmp(x, y, n)
                if c != 0 { return c < 0 }
            }
            return pa.count < pb.count
        }
    }
}

/// Rows kept in memory and read like the stored ones.
struct MemoryRows: RowReader, Sendable {
    let rows: RowSet

    private func lowerBound(_ rows: [Row], _ key: [UInt8]) -> Int {
        var lo = 0, hi = rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if bytesPrecede(rows[mid].key, key) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func withValue<T>(_ table: Table, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        let rs = rows.tables[table] ?? []
        let i = lowerBound(rs, key)
        guard i < rs.count, rs[i].key == key else { return try body(nil) }
        return try rs[i].value.withUnsafeBytes { try body($0) }
    }

    func scan(_ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        let rs = rows.tables[table] ?? []
        var i = lowerBound(rs, from)
        while i < rs.count {
            let go = try rs[i].key.withUnsafeBytes { k in try rs[i].value.withUnsafeBytes { v in try body(k, v) } }
            if !go { return }
            i += 1
        }
    }
}

/// Rows of one slot inside an LMDB transaction.
struct StoredRows: RowReader {
    let txn: KeyValueTransaction
    let dbs: [Table: KeyValueDatabase]

    func withValue<T>(_ table: Table, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        guard let db = dbs[table] else { return try body(nil) }
        return try key.withUnsafeBytes { k in try body(try txn.value(db, k)) }
    }

    func scan(_ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        guard let db = dbs[table] else { return }
        try txn.forEach(db, from: from.isEmpty ? nil : from, body)
    }
}

/// The caseload row of one open case: what the flags are computed from.
struct OpenCaseRow: Sendable, Hashable {
    var liaison: UInt32
    var organisation: UInt32
    var area: UInt32
    var targetGroup: UInt32
    /// The day the case was first opened.
    var openedOn: Day
    /// The day the current episode began (the last reopening, or `openedOn`).
    var episodeOpenedOn: Day
    var lastActivity: Day
    var activePlacements: UInt16
    var pendingReferrals: UInt16
    /// `validUntil` of every consent in force (`Day.none` for one without an end).
    var consentsValidUntil: [Day]

    init(_ c: CaseState) {
        liaison = c.liaison; organisation = c.organisation; area = c.area; targetGroup = c.targetGroup
        openedOn = c.episodes.first?.opened ?? c.lastActivity
        episodeOpenedOn = c.episodes.last?.opened ?? openedOn
        lastActivity = c.lastActivity
        activePlacements = UInt16(clamping: c.activePlacements)
        pendingReferrals = UInt16(clamping: c.pendingReferrals)
        consentsValidUntil = c.consents.filter(\.active).map(\.validUntil)
    }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 40 + consentsValidUntil.count * 4)
        w.u32(liaison); w.u32(organisation); w.u32(area); w.u32(targetGroup)
        w.i32(openedOn); w.i32(episodeOpenedOn); w.i32(lastActivity)
        w.u16(activePlacements); w.u16(pendingReferrals)
        w.array(consentsValidUntil) { $0.i32($1) }
        return w.bytes
    }

    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(b)
        liaison = try r.u32(); organisation = try r.u32(); area = try r.u32(); targetGroup = try r.u32()
        openedOn = try r.i32(); episodeOpenedOn = try r.i32(); lastActivity = try r.i32()
        activePlacements = try r.u16(); pendingReferrals = try r.u16()
        consentsValidUntil = try r.array { try $0.i32() }
    }

    /// The four index keys this row is stored under.
    func keys(caseKey: [UInt8]) -> [[UInt8]] {
        [[0] + caseKey, [1] + beBytes(liaison) + caseKey, [2] + beBytes(organisation) + caseKey, [3] + beBytes(area) + caseKey]
    }
}

/// The case id (stream id without `case-`) a case row is stored under.
func caseKey(stream: some Collection<UInt8>) -> [UInt8] {
    let prefix = Array("case-".utf8)
    return stream.starts(with: prefix) ? Array(stream.dropFirst(prefix.count)) : Array(stream)
}

func nameRows(_ names: ByteInterner) -> [Row] {
    var out: [Row] = []
    out.reserveCapacity(names.count * 2)
    for id in 0..<UInt32(names.count) {
        let b = Array(names.bytes(id))
        out.append(Row(key: [1] + beBytes(id), value: b))
        out.append(Row(key: [2] + b, value: beBytes(id)))
    }
    return out
}

func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

func readBE64(_ b: UnsafeRawBufferPointer, _ o: Int = 0) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v = v << 8 | UInt64(b[o + i]) }
    return v
}
