import ReferralEvents

/// The statistics kept as monthly counters. Raw values are stored in keys: never renumber.
enum Stat: UInt8, CaseIterable {
    /// measure 0 opened, 1 reopened, 2 closed; a area, b case organisation.
    case caseFlow = 1
    /// measure 0 made, 1 accepted, 2 rejected (all in the month the referral was made);
    /// a area, b from organisation, c to organisation, d kind.
    case referrals = 2
    /// measure = funnel stage 0…3, in the month of the case's first referral; a area, b organisation.
    case funnel = 3
    /// measure 0; c = days from first referral to first jobcenter contact; a area, b organisation.
    case firstContactDays = 4
    /// measure 0 started (start month), 1 + outcome index ended (end month); a area, b organisation, c kind.
    case placements = 5
    /// measure = months after close, in the month of that close; a area, b organisation, c status.
    case outcomes = 6
}

/// One monthly counter's identity. Stored big-endian (20 bytes) so that one statistic's
/// months sort together and a period is one key range.
struct CounterKey: Hashable {
    var stat: UInt8
    /// `year * 12 + month - 1`.
    var month: UInt16
    var measure: UInt8
    var a: UInt32 = 0
    var b: UInt32 = 0
    var c: UInt32 = 0
    var d: UInt32 = 0

    static let size = 20

    var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        out[0] = stat
        out[1] = UInt8(month >> 8); out[2] = UInt8(truncatingIfNeeded: month)
        out[3] = measure
        for (i, v) in [a, b, c, d].enumerated() {
            let o = 4 + i * 4
            out[o] = UInt8(v >> 24); out[o + 1] = UInt8(truncatingIfNeeded: v >> 16)
            out[o + 2] = UInt8(truncatingIfNeeded: v >> 8); out[o + 3] = UInt8(truncatingIfNeeded: v)
        }
        return out
    }

    init(stat: UInt8, month: UInt16, measure: UInt8, a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0) {
        self.stat = stat; self.month = month; self.measure = measure
        self.a = a; self.b = b; self.c = c; self.d = d
    }

    init?(_ k: UnsafeRawBufferPointer) {
        guard k.count == Self.size else { return nil }
        func u32(_ o: Int) -> UInt32 { UInt32(k[o]) << 24 | UInt32(k[o + 1]) << 16 | UInt32(k[o + 2]) << 8 | UInt32(k[o + 3]) }
        self.init(stat: k[0], month: UInt16(k[1]) << 8 | UInt16(k[2]), measure: k[3], a: u32(4), b: u32(8), c: u32(12), d: u32(16))
    }

    /// The first key of `stat` in `month`, for range scans.
    static func start(_ stat: Stat, _ month: UInt16) -> [UInt8] {
        CounterKey(stat: stat.rawValue, month: month, measure: 0).bytes
    }
}

/// The month index (`year * 12 + month - 1`) of a day.
///
/// A table lookup for 1900–2199 (about a million calls per million events in a rebuild;
/// the civil-calendar arithmetic is what it saves).
@inline(__always)
func monthIndex(_ day: Day) -> UInt16 {
    let i = Int(day) - MonthTable.firstDay
    if i >= 0 && i < MonthTable.months.count { return MonthTable.months[i] }
    let (y, m, _) = CalendarDate(daysSinceEpoch: day).components
    return UInt16(clamping: y * 12 + m - 1)
}

enum MonthTable {
    static let firstDay = Int(CalendarDate(year: 1900, month: 1, day: 1)?.daysSinceEpoch ?? 0)
    static let months: [UInt16] = {
        var out: [UInt16] = []
        var y = 1900, m = 1
        while y < 2200 {
            let n = CalendarDate.daysIn(month: m, year: y)
            out.append(contentsOf: repeatElement(UInt16(y * 12 + m - 1), count: n))
            m += 1
            if m == 13 { m = 1; y += 1 }
        }
        return out
    }()
}

/// Funnel stages: referral → first jobcenter contact → placement → job or education.
enum FunnelStage: UInt8, CaseIterable {
    case referred = 0, firstContact, placement, jobOrEducation
}

extension CaseState {
    /// The case's first referral and, in order, the first jobcenter contact on or after it,
    /// the first placement starting on or after that, and the first job or education on or
    /// after that (a placement ending in an ordinary job or education, or an outcome of
    /// ordinary job or education). Dates, not log order, so late registrations count.
    var funnelDays: (referred: Day, contact: Day, placement: Day, job: Day)? {
        guard let r = referrals.lazy.map(\.made).min() else { return nil }
        let c = contacts.lazy.filter { $0 >= r }.min() ?? .none
        var p = Day.none
        if c != .none { p = placements.lazy.map(\.start).filter { $0 >= c }.min() ?? .none }
        var j = Day.none
        if p != .none {
            // Index 0 is ordinary job and 1 education in both PlacementOutcome and OutcomeStatus.
            for pl in placements where pl.end != .none && pl.end >= p && pl.outcome <= 1 { j = min(j, pl.end) }
            for o in outcomes where o.day >= p && o.status <= 1 { j = min(j, o.day) }
        }
        return (r, c, p, j)
    }

    /// The close an outcome recorded on `day` follows: the latest close on or before it, else
    /// the latest close, else the day itself.
    func closeBefore(_ day: Day) -> Day {
        var before = Day.min, latest = Day.min
        for e in episodes where e.closed != .none {
            if e.closed <= day && e.closed > before { before = e.closed }
            if e.closed > latest { latest = e.closed }
        }
        return before != .min ? before : latest != .min ? latest : day
    }

    /// Calls `add` with every counter increment this case contributes. A pure function of
    /// the state: catch-up subtracts the old contribution and adds the new one.
    func contribute(_ add: (CounterKey, Int64) -> Void) {
        guard exists else { return }
        let flow = Stat.caseFlow.rawValue
        for (i, e) in episodes.enumerated() {
            add(CounterKey(stat: flow, month: monthIndex(e.opened), measure: i == 0 ? 0 : 1, a: area, b: organisation), 1)
            if e.closed != .none { add(CounterKey(stat: flow, month: monthIndex(e.closed), measure: 2, a: area, b: organisation), 1) }
        }
        for r in referrals {
            let m = monthIndex(r.made)
            let s = Stat.referrals.rawValue
            add(CounterKey(stat: s, month: m, measure: 0, a: area, b: r.from, c: r.to, d: UInt32(r.kind)), 1)
            if r.answer != 0 { add(CounterKey(stat: s, month: m, measure: r.answer, a: area, b: r.from, c: r.to, d: UInt32(r.kind)), 1) }
        }
        if let f = funnelDays {
            let m = monthIndex(f.referred)
            let s = Stat.funnel.rawValue
            add(CounterKey(stat: s, month: m, measure: FunnelStage.referred.rawValue, a: area, b: organisation), 1)
            if f.contact != .none {
                add(CounterKey(stat: s, month: m, measure: FunnelStage.firstContact.rawValue, a: area, b: organisation), 1)
                add(CounterKey(stat: Stat.firstContactDays.rawValue, month: m, measure: 0, a: area, b: organisation,
                               c: UInt32(clamping: Int64(f.contact) - Int64(f.referred))), 1)
            }
            if f.placement != .none { add(CounterKey(stat: s, month: m, measure: FunnelStage.placement.rawValue, a: area, b: organisation), 1) }
            if f.job != .none { add(CounterKey(stat: s, month: m, measure: FunnelStage.jobOrEducation.rawValue, a: area, b: organisation), 1) }
        }
        for p in placements {
            let s = Stat.placements.rawValue
            add(CounterKey(stat: s, month: monthIndex(p.start), measure: 0, a: area, b: organisation, c: UInt32(p.kind)), 1)
            if p.end != .none {
                add(CounterKey(stat: s, month: monthIndex(p.end), measure: 1 &+ p.outcome, a: area, b: organisation, c: UInt32(p.kind)), 1)
            }
        }
        // One status per (close, months after): a later record of the same follow-up replaces
        // the earlier. Outcomes per case are few, so the quadratic scan beats a dictionary.
        for (i, o) in outcomes.enumerated() {
            let close = closeBefore(o.day)
            var replaced = false
            for later in outcomes[(i + 1)...] where later.months == o.months && closeBefore(later.day) == close {
                replaced = true
                break
            }
            if replaced { continue }
            add(CounterKey(stat: Stat.outcomes.rawValue, month: monthIndex(close), measure: o.months,
                           a: area, b: organisation, c: UInt32(o.status)), 1)
        }
    }
}

/// Sums counter increments: an open-addressing table over the packed key with a cheap
/// multiplicative hash, because a rebuild adds about one increment per event.
struct CounterTable {
    private var keys: [CounterKey] = []
    private var values: [Int64] = []
    /// 0 empty, else index + 1.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 1 << 12) {
        var n = 64
        while n < capacity * 2 { n <<= 1 }
        slots = [Int32](repeating: 0, count: n)
        mask = n - 1
    }

    var count: Int { keys.count }

    @inline(__always)
    private static func hash(_ k: CounterKey) -> Int {
        let w0 = UInt64(k.stat) << 56 | UInt64(k.month) << 40 | UInt64(k.measure) << 32 | UInt64(k.a)
        let w1 = UInt64(k.b) << 32 | UInt64(k.c)
        var h = w0 &* 0x9E37_79B9_7F4A_7C15
        h ^= (w1 &+ UInt64(k.d) << 17) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    mutating func add(_ key: CounterKey, _ value: Int64) {
        var i = Self.hash(key) & mask
        while true {
            let s = Int(slots[i])
            if s == 0 { break }
            if keys[s - 1] == key {
                values[s - 1] += value
                return
            }
            i = (i + 1) & mask
        }
        keys.append(key)
        values.append(value)
        slots[i] = Int32(keys.count)
        if keys.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for (e, k) in keys.enumerated() {
            var i = Self.hash(k) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Int32(e + 1)
        }
    }

    /// Entry indices in key order (the order of `CounterKey.bytes`).
    func sortedOrder() -> [Int32] {
        // Sorting packed words instead of keys: compares are two integer compares.
        var order = Array(0..<Int32(keys.count))
        keys.withUnsafeBufferPointer { k in
            order.sort { x, y in
                func words(_ k: CounterKey) -> (UInt64, UInt64, UInt32) {
                    (UInt64(k.stat) << 56 | UInt64(k.month) << 40 | UInt64(k.measure) << 32 | UInt64(k.a), UInt64(k.b) << 32 | UInt64(k.c), k.d)
                }
                return words(k[Int(x)]) < words(k[Int(y)])
            }
        }
        return order
    }

    /// Entry `i`: its key and sum.
    func entry(_ i: Int) -> (CounterKey, Int64) { (keys[i], values[i]) }

    /// Every key with a non-zero sum.
    func forEach(_ body: (CounterKey, Int64) -> Void) {
        for (k, v) in zip(keys, values) where v != 0 { body(k, v) }
    }
}
