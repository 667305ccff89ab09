// The compact state the domain rules need, stored as rows in the `rules` database
// (docs/lmdb-layout.md) and updated in the same transaction as the append.

/// An organisation as case rule rows name it: a number given when the organisation is
/// first registered (`RuleKey.organisationNumber`), from 1 up, never reused or changed,
/// not even when the registration is retracted. One or two bytes in a row instead of the
/// id's twenty or so (docs/lmdb-layout.md, layout 4).
typealias OrganisationNumber = UInt64

/// One consent as the rules see it.
struct ConsentRow: Hashable {
    var id: String
    /// The parties, by organisation number.
    var parties: [OrganisationNumber]
    var purposes: [ConsentPurpose]
    var validUntil: CalendarDate?
    /// The day it was given (the event's occurred-at day).
    var givenOn: CalendarDate
    /// The day it was withdrawn, or the day the case closed; nil while it holds.
    var lapsedOn: CalendarDate?

    /// Withdrawn, or lapsed because the case closed.
    var lapsed: Bool { lapsedOn != nil }

    /// Whether it covers `party` and `purpose` on `date`: given on or before that day, valid
    /// until then, and not withdrawn or lapsed by then (docs/domain-rules.md).
    func covers(party: OrganisationNumber, purpose: ConsentPurpose, on date: CalendarDate) -> Bool {
        parties.contains(party) && purposes.contains(purpose) && givenOn <= date
            && (validUntil.map { date <= $0 } ?? true) && (lapsedOn.map { date < $0 } ?? true)
    }
}

/// The bits of a case row's first byte (`CaseRuleState.encoded()`).
enum CaseFlags {
    static let open: UInt8 = 1
    /// A jobcenter contact of kind `first` has been held.
    static let firstContact: UInt8 = 2
    /// The outcome of `monthsAfterClose` (1, 3, 6 or 12) has been recorded since the case
    /// last closed; nil for other months.
    static func outcome(_ monthsAfterClose: Int) -> UInt8? {
        switch monthsAfterClose {
        case 1: 4
        case 3: 8
        case 6: 16
        case 12: 32
        default: nil
        }
    }
    static let outcomes: UInt8 = 4 | 8 | 16 | 32
}

/// A case as the rules see it (layout 5): open or closed, when it opened and last closed,
/// whether its first jobcenter contact was held, the outcomes recorded since it last closed,
/// its consents, referrals and placements.
struct CaseRuleState: Hashable {
    /// `CaseFlags`: open, first contact held, outcomes recorded since the last close.
    var flags: UInt8 = CaseFlags.open
    var openedOn: CalendarDate
    /// The day the case last closed; the opening day until it first closes.
    var lastClosedOn: CalendarDate
    var consents: [ConsentRow] = []
    /// Referral id → (answered, made on).
    var referrals = SmallMap<(answered: Bool, madeOn: CalendarDate)>()
    /// Placement id → (start date, ended).
    var placements = SmallMap<(start: CalendarDate, ended: Bool)>()

    var open: Bool {
        get { flags & CaseFlags.open != 0 }
        set { flags = newValue ? flags | CaseFlags.open : flags & ~CaseFlags.open }
    }

    static func == (a: CaseRuleState, b: CaseRuleState) -> Bool {
        a.flags == b.flags && a.openedOn == b.openedOn && a.lastClosedOn == b.lastClosedOn && a.consents == b.consents
            && a.referrals.entries.count == b.referrals.entries.count
            && a.referrals.entries.allSatisfy { e in b.referrals[e.key].map { $0.answered == e.value.answered && $0.madeOn == e.value.madeOn } ?? false }
            && a.placements.entries.count == b.placements.entries.count
            && a.placements.entries.allSatisfy { e in b.placements[e.key].map { $0.start == e.value.start && $0.ended == e.value.ended } ?? false }
    }
    func hash(into h: inout Hasher) { h.combine(flags); h.combine(openedOn); h.combine(consents) }

    /// The stored row. Consents of one case mostly name the same parties again (a new
    /// consent extends the last one), so the parties' numbers are written once, in a table
    /// at the front, and consents refer to them by index. (Lapsed consents keep their
    /// parties: `consentState(ofCase:)` shows them to explain a refusal.) Days are Int32
    /// days since 1970-01-01, four bytes, so a day can be changed in place; a consent's
    /// lapsed-on day is there only when its lapsed flag is.
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 112)
        w.u8(flags)
        w.date(openedOn)
        w.date(lastClosedOn)
        // A handful of parties a case: a linear search beats hashing them.
        var table: [OrganisationNumber] = []
        for c in consents {
            for party in c.parties where !table.contains(party) { table.append(party) }
        }
        w.array(table) { $0.varint($1) }
        w.array(consents) { w, c in
            w.string(c.id)
            // bit 0: lapsed (a lapsed-on day follows); bit 1: a valid-until date follows.
            w.u8((c.lapsed ? 1 : 0) | (c.validUntil == nil ? 0 : 2))
            w.array(c.parties) { w, party in w.varint(UInt64(table.firstIndex(of: party) ?? 0)) }
            w.array(c.purposes) { $0.enumCase($1) }
            if let until = c.validUntil { w.date(until) }
            w.date(c.givenOn)
            if let lapsedOn = c.lapsedOn { w.date(lapsedOn) }
        }
        w.array(referrals.entries) { w, r in w.string(r.key); w.bool(r.value.answered); w.date(r.value.madeOn) }
        w.array(placements.entries) { w, p in w.string(p.key); w.date(p.value.start); w.bool(p.value.ended) }
        return w.bytes
    }

    /// A case opened on `day`: open, nothing else yet.
    init(openedOn day: CalendarDate) {
        openedOn = day
        lastClosedOn = day
    }

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(buffer)
        flags = try r.u8()
        openedOn = try r.date()
        lastClosedOn = try r.date()
        // Rule rows are derived data this code wrote in the same store: their strings are
        // not validated as UTF-8 again (that was most of the cost of reading a row).
        let table = try r.array { try $0.varint() }
        consents = try r.array { r in
            let id = try r.trustedString()
            let flags = try r.u8()
            let parties = try r.array { r in
                let i = Int(try r.varint())
                guard i < table.count else { throw LogError.corrupt("a case rule row names party \(i) of \(table.count)") }
                return table[i]
            }
            let purposes = try r.array { try $0.enumCase(ConsentPurpose.self) }
            let until = flags & 2 != 0 ? try r.date() : nil
            let given = try r.date()
            let lapsedOn = flags & 1 != 0 ? try r.date() : nil
            return ConsentRow(id: id, parties: parties, purposes: purposes, validUntil: until, givenOn: given, lapsedOn: lapsedOn)
        }
        referrals = SmallMap(entries: try r.array { r in (try r.trustedString(), (try r.bool(), try r.date())) })
        placements = SmallMap(entries: try r.array { r in (try r.trustedString(), (try r.date(), try r.bool())) })
    }
}

/// A few entries by id, in the order they were added: a case has a handful of referrals
/// and placements, and a linear search of short ids is cheaper than a dictionary's hashing
/// and allocation when a row is decoded and encoded at every append.
struct SmallMap<Value> {
    private(set) var entries: [(key: String, value: Value)]

    init(entries: [(key: String, value: Value)] = []) { self.entries = entries }

    subscript(key: String) -> Value? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
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

/// Row keys in the `rules` database: a one-letter kind, a zero byte, then the id. A case's
/// row is not among them: it is kept in `streams`, beside the case's chunks
/// (`StreamIndex.caseRowKey`).
enum RuleKey {
    static func organisation(_ id: String) -> [UInt8] { key(UInt8(ascii: "o"), id) }
    static func area(_ id: String) -> [UInt8] { key(UInt8(ascii: "a"), id) }
    static func liaison(_ id: String) -> [UInt8] { key(UInt8(ascii: "l"), id) }
    static func targetGroup(_ code: String) -> [UInt8] { key(UInt8(ascii: "t"), code) }
    static func agreement(_ stream: StreamID) -> [UInt8] { key(UInt8(ascii: "g"), stream.rawValue) }
    static func dailyHoursPrefix(_ stream: StreamID) -> [UInt8] { key(UInt8(ascii: "h"), stream.rawValue) + [0] }
    static func dailyHours(_ stream: StreamID, _ date: CalendarDate) -> [UInt8] {
        dailyHoursPrefix(stream) + withUnsafeBytes(of: UInt32(bitPattern: date.daysSinceEpoch).bigEndian) { Array($0) }
    }
    static func retracted(_ id: UUIDBytes) -> [UInt8] { [UInt8(ascii: "x"), 0] + id }
    /// An organisation's number (`OrganisationNumber`), as a big-endian UInt32: written when
    /// the organisation is first registered and never removed.
    static func organisationNumber(_ id: String) -> [UInt8] { key(UInt8(ascii: "n"), id) }
    /// The number an `organisationNumber` row holds; nil if it is not 4 bytes.
    static func organisationNumber(stored raw: UnsafeRawBufferPointer) -> OrganisationNumber? {
        raw.count == 4 ? OrganisationNumber(UInt32(bigEndian: raw.loadUnaligned(as: UInt32.self))) : nil
    }
    /// The organisation with a number (its id, UTF-8): to name a case's consents' parties.
    static func organisation(numbered n: UInt32) -> [UInt8] {
        [UInt8(ascii: "N"), 0] + withUnsafeBytes(of: n.bigEndian) { Array($0) }
    }

    /// One allocation: the literal-plus-array form built two arrays and asked a Character
    /// for its ASCII value, for every case row an append read or wrote.
    private static func key(_ kind: UInt8, _ id: String) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(id.utf8.count + 2)
        key.append(kind)
        key.append(0)
        if id.utf8.withContiguousStorageIfAvailable({ key.append(contentsOf: $0) }) == nil {
            key.append(contentsOf: id.utf8)
        }
        return key
    }
}

typealias UUIDBytes = [UInt8]
