import ReferralEvents

extension ProjectionView {
    /// The first month the statistics have anything in: the earliest of the registered
    /// plans' first months and the first month any counter (cases, referrals, the funnel,
    /// first contacts, placements, outcomes) holds a value. Nil for an empty log.
    ///
    /// What a range given only by its end (`referral stats --to 2024-06`) starts at, as a
    /// range given only by its start runs to this month.
    public func firstMonthWithData() throws -> YearMonth? {
        let planStart = try plans().map(\.from).min().map(YearMonth.init)
        let counterStart: YearMonth? = try read { lookup in
            var first: Int?
            for stat in Stat.allCases {
                try lookup.rows.scan(.counters, from: CounterKey.start(stat, 0)) { k, _ in
                    if let key = CounterKey(k), key.stat == stat.rawValue {
                        first = min(first ?? Int(key.month), Int(key.month))
                    }
                    return false
                }
            }
            return first.map { YearMonth(index: $0) }
        }
        return [planStart, counterStart].compactMap { $0 }.min()
    }
}
