import ReferralEvents

/// Where a statistics row belongs: its period and the groups asked for (nil where the
/// query did not group by that dimension, meaning "all").
public struct StatisticsDimensions: Sendable, Hashable {
    public var period: StatisticsPeriod
    public var area: AreaID?
    public var organisation: OrganisationID?
    /// A `Sector` raw value, or `unknown` for an organisation that is not registered.
    public var sector: String?

    var sortKey: [String] { [area ?? "", organisation ?? "", sector ?? ""] }
}

/// Referrals from one sector to another, of one kind: the referral matrix.
///
/// Counted in the month the referral was made (occurred-at). `accepted` and `rejected` are
/// those same referrals' answers as known at the view's position, whenever they came.
public struct ReferralRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var fromSector: String
    public var toSector: String
    /// Set when grouped by organisation.
    public var fromOrganisation: OrganisationID?
    public var toOrganisation: OrganisationID?
    public var kind: ReferralKind
    public var made: Int
    public var accepted: Int
    public var rejected: Int
    public var awaitingAnswer: Int { made - accepted - rejected }
    /// accepted ÷ (accepted + rejected); nil while none is answered.
    public var acceptanceRate: Double? { accepted + rejected == 0 ? nil : Double(accepted) / Double(accepted + rejected) }
}

/// The funnel referral → first jobcenter contact → placement → job or education.
///
/// A case enters with its first referral and is counted in that referral's month. Each
/// later stage counts the cases that reached it on or after the date they reached the
/// stage before (first jobcenter contact on or after the first referral; a placement
/// starting on or after that contact; a placement ending in an ordinary job or education,
/// or an outcome of ordinary job or education, on or after that placement's start).
public struct FunnelRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var referred: Int
    public var firstContact: Int
    public var placement: Int
    public var jobOrEducation: Int
}

/// Days from a case's first referral to its first jobcenter contact on or after it, for
/// the cases (counted in the referral's month) that have had that contact.
///
/// `medianDays` is the lower median (the ⌈n/2⌉-th smallest value), `p90Days` the
/// nearest-rank 90th percentile (the ⌈0.9·n⌉-th smallest): both are days that occurred.
public struct FirstContactRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var cases: Int
    public var medianDays: Int?
    public var p90Days: Int?
}

/// Placements of one kind started (by start date) and ended (by end date) in a period.
public struct PlacementRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var kind: PlacementKind
    public var started: Int
    public var endedByOutcome: [PlacementOutcome: Int]
    public var ended: Int { endedByOutcome.values.reduce(0, +) }
}

/// Residents' status some months after their case closed, counted in the month of that
/// close (so "cases closed in Q1, status after 6 months"). A later record of the same
/// follow-up replaces an earlier one.
public struct OutcomeRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var monthsAfterClose: Int
    public var status: OutcomeStatus
    public var cases: Int
}

/// Cases opened (first time), reopened and closed in a period, by the events' occurred-at.
public struct CaseFlowRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var opened: Int
    public var reopened: Int
    public var closed: Int
}

/// Distinct residents with a case open on at least one day of the period.
///
/// A resident counts once per row however many cases they have; the same resident can
/// appear in two rows (two areas), so rows do not add up to the total across groups.
/// Age band, gender and target group are those recorded when the case opened; the target
/// group's label is the definition in effect on the period's last day.
public struct ResidentRow: Sendable, Hashable {
    public var dimensions: StatisticsDimensions
    public var ageBand: AgeBand?
    public var gender: Gender?
    public var targetGroup: TargetGroupCode?
    public var targetGroupLabel: String?
    public var residents: Int
}

/// Shared-employee hours: delivered (logged, by the day they were spent) against agreed.
///
/// Agreed hours for a month are `hours a week ÷ 5` for each weekday (Monday–Friday) of the
/// month inside the agreement (from its start to the earlier of its end and the day it
/// was ended), rounded to the hundredth per month; a period's are the sum of its months.
/// A row with `party == nil && area == nil` is the agreement's total and carries `agreed`;
/// rows split by party or area carry only what was delivered for them.
public struct HoursRow: Sendable, Hashable {
    public var period: StatisticsPeriod
    public var agreement: String
    public var employee: String
    public var payingOrganisation: OrganisationID
    /// The party the hours were logged for; `unspecified` when the log names none.
    public var party: OrganisationID?
    public var area: AreaID?
    public var agreed: Hours?
    public var delivered: Hours
    /// delivered − agreed, for total rows.
    public var balance: Hours? { agreed.map { delivered - $0 } }
}

/// Index `i` of a closed vocabulary, nil when a row holds an index this build does not know.
func vocabulary<E: CaseIterable>(_ i: UInt32, _: E.Type) -> E? {
    let all = Array(E.allCases)
    return Int(i) < all.count ? all[Int(i)] : nil
}

/// Dimensions as interned ids while aggregating (UInt32.max = not grouped).
struct GroupIDs: Hashable {
    var period: Int
    var area: UInt32 = .max
    var organisation: UInt32 = .max
    var sector: UInt8 = .max
}

extension ProjectionView {
    /// The plans registered with their areas, by name.
    public func plans() throws -> [PlanInfo] {
        try read { lookup in
            var plans: [String: PlanInfo] = [:]
            try lookup.all(.area) { id, v in
                let a = try AreaRow(decoding: v)
                var p = plans[a.plan] ?? PlanInfo(name: a.plan, from: a.planFrom, to: a.planTo, areas: [])
                p.from = min(p.from, a.planFrom)
                p.to = max(p.to, a.planTo)
                p.areas.append(try lookup.name(id))
                plans[a.plan] = p
            }
            return plans.values.map { var p = $0; p.areas.sort(); return p }.sorted { $0.name < $1.name }
        }
    }

    /// The plan called `name`, or `.notFound` naming the plans there are.
    public func plan(named name: String) throws -> PlanInfo {
        let all = try plans()
        guard let p = all.first(where: { $0.name == name }) else {
            throw LogError(.notFound, "no plan named '\(name)'; the registered plans are: \(all.map(\.name).joined(separator: ", "))")
        }
        return p
    }
}

/// Shared machinery of the counter-backed statistics.
struct CounterQuery {
    let lookup: Lookup
    let query: StatisticsQuery
    let periods: [StatisticsPeriod]
    let periodOfMonth: [Int: Int]
    let areas: Set<UInt32>?
    let organisations: Set<UInt32>?

    init(_ lookup: Lookup, _ query: StatisticsQuery) throws {
        self.lookup = lookup
        self.query = query
        (periods, periodOfMonth) = query.periodIndex()
        areas = try query.areas.map { Set(try $0.map { try lookup.registered(.area, $0) }) }
        organisations = try query.organisations.map { Set(try $0.map { try lookup.registered(.organisation, $0) }) }
    }

    /// Visits the counters of `stat` in the query's months, with their period index.
    func scan(_ stat: Stat, _ body: (CounterKey, Int64, Int) throws -> Void) throws {
        let start = CounterKey.start(stat, UInt16(clamping: query.from.index))
        try lookup.rows.scan(.counters, from: start) { k, v in
            guard let key = CounterKey(k), key.stat == stat.rawValue, Int(key.month) <= query.through.index else { return false }
            if let p = periodOfMonth[Int(key.month)] { try body(key, readLE64(v), p) }
            return true
        }
    }

    func areaAllowed(_ a: UInt32) -> Bool { areas?.contains(a) ?? true }
    func organisationAllowed(_ o: UInt32) -> Bool { organisations?.contains(o) ?? true }

    func sectorCode(_ organisation: UInt32) throws -> UInt8 {
        guard let s = try lookup.sector(organisation), let i = Sector.allCases.firstIndex(of: s) else { return 0xFE }
        return UInt8(i)
    }

    /// Group ids for a case-level counter (area in `a`, case organisation in `b`).
    func caseGroup(_ key: CounterKey, _ period: Int) throws -> GroupIDs? {
        guard areaAllowed(key.a), organisationAllowed(key.b) else { return nil }
        var g = GroupIDs(period: period)
        if query.groupBy.contains(.area) { g.area = key.a }
        if query.groupBy.contains(.organisation) { g.organisation = key.b }
        if query.groupBy.contains(.sector) { g.sector = try sectorCode(key.b) }
        return g
    }

    func sectorName(_ code: UInt8) -> String {
        code == 0xFE ? "unknown" : vocabulary(UInt32(code), Sector.self)?.rawValue ?? "unknown"
    }

    func dimensions(_ g: GroupIDs) throws -> StatisticsDimensions {
        StatisticsDimensions(period: periods[g.period],
                             area: g.area == .max ? nil : try lookup.name(g.area),
                             organisation: g.organisation == .max ? nil : try lookup.name(g.organisation),
                             sector: g.sector == .max ? nil : sectorName(g.sector))
    }
}

func sortRows<R>(_ rows: [R], _ dims: (R) -> StatisticsDimensions, then: (R) -> [String] = { _ in [] }) -> [R] {
    rows.sorted { x, y in
        let a = dims(x), b = dims(y)
        if a.period.from != b.period.from { return a.period.from < b.period.from }
        let ka = a.sortKey + then(x), kb = b.sortKey + then(y)
        return ka.lexicographicallyPrecedes(kb)
    }
}

extension ProjectionView {
    /// The referral matrix: sector → sector (and organisation → organisation when grouped
    /// by organisation) by kind, with answers and acceptance rate.
    public func referrals(_ query: StatisticsQuery) throws -> [ReferralRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            struct Key: Hashable { var g: GroupIDs; var fromSector: UInt8; var toSector: UInt8; var from: UInt32; var to: UInt32; var kind: UInt32 }
            var acc: [Key: (Int, Int, Int)] = [:]
            try q.scan(.referrals) { key, value, p in
                guard q.areaAllowed(key.a), q.organisations.map({ $0.contains(key.b) || $0.contains(key.c) }) ?? true else { return }
                var g = GroupIDs(period: p)
                if query.groupBy.contains(.area) { g.area = key.a }
                let byOrg = query.groupBy.contains(.organisation)
                let k = Key(g: g, fromSector: try q.sectorCode(key.b), toSector: try q.sectorCode(key.c),
                            from: byOrg ? key.b : .max, to: byOrg ? key.c : .max, kind: key.d)
                var v = acc[k] ?? (0, 0, 0)
                switch key.measure {
                case 0: v.0 += Int(value)
                case 1: v.1 += Int(value)
                default: v.2 += Int(value)
                }
                acc[k] = v
            }
            let rows = try acc.compactMap { k, v -> ReferralRow? in
                guard let kind = vocabulary(k.kind, ReferralKind.self) else { return nil }
                return ReferralRow(dimensions: try q.dimensions(k.g), fromSector: q.sectorName(k.fromSector), toSector: q.sectorName(k.toSector),
                                   fromOrganisation: k.from == .max ? nil : try lookup.name(k.from),
                                   toOrganisation: k.to == .max ? nil : try lookup.name(k.to),
                                   kind: kind, made: v.0, accepted: v.1, rejected: v.2)
            }
            return sortRows(rows, \.dimensions) { [$0.fromSector, $0.toSector, $0.fromOrganisation ?? "", $0.toOrganisation ?? "", $0.kind.rawValue] }
        }
    }

    /// The funnel per period (the month of each case's first referral) and group.
    public func funnel(_ query: StatisticsQuery) throws -> [FunnelRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            var acc: [GroupIDs: [Int]] = [:]
            try q.scan(.funnel) { key, value, p in
                guard let g = try q.caseGroup(key, p), key.measure < 4 else { return }
                acc[g, default: [0, 0, 0, 0]][Int(key.measure)] += Int(value)
            }
            let rows = try acc.map { g, v in
                FunnelRow(dimensions: try q.dimensions(g), referred: v[0], firstContact: v[1], placement: v[2], jobOrEducation: v[3])
            }
            return sortRows(rows, \.dimensions)
        }
    }

    /// Days from first referral to first jobcenter contact: lower median and nearest-rank p90.
    public func daysToFirstContact(_ query: StatisticsQuery) throws -> [FirstContactRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            var acc: [GroupIDs: [UInt32: Int]] = [:]
            try q.scan(.firstContactDays) { key, value, p in
                guard let g = try q.caseGroup(key, p) else { return }
                acc[g, default: [:]][key.c, default: 0] += Int(value)
            }
            let rows = try acc.map { g, histogram in
                let n = histogram.values.reduce(0, +)
                return FirstContactRow(dimensions: try q.dimensions(g), cases: n,
                                       medianDays: rank(histogram, (n + 1) / 2), p90Days: rank(histogram, (n * 9 + 9) / 10))
            }
            return sortRows(rows, \.dimensions)
        }
    }

    /// Placements started and ended (by outcome) per period, group and kind.
    public func placements(_ query: StatisticsQuery) throws -> [PlacementRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            struct Key: Hashable { var g: GroupIDs; var kind: UInt32 }
            var acc: [Key: (started: Int, ended: [PlacementOutcome: Int])] = [:]
            try q.scan(.placements) { key, value, p in
                guard let g = try q.caseGroup(key, p) else { return }
                let k = Key(g: g, kind: key.c)
                var v = acc[k] ?? (0, [:])
                if key.measure == 0 {
                    v.started += Int(value)
                } else if let o = vocabulary(UInt32(key.measure - 1), PlacementOutcome.self) {
                    v.ended[o, default: 0] += Int(value)
                }
                acc[k] = v
            }
            let rows = try acc.compactMap { k, v -> PlacementRow? in
                guard let kind = vocabulary(k.kind, PlacementKind.self) else { return nil }
                return PlacementRow(dimensions: try q.dimensions(k.g), kind: kind, started: v.started, endedByOutcome: v.ended)
            }
            return sortRows(rows, \.dimensions) { [$0.kind.rawValue] }
        }
    }

    /// Outcome status 1, 3, 6 and 12 months after close, per period of the close.
    public func outcomes(_ query: StatisticsQuery) throws -> [OutcomeRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            struct Key: Hashable { var g: GroupIDs; var months: UInt8; var status: UInt32 }
            var acc: [Key: Int] = [:]
            try q.scan(.outcomes) { key, value, p in
                guard let g = try q.caseGroup(key, p) else { return }
                acc[Key(g: g, months: key.measure, status: key.c), default: 0] += Int(value)
            }
            let rows = try acc.compactMap { k, v -> OutcomeRow? in
                guard let status = vocabulary(k.status, OutcomeStatus.self) else { return nil }
                return OutcomeRow(dimensions: try q.dimensions(k.g), monthsAfterClose: Int(k.months), status: status, cases: v)
            }
            return sortRows(rows, \.dimensions) { [String(100 + $0.monthsAfterClose), $0.status.rawValue] }
        }
    }

    /// New (first opened), reopened and closed cases per period and group.
    public func caseFlow(_ query: StatisticsQuery) throws -> [CaseFlowRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            var acc: [GroupIDs: [Int]] = [:]
            try q.scan(.caseFlow) { key, value, p in
                guard let g = try q.caseGroup(key, p), key.measure < 3 else { return }
                acc[g, default: [0, 0, 0]][Int(key.measure)] += Int(value)
            }
            let rows = try acc.map { g, v in CaseFlowRow(dimensions: try q.dimensions(g), opened: v[0], reopened: v[1], closed: v[2]) }
            return sortRows(rows, \.dimensions)
        }
    }

    /// Unique residents with a case open during each period, per group (area,
    /// organisation, sector, age band, gender, target group as asked).
    public func residents(_ query: StatisticsQuery) throws -> [ResidentRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            struct Key: Hashable { var g: GroupIDs; var age: UInt8; var gender: UInt8; var tg: UInt32 }
            let spans = q.periods.map { ($0.firstDay.daysSinceEpoch, $0.lastDay.daysSinceEpoch) }
            var acc: [Key: Set<Pseudonym>] = [:]
            try lookup.rows.scan(.cases, from: []) { _, v in
                let f = try ResidentFacts(decoding: v)
                guard q.areaAllowed(f.area), q.organisationAllowed(f.organisation) else { return true }
                for (p, span) in spans.enumerated() where f.episodes.contains(where: { $0.opened <= span.1 && $0.closed >= span.0 }) {
                    var g = GroupIDs(period: p)
                    if query.groupBy.contains(.area) { g.area = f.area }
                    if query.groupBy.contains(.organisation) { g.organisation = f.organisation }
                    if query.groupBy.contains(.sector) { g.sector = try q.sectorCode(f.organisation) }
                    let k = Key(g: g, age: query.groupBy.contains(.ageBand) ? f.ageBand : .max,
                                gender: query.groupBy.contains(.gender) ? f.gender : .max,
                                tg: query.groupBy.contains(.targetGroup) ? f.targetGroup : .max)
                    acc[k, default: []].insert(f.resident)
                }
                return true
            }
            let rows = try acc.map { k, set in
                ResidentRow(dimensions: try q.dimensions(k.g),
                            ageBand: k.age == .max ? nil : vocabulary(UInt32(k.age), AgeBand.self),
                            gender: k.gender == .max ? nil : vocabulary(UInt32(k.gender), Gender.self),
                            targetGroup: k.tg == .max ? nil : try lookup.name(k.tg),
                            targetGroupLabel: k.tg == .max ? nil : try lookup.targetGroupLabel(k.tg, on: q.periods[k.g.period].lastDay),
                            residents: set.count)
            }
            return sortRows(rows, \.dimensions) { [$0.ageBand?.rawValue ?? "", $0.gender?.rawValue ?? "", $0.targetGroup ?? ""] }
        }
    }

    /// Shared hours delivered against agreed, per agreement and period; split by party
    /// (grouped by organisation) and/or area (grouped by area) on extra rows.
    public func hours(_ query: StatisticsQuery) throws -> [HoursRow] {
        try read { lookup in
            let q = try CounterQuery(lookup, query)
            var rows: [HoursRow] = []
            try lookup.rows.scan(.agreements, from: []) { k, v in
                guard k.count == 4 else { return true }
                let agreementID = readBE32(k)
                let a = try AgreementState(decoding: v)
                if let orgs = q.organisations, !orgs.contains(a.paying), !a.servedOrganisations.contains(where: orgs.contains) { return true }
                if let areas = q.areas, !a.servedAreas.contains(where: areas.contains) { return true }
                let name = try lookup.name(agreementID), paying = try lookup.name(a.paying)
                var delivered: [Int: Int64] = [:]
                var split: [HoursSplit: Int64] = [:]
                for (bucket, hundredths) in a.hours {
                    guard let p = q.periodOfMonth[Int(bucket.month)] else { continue }
                    delivered[p, default: 0] += hundredths
                    let party = query.groupBy.contains(.organisation) ? bucket.party : .max - 1
                    let area = query.groupBy.contains(.area) ? bucket.area : .max - 1
                    // Asked for some areas, a row per area shows only those (the agreement's
                    // own row still counts all its hours: agreed hours are not per area).
                    if area != .max - 1, let areas = q.areas, !areas.contains(area) { continue }
                    // Asked for some organisations, a row per party shows only theirs, unless
                    // one of them pays the agreement: then every party's hours are its to see.
                    if party != .max - 1, let orgs = q.organisations, !orgs.contains(a.paying), !orgs.contains(party) { continue }
                    if party != .max - 1 || area != .max - 1 { split[HoursSplit(period: p, party: party, area: area), default: 0] += hundredths }
                }
                for (p, period) in q.periods.enumerated() {
                    var agreed: Int64 = 0
                    var m = period.from
                    while m <= period.through { agreed += a.agreedHundredths(month: UInt16(m.index)); m = m.adding(months: 1) }
                    let got = delivered[p] ?? 0
                    guard agreed != 0 || got != 0 else { continue }
                    rows.append(HoursRow(period: period, agreement: name, employee: a.employee, payingOrganisation: paying, party: nil, area: nil,
                                         agreed: Hours(hundredths: Int32(clamping: agreed)), delivered: Hours(hundredths: Int32(clamping: got))))
                }
                for (s, hundredths) in split {
                    func label(_ id: UInt32) throws -> String? {
                        id == .max - 1 ? nil : id == HoursBucket.unspecified ? "unspecified" : try lookup.name(id)
                    }
                    rows.append(HoursRow(period: q.periods[s.period], agreement: name, employee: a.employee, payingOrganisation: paying,
                                         party: try label(s.party), area: try label(s.area), agreed: nil,
                                         delivered: Hours(hundredths: Int32(clamping: hundredths))))
                }
                return true
            }
            return rows.sorted { x, y in
                if x.period.from != y.period.from { return x.period.from < y.period.from }
                return [x.agreement, x.party ?? "", x.area ?? ""].lexicographicallyPrecedes([y.agreement, y.party ?? "", y.area ?? ""])
            }
        }
    }
}

struct HoursSplit: Hashable {
    var period: Int
    var party: UInt32
    var area: UInt32
}

/// The `k`-th smallest value (1-based) of an integer histogram; nil for an empty one.
func rank(_ histogram: [UInt32: Int], _ k: Int) -> Int? {
    guard k >= 1 else { return nil }
    var seen = 0
    for (value, count) in histogram.sorted(by: { $0.key < $1.key }) {
        seen += count
        if seen >= k { return Int(value) }
    }
    return nil
}
