import ArgumentParser
import ReferralEvents
import ReferralProjections

extension ReferralCommand {
    /// `referral stats`: cross-sector statistics.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cross-sector statistics: referrals, the funnel, days to first contact, placements, outcomes, cases, residents, hours.",
            discussion: """
                Figures are by when things occurred, cut into --period (month, quarter, year \
                or total) over the range given by --year, --quarter, --month, --plan or \
                --from/--to (--from alone runs to this month, --to alone from the first month \
                with data; default: the registered plans' whole span, by year). With --as-of \
                they are as known on that day: late registrations revise past periods. Counts \
                of 1 to 4 are shown as <5, as LBF does (--suppress N sets the threshold, \
                --no-suppress shows them for internal use); rates and days computed from a \
                suppressed count are suppressed too. Hours are never suppressed. --by area, \
                organisation and sector group every statistic but hours (area and \
                organisation only; referrals are always split by sector); age-band, gender \
                and target-group group residents only.

                Statistics: referrals (sector to sector by kind, acceptance %), funnel \
                (referral, first contact, placement, job or education), first-contact (days \
                from referral, median and 90th percentile), placements (started, ended by \
                outcome), outcomes (status 1, 3, 6 and 12 months after close), cases (new and \
                closed), residents (unique, by age band, gender, target group), hours (delivered \
                against agreed).

                Examples:
                  referral stats funnel --year 2024 --by area
                  referral stats referrals --quarter 2024-Q1 --as-of 15.04.2024
                  referral stats residents --plan "Viborg helhedsplan 2021-2025" --by age-band --by gender --excel-csv > lbf.csv
                """
        )

        enum Statistic: String, ExpressibleByArgument, CaseIterable {
            case referrals, funnel, firstContact = "first-contact", placements, outcomes, cases, residents, hours
            var kind: StatisticKind {
                switch self {
                case .referrals: .referrals
                case .funnel: .funnel
                case .firstContact: .firstContact
                case .placements: .placements
                case .outcomes: .outcomes
                case .cases: .cases
                case .residents: .residents
                case .hours: .hours
                }
            }

            /// The `--by` groupings this statistic is cut by (`referrals` are always split
            /// from sector to sector, so `--by sector` asks for what it does anyway).
            var groupings: [Grouping] {
                switch self {
                case .hours: [.area, .organisation]
                case .residents: Grouping.allCases
                case .referrals, .funnel, .firstContact, .placements, .outcomes, .cases: [.area, .organisation, .sector]
                }
            }
        }

        enum Period: String, ExpressibleByArgument, CaseIterable {
            case month, quarter, year, total
            var granularity: PeriodGranularity {
                switch self {
                case .month: .month
                case .quarter: .quarter
                case .year: .year
                case .total: .total
                }
            }
        }

        enum Grouping: String, ExpressibleByArgument, CaseIterable {
            case area, organisation, sector, ageBand = "age-band", gender, targetGroup = "target-group"
            var grouping: StatisticsGrouping {
                switch self {
                case .area: .area
                case .organisation: .organisation
                case .sector: .sector
                case .ageBand: .ageBand
                case .gender: .gender
                case .targetGroup: .targetGroup
                }
            }
        }

        @Argument(help: "The statistic.")
        var statistic: Statistic = .referrals

        @Option(help: "How to cut the range into rows (default: one row for --year, --quarter, --month and --plan, a month a row for --from/--to, a year a row otherwise).")
        var period: Period?

        @Option(parsing: .unconditional, help: ArgumentHelp("One calendar year, e.g. 2024.", valueName: "year"))
        var year: Int?

        @Option(help: ArgumentHelp("One quarter, e.g. 2024-Q1.", valueName: "quarter"), transform: Self.parseQuarter)
        var quarter: YearMonth?

        @Option(help: ArgumentHelp("One month, e.g. 2024-03.", valueName: "month"), transform: Self.parseMonth)
        var month: YearMonth?

        @Option(help: ArgumentHelp("A plan's whole period and areas, by its name (see `referral registry list areas`).", valueName: "name"))
        var plan: String?

        @Option(help: ArgumentHelp("First month, e.g. 2024-01 (or a date in it).", valueName: "month"), transform: Self.parseMonth)
        var from: YearMonth?

        @Option(help: ArgumentHelp("Last month, e.g. 2024-12 (or a date in it).", valueName: "month"), transform: Self.parseMonth)
        var to: YearMonth?

        @Option(name: .customLong("by"), help: ArgumentHelp("Group by area, organisation or sector (repeat for several); hours by area or organisation; residents also by age-band, gender or target-group.", valueName: "dimension"))
        var groupBy: [Grouping] = []

        @Option(name: .customLong("area"), help: ArgumentHelp("Only this area (repeat for several).", valueName: "area"))
        var areas: [String] = []

        @Option(name: .customLong("organisation"), help: ArgumentHelp("Only this organisation (repeat for several).", valueName: "org"))
        var organisations: [String] = []

        @Option(parsing: .unconditional, help: ArgumentHelp("Show counts below this as <N.", valueName: "n"), transform: Parse.wholeNumber)
        var suppress: Int = 5

        @Flag(name: .customLong("no-suppress"), help: "Show small counts as they are (for internal use only).")
        var noSuppress = false

        @OptionGroup var asOf: AsOfOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var storeOptions: StoreOptions

        static func parseMonth(_ text: String) throws -> YearMonth {
            if let m = YearMonth(parsing: text) { return m }
            if let d = CalendarDate(parsing: text) { return YearMonth(d) }
            throw ArgumentValueError("not a month; write it as YYYY-MM, e.g. 2024-03")
        }

        static func parseQuarter(_ text: String) throws -> YearMonth {
            let parts = text.uppercased().split(separator: "-")
            guard parts.count == 2, let y = Int(parts[0]), parts[1].count == 2, parts[1].first == "Q",
                  let q = Int(parts[1].dropFirst()), (1...4).contains(q), let m = YearMonth(year: y, month: q * 3 - 2)
            else { throw ArgumentValueError("not a quarter; write it as YYYY-Qn, e.g. 2024-Q1") }
            return m
        }

        func validate() throws {
            let ranges = [year != nil, quarter != nil, month != nil, plan != nil, from != nil || to != nil].filter { $0 }.count
            if ranges > 1 { throw ValidationError("give one of --year, --quarter, --month, --plan or --from/--to") }
            if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to); give the first month with --from and the last with --to") }
            if let year, YearMonth(year: year, month: 1) == nil { throw ValidationError("--year must be between 1900 and 2199") }
            if suppress < 1 { throw ValidationError("--suppress must be at least 1") }
            if let wrong = groupBy.first(where: { !statistic.groupings.contains($0) }) {
                let takes = statistic.groupings.map(\.rawValue)
                var message = "stats \(statistic.rawValue) cannot be grouped by \(wrong.rawValue); it takes --by \(takes.dropLast().joined(separator: ", ")) or \(takes.last!)"
                if statistic != .residents, [.ageBand, .gender, .targetGroup].contains(wrong) {
                    message += " (age-band, gender and target-group group `stats residents`)"
                }
                throw ValidationError(message)
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let view = try ProjectionAccess.view(store, asOf: asOf)
            let groups = StatisticsGrouping(groupBy.map(\.grouping))
            var query: StatisticsQuery
            if let year, let january = YearMonth(year: year, month: 1) {
                query = StatisticsQuery(from: january, through: january.adding(months: 11), granularity: .year)
            } else if let quarter {
                query = StatisticsQuery(from: quarter, through: quarter.adding(months: 2), granularity: .quarter)
            } else if let month {
                query = StatisticsQuery(from: month, through: month, granularity: .month)
            } else if let plan {
                query = StatisticsQuery(plan: try view.plan(named: plan))
            } else if from != nil || to != nil {
                // An open end runs to this month; an open start from the first month with
                // data (the plans' start or the first counted event), never past --to.
                let today = YearMonth(Timestamp.now().date)
                let through = to ?? today
                var start = through
                if let from { start = from } else if let first = try view.firstMonthWithData(), first < through { start = first }
                query = StatisticsQuery(from: start, through: through, granularity: .month)
            } else {
                let plans = try view.plans()
                if let first = plans.map(\.from).min(), let last = plans.map(\.to).max() {
                    query = StatisticsQuery(from: YearMonth(first), through: YearMonth(last), granularity: .year)
                } else {
                    let january = YearMonth(Timestamp.now().date).adding(months: 1 - YearMonth(Timestamp.now().date).month)
                    query = StatisticsQuery(from: january, through: january.adding(months: 11), granularity: .year)
                }
            }
            query.groupBy = groups
            if let period { query.granularity = period.granularity }
            if !areas.isEmpty { query.areas = Set(areas).union(query.areas ?? []) }
            if !organisations.isEmpty { query.organisations = Set(organisations) }

            let table = try view.table(statistic.kind, query)
            let suppression: Suppression? = noSuppress ? nil : Suppression(threshold: suppress)
            output.print(Self.table(table, suppression))
            if output.format == .table {
                var note = "\(table.title); as of log position \(try view.position())"
                note += suppression.map { "; counts below \($0.threshold) shown as <\($0.threshold)" } ?? "; not suppressed: for internal use only"
                Console.err.line(note)
            }
        }

        /// The projections' typed cells as output cells, suppression applied.
        static func table(_ s: StatisticsTable, _ suppression: Suppression?) -> Table {
            let columns = s.columns.map { Column($0, title($0)) }
            let rows = s.rows.map { row in
                row.map { cell -> Cell in
                    switch cell {
                    case .text(let t): return .text(t)
                    case .count(let n):
                        if let s = suppression, s.hides(n) { return .text(s.render(n)) }
                        return .int(n)
                    case .hours(let h): return .decimal(h.value, places: 2)
                    case .rate(let r, let basis):
                        if let s = suppression, s.hides(basis) { return .text(s.render(basis)) }
                        return r.map { .decimal($0 * 100, places: 1) } ?? .empty
                    case .days(let d, let basis):
                        if let s = suppression, s.hides(basis) { return .text(s.render(basis)) }
                        return d.map { .int($0) } ?? .empty
                    }
                }
            }
            return Table(columns, rows: rows)
        }

        /// A column key as a table heading: `fromSector` → `From sector`, `p90Days` → `P90 days`,
        /// `acceptancePercent` → `Acceptance %`.
        static func title(_ key: String) -> String {
            var words = ""
            for c in key {
                if c.isUppercase { words += " " + c.lowercased() } else { words.append(c) }
            }
            words = words.replacingOccurrences(of: " percent", with: " %")
            return words.prefix(1).uppercased() + words.dropFirst()
        }
    }
}
