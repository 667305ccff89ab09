import ReferralEvents

/// Kinds of registry row; the raw value is the row key's first byte.
enum RegistryKind: UInt8 {
    case organisation = 1, area = 2, liaison = 3, targetGroup = 4
}

struct OrganisationRow: Sendable, Hashable {
    var name: String
    var kind: OrganisationKind
    var sector: Sector
    var municipality: String
}

struct AreaRow: Sendable, Hashable {
    var name: String
    var municipality: UInt32
    var housingOrganisations: [UInt32]
    var plan: String
    var planFrom: CalendarDate
    var planTo: CalendarDate
}

struct LiaisonRow: Sendable, Hashable {
    var name: String
    var organisation: UInt32
}

struct TargetGroupRow: Sendable, Hashable {
    var label: String
    var from: CalendarDate
    var to: CalendarDate?
}

/// Reference data as the queries need it: names, sectors, plans, effective-dated target groups.
struct RegistryState {
    var organisations: [UInt32: OrganisationRow] = [:]
    var areas: [UInt32: AreaRow] = [:]
    var liaisons: [UInt32: LiaisonRow] = [:]
    var targetGroups: [UInt32: [TargetGroupRow]] = [:]

    /// Applies a registry event (decoded in full: the registry is small).
    mutating func apply<N: NameTable>(_ view: EventView, names: inout N) throws {
        switch view.typeCode {
        case EventType.organisationRegistered.code:
            let p = try view.decode(OrganisationRegistered.self)
            organisations[try names.id(p.organisationId)] = OrganisationRow(name: p.name, kind: p.kind, sector: p.sector, municipality: p.municipality)
        case EventType.housingAreaRegistered.code:
            let p = try view.decode(HousingAreaRegistered.self)
            areas[try names.id(p.areaId)] = AreaRow(name: p.name, municipality: try names.id(p.municipality),
                                                   housingOrganisations: try p.housingOrganisations.map { try names.id($0) },
                                                   plan: p.plan, planFrom: p.planFrom, planTo: p.planTo)
        case EventType.liaisonRegistered.code:
            let p = try view.decode(LiaisonRegistered.self)
            liaisons[try names.id(p.liaisonId)] = LiaisonRow(name: p.name, organisation: try names.id(p.organisationId))
        case EventType.targetGroupDefined.code:
            let p = try view.decode(TargetGroupDefined.self)
            targetGroups[try names.id(p.code), default: []].append(TargetGroupRow(label: p.label, from: p.effectiveFrom, to: p.effectiveTo))
        default:
            break
        }
    }

    /// Every row, keyed `kind ‖ id (BE u32)`.
    func rows() -> [(key: [UInt8], value: [UInt8])] {
        var out: [(key: [UInt8], value: [UInt8])] = []
        for (id, o) in organisations { out.append((registryKey(.organisation, id), o.encoded())) }
        for (id, a) in areas { out.append((registryKey(.area, id), a.encoded())) }
        for (id, l) in liaisons { out.append((registryKey(.liaison, id), l.encoded())) }
        for (id, t) in targetGroups { out.append((registryKey(.targetGroup, id), encodeTargetGroups(t))) }
        return out
    }
}

func registryKey(_ kind: RegistryKind, _ id: UInt32) -> [UInt8] {
    [kind.rawValue] + beBytes(id)
}

extension NameTable {
    mutating func id(_ s: String) throws -> UInt32 {
        var s = s
        return try s.withUTF8 { try id(UnsafeRawBufferPointer($0)) }
    }
}

extension OrganisationRow {
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64)
        w.string(name); w.enumCase(kind); w.enumCase(sector); w.string(municipality)
        return w.bytes
    }
    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(b)
        self.init(name: try r.string(), kind: try r.enumCase(OrganisationKind.self), sector: try r.enumCase(Sector.self), municipality: try r.string())
    }
}

extension AreaRow {
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64)
        w.string(name); w.u32(municipality); w.array(housingOrganisations) { $0.u32($1) }
        w.string(plan); w.date(planFrom); w.date(planTo)
        return w.bytes
    }
    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(b)
        self.init(name: try r.string(), municipality: try r.u32(), housingOrganisations: try r.array { try $0.u32() },
                  plan: try r.string(), planFrom: try r.date(), planTo: try r.date())
    }
}

extension LiaisonRow {
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 32)
        w.string(name); w.u32(organisation)
        return w.bytes
    }
    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(b)
        self.init(name: try r.string(), organisation: try r.u32())
    }
}

func encodeTargetGroups(_ rows: [TargetGroupRow]) -> [UInt8] {
    var w = BinaryWriter(capacity: 32)
    w.array(rows) { w, t in w.string(t.label); w.date(t.from); w.optional(t.to) { $0.date($1) } }
    return w.bytes
}

func decodeTargetGroups(_ b: UnsafeRawBufferPointer) throws -> [TargetGroupRow] {
    var r = BinaryReader(b)
    return try r.array { r in TargetGroupRow(label: try r.string(), from: try r.date(), to: try r.optional { try $0.date() }) }
}

@inline(__always)
func beBytes(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
}

@inline(__always)
func readBE32(_ b: UnsafeRawBufferPointer, _ o: Int = 0) -> UInt32 {
    UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
}
