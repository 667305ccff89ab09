import ReferralEvents

/// Days since 1970-01-01; `Day.none` marks "not yet" (no close, no end, no expiry).
typealias Day = Int32

extension Day {
    static let none = Int32.max
}

/// One stretch of a case between opening (or reopening) and closing.
struct Episode: Sendable, Hashable {
    var opened: Day
    var closed: Day
}

struct ConsentState: Sendable, Hashable {
    /// A 64-bit hash (`idHash`) of the consent id: ids only need telling apart inside one case.
    var id: UInt64
    var validUntil: Day
    /// Not withdrawn and not lapsed by the case closing.
    var active: Bool
}

struct ReferralState: Sendable, Hashable {
    var id: UInt64
    var kind: UInt8
    var from: UInt32
    var to: UInt32
    var made: Day
    /// 0 awaiting an answer, 1 accepted, 2 rejected.
    var answer: UInt8
}

struct PlacementState: Sendable, Hashable {
    var id: UInt64
    var kind: UInt8
    var start: Day
    var end: Day
    /// Index into `PlacementOutcome.allCases`; 0xFF while running.
    var outcome: UInt8
}

struct OutcomeState: Sendable, Hashable {
    var months: UInt8
    var status: UInt8
    var day: Day
}

/// Everything the projections need to know about one case, folded from its events.
///
/// Every figure a case contributes (caseload row, counters) is a pure function of this
/// state, so a full fold and a catch-up that loads, updates and stores it agree by
/// construction. Retracted events never reach `apply`.
struct CaseState: Sendable, Hashable {
    var exists = false
    var resident = Pseudonym(high: 0, low: 0)
    var area: UInt32 = 0
    var organisation: UInt32 = 0
    var liaison: UInt32 = 0
    var targetGroup: UInt32 = 0
    var ageBand: UInt8 = 0
    var gender: UInt8 = 0
    var isOpen = false
    var episodes: [Episode] = []
    var lastActivity: Day = .min
    var consents: [ConsentState] = []
    var referrals: [ReferralState] = []
    /// Days of every jobcenter contact.
    var contacts: [Day] = []
    var placements: [PlacementState] = []
    var outcomes: [OutcomeState] = []

    /// Applies one (non-retracted) case event. Events of a case that was never opened
    /// (its opening retracted) are ignored: there is nothing to attribute them to.
    mutating func apply<N: NameTable>(_ view: EventView, names: inout N) throws {
        let code = view.typeCode
        let day = Day(truncatingIfNeeded: view.occurredAt.date.daysSinceEpoch)
        var r = BinaryReader(view.payloadBytes)
        if code == EventType.caseOpened.code {
            guard !exists else { return }
            resident = try r.pseudonym()
            area = try names.id(r.stringBytes())
            organisation = try names.id(r.stringBytes())
            liaison = try names.id(r.stringBytes())
            targetGroup = try names.id(r.stringBytes())
            ageBand = try r.u8()
            gender = try r.u8()
            exists = true
            isOpen = true
            episodes = [Episode(opened: day, closed: .none)]
            lastActivity = day
            return
        }
        guard exists else { return }
        if day > lastActivity { lastActivity = day }
        switch code {
        case EventType.caseAssigned.code:
            liaison = try names.id(r.stringBytes())
        case EventType.consentGiven.code:
            let id = idHash(try r.stringBytes())
            for _ in 0..<(try r.count()) { try r.skipString() }
            for _ in 0..<(try r.count()) { _ = try r.u8() }
            _ = try r.u8()
            let until = try r.present() ? try r.i32() : .none
            consents.append(ConsentState(id: id, validUntil: until, active: isOpen))
        case EventType.consentWithdrawn.code:
            let id = idHash(try r.stringBytes())
            if let i = consents.firstIndex(where: { $0.id == id && $0.active }) { consents[i].active = false }
        case EventType.referralMade.code:
            let id = idHash(try r.stringBytes())
            let kind = try r.u8()
            let from = try names.id(r.stringBytes())
            let to = try names.id(r.stringBytes())
            referrals.append(ReferralState(id: id, kind: kind, from: from, to: to, made: day, answer: 0))
        case EventType.referralAnswered.code:
            let id = idHash(try r.stringBytes())
            let accepted = try r.bool()
            if let i = referrals.firstIndex(where: { $0.id == id && $0.answer == 0 }) { referrals[i].answer = accepted ? 1 : 2 }
        case EventType.jobcenterContactHeld.code:
            contacts.append(day)
        case EventType.placementStarted.code:
            let id = idHash(try r.stringBytes())
            let kind = try r.u8()
            try r.skipString()
            let start = try r.i32()
            placements.append(PlacementState(id: id, kind: kind, start: start, end: .none, outcome: 0xFF))
        case EventType.placementEnded.code:
            let id = idHash(try r.stringBytes())
            let end = try r.i32()
            let outcome = try r.u8()
            if let i = placements.firstIndex(where: { $0.id == id && $0.end == .none }) {
                placements[i].end = end
                placements[i].outcome = outcome
            }
        case EventType.outcomeRecorded.code:
            let months = try r.u8()
            let status = try r.u8()
            outcomes.append(OutcomeState(months: months, status: status, day: day))
        case EventType.caseClosed.code:
            guard isOpen else { return }
            isOpen = false
            if !episodes.isEmpty { episodes[episodes.count - 1].closed = day }
            for i in consents.indices { consents[i].active = false }
        case EventType.caseReopened.code:
            guard !isOpen else { return }
            isOpen = true
            episodes.append(Episode(opened: day, closed: .none))
        default:
            break
        }
    }

    /// Placements started and not yet ended.
    var activePlacements: Int { placements.reduce(0) { $0 + ($1.end == .none ? 1 : 0) } }
    /// Referrals still waiting for the receiving party's answer.
    var pendingReferrals: Int { referrals.reduce(0) { $0 + ($1.answer == 0 ? 1 : 0) } }
}

// MARK: - Stored form

extension CaseState {
    static let formatVersion: UInt8 = 1

    /// The row stored per case. The fields the resident statistics need come first, so
    /// they can be read without decoding the rest (`ResidentFacts`).
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 96 + referrals.count * 30 + placements.count * 22)
        w.u8(Self.formatVersion)
        w.pseudonym(resident)
        w.u32(area); w.u32(organisation); w.u32(liaison); w.u32(targetGroup)
        w.u8(ageBand); w.u8(gender); w.bool(isOpen)
        w.varint(UInt64(episodes.count))
        for e in episodes { w.i32(e.opened); w.i32(e.closed) }
        w.i32(lastActivity)
        w.varint(UInt64(consents.count))
        for c in consents { w.u64(c.id); w.i32(c.validUntil); w.bool(c.active) }
        w.varint(UInt64(referrals.count))
        for r in referrals { w.u64(r.id); w.u8(r.kind); w.u32(r.from); w.u32(r.to); w.i32(r.made); w.u8(r.answer) }
        w.varint(UInt64(contacts.count))
        for c in contacts { w.i32(c) }
        w.varint(UInt64(placements.count))
        for p in placements { w.u64(p.id); w.u8(p.kind); w.i32(p.start); w.i32(p.end); w.u8(p.outcome) }
        w.varint(UInt64(outcomes.count))
        for o in outcomes { w.u8(o.months); w.u8(o.status); w.i32(o.day) }
        return w.bytes
    }

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(buffer)
        let version = try r.u8()
        guard version == Self.formatVersion else {
            throw LogError(.unsupportedFormat, "a stored case row has format \(version); rebuild the projections (`referral rebuild`)")
        }
        exists = true
        resident = try r.pseudonym()
        area = try r.u32(); organisation = try r.u32(); liaison = try r.u32(); targetGroup = try r.u32()
        ageBand = try r.u8(); gender = try r.u8(); isOpen = try r.bool()
        episodes = try (0..<r.count()).map { _ in Episode(opened: try r.i32(), closed: try r.i32()) }
        lastActivity = try r.i32()
        consents = try (0..<r.count()).map { _ in ConsentState(id: try r.u64(), validUntil: try r.i32(), active: try r.bool()) }
        referrals = try (0..<r.count()).map { _ in
            ReferralState(id: try r.u64(), kind: try r.u8(), from: try r.u32(), to: try r.u32(), made: try r.i32(), answer: try r.u8())
        }
        contacts = try (0..<r.count()).map { _ in try r.i32() }
        placements = try (0..<r.count()).map { _ in
            PlacementState(id: try r.u64(), kind: try r.u8(), start: try r.i32(), end: try r.i32(), outcome: try r.u8())
        }
        outcomes = try (0..<r.count()).map { _ in OutcomeState(months: try r.u8(), status: try r.u8(), day: try r.i32()) }
    }
}

/// The leading fields of a stored case row: who the resident is, where and when the case
/// was open. Enough for the unique-resident statistics.
struct ResidentFacts {
    var resident: Pseudonym
    var area: UInt32
    var organisation: UInt32
    var targetGroup: UInt32
    var ageBand: UInt8
    var gender: UInt8
    var episodes: [Episode]

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(buffer)
        let version = try r.u8()
        guard version == CaseState.formatVersion else {
            throw LogError(.unsupportedFormat, "a stored case row has format \(version); rebuild the projections (`referral rebuild`)")
        }
        resident = try r.pseudonym()
        area = try r.u32(); organisation = try r.u32(); _ = try r.u32(); targetGroup = try r.u32()
        ageBand = try r.u8(); gender = try r.u8(); _ = try r.bool()
        episodes = try (0..<r.count()).map { _ in Episode(opened: try r.i32(), closed: try r.i32()) }
    }
}
