import ReferralEvents

/// Small-cell suppression for statistics that leave the building, as LBF does: counts of
/// people or cases from 1 to `threshold − 1` are shown as `<threshold` ("<5").
///
/// Zero stays 0. Rates and day figures computed from a suppressed count are suppressed
/// too (they would give the count away). Hours are not counts of people and are never
/// suppressed, and a liaison's own caseload never goes through this at all.
public struct Suppression: Sendable, Hashable {
    public var threshold: Int

    /// `threshold` must be at least 1; 1 suppresses nothing.
    public init(threshold: Int = 5) { self.threshold = max(1, threshold) }

    /// The LBF default: counts 1–4 become `<5`.
    public static let standard = Suppression(threshold: 5)

    public func hides(_ count: Int) -> Bool { count > 0 && count < threshold }

    /// `<5` for 1…4, the number otherwise.
    public func render(_ count: Int) -> String { hides(count) ? "<\(threshold)" : String(count) }
}

/// One cell of a statistics table, typed so that suppression and formatting know what it is.
public enum StatisticsCell: Sendable, Hashable {
    case text(String)
    /// A count of people or cases (suppressible).
    case count(Int)
    case hours(Hours)
    /// A share 0…1; nil when nothing was counted. `basis` decides its suppression: the
    /// smallest non-zero count the share is computed from (`rate(_:from:)`), since the share
    /// beside the other counts gives that count away (9 accepted at 90.0 % is 1 rejected).
    case rate(Double?, basis: Int)
    /// A number of days computed from `basis` cases.
    case days(Int?, basis: Int)

    /// A share computed from `counts` (for acceptance: accepted and rejected), suppressed when
    /// any of them is: its basis is the smallest that is not zero.
    public static func rate(_ share: Double?, from counts: [Int]) -> StatisticsCell {
        .rate(share, basis: counts.filter { $0 > 0 }.min() ?? 0)
    }

    /// Plain text: counts as integers, hours like `85.1`, rates as percentages with one
    /// decimal (`66.7`), empty for a missing value.
    public func rendered(_ suppression: Suppression? = nil) -> String {
        switch self {
        case .text(let s): return s
        case .count(let n): return suppression?.render(n) ?? String(n)
        case .hours(let h): return h.description
        case .rate(let r, let basis):
            if let s = suppression, s.hides(basis) { return s.render(basis) }
            guard let r else { return "" }
            let tenths = Int((r * 1000).rounded())
            return "\(tenths / 10).\(tenths % 10)"
        case .days(let d, let basis):
            if let s = suppression, s.hides(basis) { return s.render(basis) }
            return d.map(String.init) ?? ""
        }
    }
}

/// A statistic as a table (column keys, camelCase like every JSON and CSV key the tool
/// writes, and typed cells), for the CLI to print as text, CSV or JSON.
/// `rendered(suppression:)` is the form that may leave the building.
public struct StatisticsTable: Sendable, Hashable {
    public var title: String
    public var columns: [String]
    public var rows: [[StatisticsCell]]

    public func rendered(suppression: Suppression? = nil) -> [[String]] {
        rows.map { $0.map { $0.rendered(suppression) } }
    }

    /// A column key in the camelCase of every other JSON and CSV key the tool writes:
    /// `ended-ordinary-job` → `endedOrdinaryJob`.
    static func key(_ words: String) -> String {
        let parts = words.split(separator: "-")
        return parts.prefix(1).joined() + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// The statistics a `ProjectionView` can tabulate.
public enum StatisticKind: String, Sendable, Hashable, CaseIterable {
    case referrals, funnel
    case firstContact = "first-contact"
    case placements, outcomes, cases, residents, hours
}

extension ProjectionView {
    /// Any statistic as a table.
    public func table(_ kind: StatisticKind, _ query: StatisticsQuery) throws -> StatisticsTable {
        let g = query.groupBy
        func dims(_ d: StatisticsDimensions) -> [StatisticsCell] {
            var out: [StatisticsCell] = [.text(d.period.label)]
            if g.contains(.area) { out.append(.text(d.area ?? "")) }
            if g.contains(.organisation) { out.append(.text(d.organisation ?? "")) }
            if g.contains(.sector) { out.append(.text(d.sector ?? "")) }
            return out
        }
        var dimColumns = ["period"]
        if g.contains(.area) { dimColumns.append("area") }
        if g.contains(.organisation) { dimColumns.append("organisation") }
        if g.contains(.sector) { dimColumns.append("sector") }

        switch kind {
        case .referrals:
            var cols = ["period"] + (g.contains(.area) ? ["area"] : []) + ["fromSector", "toSector"]
            if g.contains(.organisation) { cols += ["fromOrganisation", "toOrganisation"] }
            cols += ["kind", "made", "accepted", "rejected", "awaitingAnswer", "acceptancePercent"]
            let rows = try referrals(query).map { r -> [StatisticsCell] in
                var c: [StatisticsCell] = [.text(r.dimensions.period.label)]
                if g.contains(.area) { c.append(.text(r.dimensions.area ?? "")) }
                c += [.text(r.fromSector), .text(r.toSector)]
                if g.contains(.organisation) { c += [.text(r.fromOrganisation ?? ""), .text(r.toOrganisation ?? "")] }
                c += [.text(r.kind.rawValue), .count(r.made), .count(r.accepted), .count(r.rejected), .count(r.awaitingAnswer),
                      .rate(r.acceptanceRate, from: [r.accepted, r.rejected])]
                return c
            }
            return StatisticsTable(title: "Referrals by sector and kind", columns: cols, rows: rows)
        case .funnel:
            let rows = try funnel(query).map { dims($0.dimensions) + [.count($0.referred), .count($0.firstContact), .count($0.placement), .count($0.jobOrEducation)] }
            return StatisticsTable(title: "Funnel: referral → first jobcenter contact → placement → job or education",
                                   columns: dimColumns + ["referred", "firstContact", "placement", "jobOrEducation"], rows: rows)
        case .firstContact:
            let rows = try daysToFirstContact(query).map {
                dims($0.dimensions) + [.count($0.cases), .days($0.medianDays, basis: $0.cases), .days($0.p90Days, basis: $0.cases)]
            }
            return StatisticsTable(title: "Days from referral to first jobcenter contact",
                                   columns: dimColumns + ["cases", "medianDays", "p90Days"], rows: rows)
        case .placements:
            let outcomes = PlacementOutcome.allCases
            let rows = try placements(query).map { r in
                dims(r.dimensions) + [.text(r.kind.rawValue), .count(r.started), .count(r.ended)]
                    + outcomes.map { .count(r.endedByOutcome[$0] ?? 0) }
            }
            return StatisticsTable(title: "Placements started and ended by outcome",
                                   columns: dimColumns + ["kind", "started", "ended"] + outcomes.map { StatisticsTable.key("ended-\($0.rawValue)") }, rows: rows)
        case .outcomes:
            let rows = try outcomes(query).map { dims($0.dimensions) + [.text(String($0.monthsAfterClose)), .text($0.status.rawValue), .count($0.cases)] }
            return StatisticsTable(title: "Outcome status after close (by month of close)",
                                   columns: dimColumns + ["monthsAfterClose", "status", "cases"], rows: rows)
        case .cases:
            let rows = try caseFlow(query).map { dims($0.dimensions) + [.count($0.opened), .count($0.reopened), .count($0.closed)] }
            return StatisticsTable(title: "New and closed cases", columns: dimColumns + ["opened", "reopened", "closed"], rows: rows)
        case .residents:
            var cols = dimColumns
            if g.contains(.ageBand) { cols.append("ageBand") }
            if g.contains(.gender) { cols.append("gender") }
            if g.contains(.targetGroup) { cols += ["targetGroup", "targetGroupLabel"] }
            let rows = try residents(query).map { r -> [StatisticsCell] in
                var c = dims(r.dimensions)
                if g.contains(.ageBand) { c.append(.text(r.ageBand?.rawValue ?? "")) }
                if g.contains(.gender) { c.append(.text(r.gender?.rawValue ?? "")) }
                if g.contains(.targetGroup) { c += [.text(r.targetGroup ?? ""), .text(r.targetGroupLabel ?? "")] }
                return c + [.count(r.residents)]
            }
            return StatisticsTable(title: "Unique residents with an open case", columns: cols + ["residents"], rows: rows)
        case .hours:
            let rows = try hours(query).map { r -> [StatisticsCell] in
                [.text(r.period.label), .text(r.agreement), .text(r.employee), .text(r.payingOrganisation),
                 .text(r.party ?? (r.area == nil ? "all" : "")), .text(r.area ?? ""),
                 r.agreed.map { .hours($0) } ?? .text(""), .hours(r.delivered), r.balance.map { .hours($0) } ?? .text("")]
            }
            return StatisticsTable(title: "Shared hours delivered against agreed",
                                   columns: ["period", "agreement", "employee", "payingOrganisation", "party", "area", "agreed", "delivered", "balance"],
                                   rows: rows)
        }
    }
}
