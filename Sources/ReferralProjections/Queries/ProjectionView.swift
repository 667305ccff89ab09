import ReferralEvents

/// A read-only look at the projections: the stored ones as they are now, or a fold held in
/// memory as of an earlier log position. Every query (caseload, statistics, plans) is a
/// method on it, so "now" and "as known on 1 March" are asked the same way.
public struct ProjectionView: Sendable {
    enum Source: Sendable {
        case stored(Projections)
        case memory(MemoryRows, UInt64)
    }

    let source: Source

    /// Runs `body` over one consistent snapshot of the rows.
    func read<T>(_ body: (Lookup) throws -> T) throws -> T {
        switch source {
        case .stored(let p):
            return try p.kv.read { txn in
                let rows = StoredRows(txn: txn, dbs: p.slots[try p.activeSlot(txn)])
                guard try Projections.checkpoint(rows) != nil else {
                    throw LogError(.notFound, "the projections of \(p.store.directory) have not been built yet; catch them up first (`Projections.catchUp()`; `referral caseload` and `referral stats` do it by themselves) or run `referral rebuild`")
                }
                return try body(Lookup(rows))
            }
        case .memory(let rows, _):
            return try body(Lookup(rows))
        }
    }

    /// The log position this view reflects (its checkpoint, or the as-of position).
    public func position() throws -> UInt64 {
        switch source {
        case .stored(let p): return try p.checkpoint()
        case .memory(_, let position): return position
        }
    }

    /// True for an as-of view folded in memory.
    public var isHistorical: Bool {
        if case .memory = source { return true }
        return false
    }
}

/// Resolves the interned ids in rows back to names and registry facts, with caches that
/// live for one query.
final class Lookup {
    let rows: any RowReader
    private var names: [UInt32: String] = [:]
    private var organisations: [UInt32: OrganisationRow?] = [:]
    private var areas: [UInt32: AreaRow?] = [:]
    private var targetGroups: [UInt32: [TargetGroupRow]] = [:]

    init(_ rows: any RowReader) { self.rows = rows }

    func name(_ id: UInt32) throws -> String {
        if let n = names[id] { return n }
        let n = try rows.withValue(.names, [1] + beBytes(id)) { v in v.map { String(decoding: $0, as: UTF8.self) } } ?? "#\(id)"
        names[id] = n
        return n
    }

    /// The id of a name, nil if no event ever used it.
    func id(_ name: String) throws -> UInt32? {
        try rows.withValue(.names, [2] + Array(name.utf8)) { v in v.map { readBE32($0) } }
    }

    func organisation(_ id: UInt32) throws -> OrganisationRow? {
        if let o = organisations[id] { return o }
        let o = try rows.withValue(.registry, registryKey(.organisation, id)) { v in try v.map { try OrganisationRow(decoding: $0) } }
        organisations[id] = o
        return o
    }

    func sector(_ id: UInt32) throws -> Sector? { try organisation(id)?.sector }

    func area(_ id: UInt32) throws -> AreaRow? {
        if let a = areas[id] { return a }
        let a = try rows.withValue(.registry, registryKey(.area, id)) { v in try v.map { try AreaRow(decoding: $0) } }
        areas[id] = a
        return a
    }

    func liaison(_ id: UInt32) throws -> LiaisonRow? {
        try rows.withValue(.registry, registryKey(.liaison, id)) { v in try v.map { try LiaisonRow(decoding: $0) } }
    }

    func targetGroups(_ id: UInt32) throws -> [TargetGroupRow] {
        if let t = targetGroups[id] { return t }
        let t = try rows.withValue(.registry, registryKey(.targetGroup, id)) { v in try v.map { try decodeTargetGroups($0) } } ?? []
        targetGroups[id] = t
        return t
    }

    /// The label of target group `id` in effect on `day`; the latest definition's label if
    /// none is in effect then; the code itself if it was never defined.
    func targetGroupLabel(_ id: UInt32, on day: CalendarDate) throws -> String {
        let defs = try targetGroups(id)
        if let d = defs.last(where: { $0.from <= day && ($0.to.map { day <= $0 } ?? true) }) { return d.label }
        return try defs.last?.label ?? name(id)
    }

    /// Every registry row of one kind, by id.
    func all(_ kind: RegistryKind, _ body: (UInt32, UnsafeRawBufferPointer) throws -> Void) throws {
        try rows.scan(.registry, prefix: [kind.rawValue]) { k, v in
            guard k.count == 5 else { return true }
            try body(readBE32(k, 1), v)
            return true
        }
    }

    /// The id of a registered organisation, area or liaison named by a user, or a
    /// `.notFound` error that says what to do.
    func registered(_ kind: RegistryKind, _ name: String) throws -> UInt32 {
        let what: String, command: String
        switch kind {
        case .organisation: (what, command) = ("organisation", "add-organisation")
        case .area: (what, command) = ("housing area", "add-area")
        case .liaison: (what, command) = ("liaison", "add-liaison")
        case .targetGroup: (what, command) = ("target group", "define-target-group")
        }
        guard let id = try id(name), try rows.withValue(.registry, registryKey(kind, id), { $0 != nil }) else {
            throw LogError(.notFound, "no \(what) '\(name)' is registered (as of this view); check the spelling, or register it first (`referral registry \(command)`)")
        }
        return id
    }
}

extension CalendarDate {
    init(day: Day) { self.init(daysSinceEpoch: day) }
}
