import Foundation

/// A case's rule row in its stored form (`CaseRuleState.encoded()`), checked and changed
/// in place.
///
/// An append reads the row of every case its batch touches; decoding each into arrays and
/// strings, encoding it again and freeing it all cost more than the checks themselves. Most
/// case events only read the row or flip one flag or day (a referral is answered, a
/// placement ends, the case closes or reopens, a first contact or an outcome is recorded),
/// which this does on the bytes; events that add an entry (a consent, referral or
/// placement) or a consent's lapsed-on day insert it in the bytes too.
struct CaseRow {
    private(set) var bytes: [UInt8]

    /// A stored row. One shorter than the header (a layout 4 row, which a process of an
    /// older build still running may write) is refused as damaged rather than read past
    /// its end, which would be a crash.
    init(stored raw: UnsafeRawBufferPointer) throws {
        guard raw.count >= Self.header else {
            throw LogError.corrupt("a case's rule row is \(raw.count) bytes, shorter than layout 5's \(Self.header)-byte header (a process of an older build may still be writing); stop it and rebuild the rule rows (`referral rebuild --rules`)")
        }
        bytes = Array(raw)
    }
    init(_ state: CaseRuleState) { bytes = state.encoded() }

    /// The flags byte, the opening day and the last closing day come first.
    private static let header = 9

    /// A new case's row: open on `day`, no parties, consents, referrals or placements.
    static func opened(on day: CalendarDate) -> CaseRow { CaseRow(CaseRuleState(openedOn: day)) }

    var open: Bool { bytes[0] & CaseFlags.open != 0 }

    mutating func setOpen(_ open: Bool) { setFlags(CaseFlags.open, open) }

    /// Whether all of `bits` (`CaseFlags`) are set in the row's first byte.
    func has(_ bits: UInt8) -> Bool { bytes[0] & bits == bits }
    mutating func setFlags(_ bits: UInt8, _ on: Bool) { bytes[0] = on ? bytes[0] | bits : bytes[0] & ~bits }

    /// The day the case was opened.
    var openedOn: CalendarDate { get throws { try date(at: 1) } }
    /// The day the case last closed (the opening day if it never closed).
    var lastClosedOn: CalendarDate { get throws { try date(at: 5) } }
    mutating func setLastClosedOn(_ day: CalendarDate) { setDate(day, at: 5) }

    /// The offset of the consent's flags byte (bit 0: lapsed), nil if the case has no such consent.
    func consentFlags(_ id: String) throws -> Int? {
        try scan { r, sections in
            r.offset = sections.consents
            let n = try r.varint()
            for _ in 0..<n {
                let match = try Self.string(&r, equals: id)
                if match { return r.offset }
                try Self.skipConsentAfterID(&r)
            }
            return nil
        }
    }

    func byte(at offset: Int) -> UInt8 { bytes[offset] }
    mutating func setByte(_ value: UInt8, at offset: Int) { bytes[offset] = value }

    /// The day the consent whose flags byte is at `flags` (`consentFlags`) was given.
    func consentGivenOn(flagsAt flags: Int) throws -> CalendarDate {
        try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: flags)
            _ = try Self.skipToGivenOn(&r)
            return try r.date()
        }
    }

    /// Marks the consent whose flags byte is at `flags` (`consentFlags`) lapsed on `day`:
    /// sets its flag and inserts the day after the rest of the consent.
    mutating func lapseConsent(flagsAt flags: Int, on day: CalendarDate) throws {
        let end = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: flags)
            try Self.skipConsentAfterID(&r)
            return r.offset
        }
        bytes[flags] |= 1
        bytes.insert(contentsOf: Self.dayBytes(day), at: end)
    }

    /// Marks every consent not lapsed yet lapsed on `day` (the case closed). One lapsed
    /// before (withdrawn, or by an earlier close) keeps its day, unless `earliestLapse` (the
    /// rule since `RulesBoundaries.closeLapse`) and that day is after `day`: a close recorded
    /// after a withdrawal may be dated before it, and the consent lapsed then, so it must
    /// not cover the days between should the case be reopened. That day is changed in place.
    mutating func lapseAllConsents(on day: CalendarDate, earliestLapse: Bool) throws {
        var lapsedLater: [Int] = []
        let open: [(flags: Int, end: Int)] = try scan { r, sections in
            r.offset = sections.consents
            var out: [(Int, Int)] = []
            for _ in 0..<(try r.varint()) {
                try Self.skipString(&r)
                let flags = r.offset
                try Self.skipConsentAfterID(&r)
                if bytes[flags] & 1 == 0 {
                    out.append((flags, r.offset))
                } else if earliestLapse {
                    // A lapsed consent's day is its last four bytes.
                    let at = r.offset - 4
                    var lapse = r
                    lapse.offset = at
                    if try lapse.date() > day { lapsedLater.append(at) }
                }
            }
            return out
        }
        // In place, before the insertions below move the bytes.
        for at in lapsedLater { bytes.replaceSubrange(at..<(at + 4), with: Self.dayBytes(day)) }
        // From the last: an insertion moves only the bytes after it.
        for c in open.reversed() {
            bytes[c.flags] |= 1
            bytes.insert(contentsOf: Self.dayBytes(day), at: c.end)
        }
    }

    /// Whether a consent names `party` (an organisation's number,
    /// `RuleKey.organisationNumber`) for `purpose` and is valid on `date`. With `byDays`
    /// (`ConsentRow.covers`, the rule since the rules boundary): given on or before `date`,
    /// valid until then, and withdrawn or lapsed only after it. Without (the rule events
    /// before the boundary were accepted under): not lapsed now, and valid until `date`.
    func covers(party: OrganisationNumber, purpose: ConsentPurpose, on date: CalendarDate, byDays: Bool = true) throws -> Bool {
        let purposeCode = UInt8(ConsentPurpose.allCases.firstIndex(of: purpose) ?? 0)
        return try scan { r, sections in
            // The party's index in the row's table of parties.
            r.offset = Self.header
            var partyIndex: UInt64?
            let tableCount = try r.varint()
            for i in 0..<tableCount {
                if try r.varint() == party, partyIndex == nil { partyIndex = i }
            }
            guard let partyIndex else { return false }
            let n = try r.varint()
            for _ in 0..<n {
                try Self.skipString(&r)
                let flags = try r.u8()
                var named = false
                for _ in 0..<(try r.varint()) {
                    if try r.varint() == partyIndex { named = true }
                }
                var hasPurpose = false
                for _ in 0..<(try r.varint()) {
                    if try r.u8() == purposeCode { hasPurpose = true }
                }
                var valid = true
                if flags & 2 != 0 { valid = date <= (try r.date()) }
                let given = try r.date()
                let lapsedOn = flags & 1 != 0 ? try r.date() : nil
                if byDays {
                    valid = valid && given <= date && (lapsedOn.map { date < $0 } ?? true)
                } else {
                    valid = valid && lapsedOn == nil
                }
                if named, hasPurpose, valid { return true }
            }
            return false
        }
    }

    /// The offset of the referral's answered byte (its made-on day follows it), nil if the
    /// case has no such referral.
    func referral(_ id: String) throws -> Int? { try entry(id, in: { $0.referrals }, fixedBytes: 5) }

    /// The offset of the placement's start date (its ended byte follows it), nil if the
    /// case has no such placement.
    func placement(_ id: String) throws -> Int? { try entry(id, in: { $0.placements }, fixedBytes: 5) }

    /// The offset just after the id of entry `id` in a section of entries that are an id and
    /// then `fixedBytes` bytes; nil if there is none.
    @inline(__always)
    private func entry(_ id: String, in section: (Sections) -> Int, fixedBytes: Int) throws -> Int? {
        try scan { r, sections in
            r.offset = section(sections)
            for _ in 0..<(try r.varint()) {
                if try Self.string(&r, equals: id) { return r.offset }
                r.offset += fixedBytes
            }
            return nil
        }
    }

    /// Adds a consent that has not lapsed (the id must be new): its parties (organisation
    /// numbers) go into the row's table where missing, the consent at the end of the
    /// consents. One walk over the row, then the new row is written in one pass.
    mutating func addConsent(id: String, parties: [OrganisationNumber], purposes: [ConsentPurpose], validUntil: CalendarDate?,
                             givenOn: CalendarDate) throws {
        var table: [OrganisationNumber] = []
        let (tableCount, tableStart, consentsAt, consentsStart, consentCount, consentsEnd) = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: Self.header)
            let tableCount = try r.varint()
            let tableStart = r.offset
            for _ in 0..<tableCount { table.append(try r.varint()) }
            let consentsAt = r.offset
            let consentCount = try r.varint()
            let consentsStart = r.offset
            for _ in 0..<consentCount {
                try Self.skipString(&r)
                try Self.skipConsentAfterID(&r)
            }
            return (tableCount, tableStart, consentsAt, consentsStart, consentCount, r.offset)
        }
        // Each party's index in the table, new parties after the known ones (as `encoded()`).
        var added: [OrganisationNumber] = []
        var indexes: [UInt64] = []
        indexes.reserveCapacity(parties.count)
        for party in parties {
            if let i = table.firstIndex(of: party) {
                indexes.append(UInt64(i))
            } else if let j = added.firstIndex(of: party) {
                indexes.append(tableCount + UInt64(j))
            } else {
                indexes.append(tableCount + UInt64(added.count))
                added.append(party)
            }
        }
        var w = BinaryWriter(capacity: bytes.count + id.utf8.count + parties.count + purposes.count + 32)
        w.raw(bytes[0..<Self.header])
        w.varint(tableCount + UInt64(added.count))
        w.raw(bytes[tableStart..<consentsAt])
        for party in added { w.varint(party) }
        w.varint(consentCount + 1)
        w.raw(bytes[consentsStart..<consentsEnd])
        w.string(id)
        w.u8(validUntil == nil ? 0 : 2)
        w.array(indexes) { $0.varint($1) }
        w.array(purposes) { $0.enumCase($1) }
        if let validUntil { w.date(validUntil) }
        w.date(givenOn)
        w.raw(bytes[consentsEnd...])
        bytes = w.bytes
    }

    /// Adds an unanswered referral made on `day` (the id must be new): an entry at the end
    /// of the referrals, without decoding the row.
    mutating func addReferral(_ id: String, madeOn day: CalendarDate) throws {
        var entry = BinaryWriter(capacity: id.utf8.count + 6)
        entry.string(id)
        entry.bool(false)
        entry.date(day)
        let (count, end) = try scan { r, sections in (sections.referrals, sections.placements) }
        try insert(entry.bytes, at: end, countAt: count)
    }

    /// Adds a placement that has not ended (the id must be new), at the end of the row.
    mutating func addPlacement(_ id: String, start: CalendarDate) throws {
        var entry = BinaryWriter(capacity: id.utf8.count + 6)
        entry.string(id)
        entry.date(start)
        entry.bool(false)
        let count = try scan { r, sections in sections.placements }
        try insert(entry.bytes, at: bytes.count, countAt: count)
    }

    /// Inserts an entry at `offset` and adds one to the section's count (a varint at `countAt`).
    private mutating func insert(_ entry: [UInt8], at offset: Int, countAt: Int) throws {
        let (count, width) = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: countAt)
            let n = try r.varint()
            return (n, r.offset - countAt)
        }
        var newCount = BinaryWriter(capacity: 2)
        newCount.varint(count + 1)
        bytes.insert(contentsOf: entry, at: offset)
        bytes.replaceSubrange(countAt..<(countAt + width), with: newCount.bytes)
    }

    /// The day stored at `offset` (a placement's start from `placement`, a referral's
    /// made-on day one after `referral`'s offset).
    func date(at offset: Int) throws -> CalendarDate {
        try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: offset)
            return try r.date()
        }
    }

    private mutating func setDate(_ day: CalendarDate, at offset: Int) {
        bytes.replaceSubrange(offset..<(offset + 4), with: Self.dayBytes(day))
    }

    /// A day as rows store it (`BinaryWriter.date`).
    private static func dayBytes(_ day: CalendarDate) -> [UInt8] {
        var w = BinaryWriter(capacity: 4)
        w.date(day)
        return w.bytes
    }

    // MARK: - Walking the row

    private struct Sections {
        var consents: Int
        var referrals: Int
        var placements: Int
    }

    /// Finds where each section starts, then hands a reader over the row to `body`.
    private func scan<T>(_ body: (inout BinaryReader, Sections) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: Self.header)
            for _ in 0..<(try r.varint()) { _ = try r.varint() }
            let consents = r.offset
            for _ in 0..<(try r.varint()) {
                try Self.skipString(&r)
                try Self.skipConsentAfterID(&r)
            }
            let referrals = r.offset
            for _ in 0..<(try r.varint()) {
                try Self.skipString(&r)
                _ = try r.bytes(5)
            }
            let placements = r.offset
            return try body(&r, Sections(consents: consents, referrals: referrals, placements: placements))
        }
    }

    private static func skipString(_ r: inout BinaryReader) throws {
        let n = try r.varint()
        guard n <= UInt64(r.remaining) else { throw LogError.corrupt("a case rule row's string runs past its end") }
        r.offset += Int(n)
    }

    /// Reads a string's length and bytes and compares them with `s`.
    private static func string(_ r: inout BinaryReader, equals s: String) throws -> Bool {
        let n = try r.varint()
        guard n <= UInt64(r.remaining) else { throw LogError.corrupt("a case rule row's string runs past its end") }
        let stored = try r.bytes(Int(n))
        return Self.utf8(of: s, equals: stored)
    }

    /// Whether `s`'s UTF-8 is `stored`: one `memcmp` over a native string's contiguous
    /// bytes. The generic `utf8.elementsEqual` walked the view a byte at a time, and a
    /// row's ids are compared for nearly every case event.
    static func utf8(of s: String, equals stored: UnsafeRawBufferPointer) -> Bool {
        if let equal = s.utf8.withContiguousStorageIfAvailable({ b in
            b.count == stored.count && (b.isEmpty || memcmp(b.baseAddress!, stored.baseAddress!, b.count) == 0)
        }) { return equal }
        return s.utf8.count == stored.count && s.utf8.elementsEqual(stored)
    }

    /// Skips a consent's flags, parties, purposes, valid-until, given-on and lapsed-on days.
    private static func skipConsentAfterID(_ r: inout BinaryReader) throws {
        let flags = try skipToGivenOn(&r)
        _ = try r.bytes(4 + (flags & 1 != 0 ? 4 : 0))
    }

    /// Reads a consent's flags and skips its parties, purposes and valid-until, leaving the
    /// reader at its given-on day; returns the flags.
    private static func skipToGivenOn(_ r: inout BinaryReader) throws -> UInt8 {
        let flags = try r.u8()
        for _ in 0..<(try r.varint()) { _ = try r.varint() }
        let purposes = try r.varint()
        guard purposes <= UInt64(r.remaining) else { throw LogError.corrupt("a case rule row's consent runs past its end") }
        r.offset += Int(purposes)
        if flags & 2 != 0 { _ = try r.bytes(4) }
        return flags
    }
}
