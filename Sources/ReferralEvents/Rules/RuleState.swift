// The compact state the domain rules need, stored as rows in the `rules` database
// (docs/lmdb-layout.md) and updated in the same transaction as the append.

/// One consent as the rules see it.
struct ConsentRow: Hashable {
    var id: String
    var parties: [OrganisationID]
    var purposes: [ConsentPurpose]
    var validUntil: CalendarDate?
    /// Withdrawn, or lapsed because the case closed.
    var lapsed: Bool

    func covers(party: OrganisationID, purpose: ConsentPurpose, on date: CalendarDate) -> Bool {
        !lapsed && parties.contains(party) && purposes.contains(purpose) && (validUntil.map { date <= $0 } ?? true)
    }
}

/// A case as the rules see it: open or closed, its consents, referrals and placements.
struct CaseRuleState: Hashable {
    var open = true
    var consents: [ConsentRow] = []
    /// Referral id → answered.
    var referrals: [String: Bool] = [:]
    /// Placement id → (start date, ended).
    var placements: [String: (start: CalendarDate, ended: Bool)] = [:]

    static func == (a: CaseRuleState, b: CaseRuleState) -> Bool {
        a.open == b.open && a.consents == b.consents && a.referrals == b.referrals
            && a.placements.mapValues { "\($0.start.daysSinceEpoch)/\($0.ended)" } == b.placements.mapValues { "\($0.start.daysSinceEpoch)/\($0.ended)" }
    }
    func hash(into h: inout Hasher) { h.combine(open); h.combine(consents) }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64)
        w.bool(open)
        w.array(consents) { w, c in
            w.string(c.id); w.array(c.parties) { $0.string($1) }; w.array(c.purposes) { $0.enumCase($1) }
            w.optional(c.validUntil) { $0.date($1) }; w.bool(c.lapsed)
        }
        w.array(referrals.sorted { $0.key < $1.key }) { w, r in w.string(r.key); w.bool(r.value) }
        w.array(placements.sorted { $0.key < $1.key }) { w, p in w.string(p.key); w.date(p.value.start); w.bool(p.value.ended) }
        return w.bytes
    }

    init() {}

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(buffer)
        open = try r.bool()
        // Rule rows are derived data this code wrote in the same store: their strings are
        // not validated as UTF-8 again (that was most of the cost of reading a row).
        consents = try r.array { r in
            ConsentRow(id: try r.trustedString(), parties: try r.array { try $0.trustedString() }, purposes: try r.array { try $0.enumCase(ConsentPurpose.self) },
                       validUntil: try r.optional { try $0.date() }, lapsed: try r.bool())
        }
        for (k, v) in try r.array({ r in (try r.trustedString(), try r.bool()) }) { referrals[k] = v }
        for (k, s, e) in try r.array({ r in (try r.trustedString(), try r.date(), try r.bool()) }) { placements[k] = (s, e) }
    }
}

/// A shared-hours agreement as the rules see it.
struct AgreementRuleState: Hashable {
    var validFrom: CalendarDate
    var validTo: CalendarDate?
    var endedOn: CalendarDate?

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 16)
        w.date(validFrom); w.optional(validTo) { $0.date($1) }; w.optional(endedOn) { $0.date($1) }
        return w.bytes
    }

    init(validFrom: CalendarDate, validTo: CalendarDate?, endedOn: CalendarDate?) {
        self.validFrom = validFrom
        self.validTo = validTo
        self.endedOn = endedOn
    }

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(buffer)
        validFrom = try r.date()
        validTo = try r.optional { try $0.date() }
        endedOn = try r.optional { try $0.date() }
    }
}

/// Row keys in the `rules` database: a one-letter kind, a zero byte, then the id.
enum RuleKey {
    static func organisation(_ id: String) -> [UInt8] { key("o", id) }
    static func area(_ id: String) -> [UInt8] { key("a", id) }
    static func liaison(_ id: String) -> [UInt8] { key("l", id) }
    static func targetGroup(_ code: String) -> [UInt8] { key("t", code) }
    static func caseState(_ stream: StreamID) -> [UInt8] { key("c", stream.rawValue) }
    static func agreement(_ stream: StreamID) -> [UInt8] { key("g", stream.rawValue) }
    static func dailyHoursPrefix(_ stream: StreamID) -> [UInt8] { key("h", stream.rawValue) + [0] }
    static func dailyHours(_ stream: StreamID, _ date: CalendarDate) -> [UInt8] {
        dailyHoursPrefix(stream) + withUnsafeBytes(of: UInt32(bitPattern: date.daysSinceEpoch).bigEndian) { Array($0) }
    }
    static func retracted(_ id: UUIDBytes) -> [UInt8] { [UInt8(ascii: "x"), 0] + id }

    private static func key(_ kind: Character, _ id: String) -> [UInt8] {
        [kind.asciiValue ?? 0, 0] + Array(id.utf8)
    }
}

typealias UUIDBytes = [UInt8]
