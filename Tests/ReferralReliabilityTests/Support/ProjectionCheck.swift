import Foundation
import ReferralEvents
import ReferralProjections
import Testing

/// The crash loop's projection check: the projections kept in the store and caught up after
/// each round equal a full rebuild into a scratch file, and their delivered hours equal sums
/// worked out here straight from the log.
enum ProjectionCheck {
    /// Every month the worker's dates can fall in (2005-01-01 plus up to 5,000 days).
    static let query = StatisticsQuery(from: YearMonth(year: 2005, month: 1)!, through: YearMonth(year: 2019, month: 12)!,
                                       groupBy: [.organisation, .area])

    static func sorted(_ rows: [HoursRow]) -> [HoursRow] {
        rows.sorted { "\($0.period.from) \($0.agreement) \($0.party ?? "") \($0.area ?? "")" < "\($1.period.from) \($1.agreement) \($1.party ?? "") \($1.area ?? "")" }
    }

    /// Catches the store's own projections up, rebuilds a fresh copy into `scratch`, and
    /// compares both with each other and with the log. Returns how the catch-up ran.
    static func check(_ store: EventStore, events: [RecordedEvent], scratch: String, round: Int) throws -> ProjectionRun.Kind {
        let kept = try Projections(store: store)
        let run = try kept.catchUp()
        let rebuiltPath = scratch + "/rebuilt-\(round).mdb"
        defer {
            try? FileManager.default.removeItem(atPath: rebuiltPath)
            try? FileManager.default.removeItem(atPath: rebuiltPath + "-lock")
        }
        let head = UInt64(events.count)
        let caughtUp = try kept.current().hours(query)
        let fresh = try Projections(store: store, path: rebuiltPath)
        try fresh.rebuild()
        let checkpoint = try kept.checkpoint()
        #expect(checkpoint == head, "round \(round): the caught-up projections stop at \(checkpoint), the log at \(head)")
        #expect(try fresh.checkpoint() == head)
        let rebuilt = try fresh.current().hours(query)
        #expect(sorted(caughtUp) == sorted(rebuilt), "round \(round): catch-up (\(run.kind)) and a full rebuild disagree")

        // Delivered hours per agreement and month, summed from the log without the projections.
        var delivered: [String: Int64] = [:]
        for e in events {
            guard case .sharedHoursLogged(let p) = e.payload else { continue }
            delivered["\(e.stream.entityID) \(YearMonth(p.date))", default: 0] += Int64(p.hours.hundredths)
        }
        var projected: [String: Int64] = [:]
        for row in caughtUp where row.party == nil && row.area == nil && row.delivered.hundredths != 0 {
            projected["\(row.agreement) \(row.period.from)"] = Int64(row.delivered.hundredths)
        }
        #expect(projected == delivered, "round \(round): delivered hours differ from the log's sums")
        return run.kind
    }
}
