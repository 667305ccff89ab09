import ReferralEvents

/// A calendar month, the unit every statistic is kept in. Quarters, years and plan
/// periods are sums of months.
public struct YearMonth: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var year: Int
    public var month: Int

    public init?(year: Int, month: Int) {
        guard (1900...2199).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// The month a day falls in.
    public init(_ date: CalendarDate) {
        let (y, m, _) = date.components
        year = y
        month = m
    }

    init(index: Int) {
        year = index / 12
        month = index % 12 + 1
    }

    /// Parses `2024-03`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]) else { return nil }
        self.init(year: y, month: m)
    }

    /// `year * 12 + month - 1`: the form counters are keyed by.
    var index: Int { year * 12 + month - 1 }
    public var firstDay: CalendarDate { CalendarDate(year: year, month: month, day: 1) ?? CalendarDate(daysSinceEpoch: 0) }
    public var lastDay: CalendarDate { firstDay.adding(months: 1).adding(days: -1) }
    public func adding(months: Int) -> YearMonth { YearMonth(index: index + months) }

    /// `2024-03`.
    public var description: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        return "\(year)-\(m)"
    }

    public static func < (a: YearMonth, b: YearMonth) -> Bool { a.index < b.index }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let m = YearMonth(parsing: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a month in the form YYYY-MM")
        }
        self = m
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// How statistics rows are cut in time.
public enum PeriodGranularity: String, Sendable, Hashable, CaseIterable, Codable {
    case month, quarter, year
    /// One row for the whole range (e.g. a plan period).
    case total
}

/// One reporting period: a run of whole months.
public struct StatisticsPeriod: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `2024-03`, `2024-Q1`, `2024`, or for a total the query's label (e.g. the plan's name)
    /// or `2024-01..2024-12`.
    public var label: String
    public var from: YearMonth
    public var through: YearMonth

    public var firstDay: CalendarDate { from.firstDay }
    public var lastDay: CalendarDate { through.lastDay }
    public var description: String { label }
    public static func < (a: StatisticsPeriod, b: StatisticsPeriod) -> Bool { a.from < b.from }
}

/// The dimensions statistics can be grouped by.
public struct StatisticsGrouping: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The case's housing area (for hours: the area the hours were logged for).
    public static let area = StatisticsGrouping(rawValue: 1)
    /// The case's organisation; for referrals the referring and receiving organisations;
    /// for hours the party the hours were spent for.
    public static let organisation = StatisticsGrouping(rawValue: 2)
    /// The sector of that organisation (referrals are always split by sector).
    public static let sector = StatisticsGrouping(rawValue: 4)
    /// Unique residents only: the age band, gender and target group recorded at opening.
    public static let ageBand = StatisticsGrouping(rawValue: 8)
    public static let gender = StatisticsGrouping(rawValue: 16)
    public static let targetGroup = StatisticsGrouping(rawValue: 32)

    /// The groupings with their CLI names.
    public static let named: [(StatisticsGrouping, String)] = [
        (.area, "area"), (.organisation, "organisation"), (.sector, "sector"),
        (.ageBand, "age-band"), (.gender, "gender"), (.targetGroup, "target-group"),
    ]
}

/// Which months, cut how, grouped how, filtered to which areas and organisations.
///
/// Periods are by **occurred-at** (or the event's own date: a placement's start and end,
/// the day hours were spent); which log position is asked is the view's business
/// (`Projections.asOf` / `asKnownAt`). Together they answer "what did we report for Q1
/// on the day we reported it, and what do we know about Q1 now".
public struct StatisticsQuery: Sendable, Hashable {
    public var from: YearMonth
    public var through: YearMonth
    public var granularity: PeriodGranularity
    public var groupBy: StatisticsGrouping
    /// Only these areas (nil: all).
    public var areas: Set<AreaID>?
    /// Only these organisations (the case's organisation; for referrals either end; for
    /// hours the paying or a served organisation). Nil: all.
    public var organisations: Set<OrganisationID>?
    /// The label of the single row of a `.total` query (e.g. a plan's name).
    public var label: String?

    public init(from: YearMonth, through: YearMonth, granularity: PeriodGranularity = .month, groupBy: StatisticsGrouping = [],
                areas: Set<AreaID>? = nil, organisations: Set<OrganisationID>? = nil, label: String? = nil) {
        self.from = min(from, through)
        self.through = max(from, through)
        self.granularity = granularity
        self.groupBy = groupBy
        self.areas = areas
        self.organisations = organisations
        self.label = label
    }

    /// One month.
    public init?(month: Int, of year: Int, groupBy: StatisticsGrouping = [],
                 areas: Set<AreaID>? = nil, organisations: Set<OrganisationID>? = nil) {
        guard let m = YearMonth(year: year, month: month) else { return nil }
        self.init(from: m, through: m, granularity: .month, groupBy: groupBy, areas: areas, organisations: organisations)
    }

    /// One quarter (1–4), as a single row.
    public init?(quarter: Int, of year: Int, groupBy: StatisticsGrouping = [],
                 areas: Set<AreaID>? = nil, organisations: Set<OrganisationID>? = nil) {
        guard (1...4).contains(quarter), let m = YearMonth(year: year, month: quarter * 3 - 2) else { return nil }
        self.init(from: m, through: m.adding(months: 2), granularity: .quarter, groupBy: groupBy, areas: areas, organisations: organisations)
    }

    /// One calendar year, as a single row.
    public init?(year: Int, groupBy: StatisticsGrouping = [],
                 areas: Set<AreaID>? = nil, organisations: Set<OrganisationID>? = nil) {
        guard let m = YearMonth(year: year, month: 1) else { return nil }
        self.init(from: m, through: m.adding(months: 11), granularity: .year, groupBy: groupBy, areas: areas, organisations: organisations)
    }

    /// A plan's whole period over the plan's areas, as one row labelled with the plan's name.
    public init(plan: PlanInfo, groupBy: StatisticsGrouping = []) {
        self.init(from: YearMonth(plan.from), through: YearMonth(plan.to), granularity: .total, groupBy: groupBy,
                  areas: Set(plan.areas), label: plan.name)
    }

    /// The periods the range is cut into, in order.
    public var periods: [StatisticsPeriod] {
        var out: [StatisticsPeriod] = []
        var m = from
        while m <= through {
            let end: YearMonth
            let label: String
            switch granularity {
            case .month:
                end = m
                label = m.description
            case .quarter:
                let q = (m.month - 1) / 3
                end = min(through, YearMonth(index: m.year * 12 + q * 3 + 2))
                label = "\(m.year)-Q\(q + 1)"
            case .year:
                end = min(through, YearMonth(index: m.year * 12 + 11))
                label = "\(m.year)"
            case .total:
                end = through
                label = self.label ?? (from == through ? from.description : "\(from)..\(through)")
            }
            out.append(StatisticsPeriod(label: label, from: m, through: end))
            m = end.adding(months: 1)
        }
        return out
    }

    /// Period index per month index, for bucketing counters.
    func periodIndex() -> (periods: [StatisticsPeriod], ofMonth: [Int: Int]) {
        let ps = periods
        var map: [Int: Int] = [:]
        for (i, p) in ps.enumerated() {
            var m = p.from
            while m <= p.through { map[m.index] = i; m = m.adding(months: 1) }
        }
        return (ps, map)
    }
}

/// A social master plan as registered with its housing areas.
public struct PlanInfo: Sendable, Hashable {
    public var name: String
    public var from: CalendarDate
    public var to: CalendarDate
    public var areas: [AreaID]
}
