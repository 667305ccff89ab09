import ReferralEvents

/// What needs a liaison's attention in an open case.
public struct CaseloadFlags: OptionSet, Sendable, Hashable, CustomStringConvertible, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A placement has started and not ended.
    public static let activePlacement = CaseloadFlags(rawValue: 1)
    /// A referral is waiting for the receiving party's answer.
    public static let awaitingAnswer = CaseloadFlags(rawValue: 2)
    /// Nothing has happened in the case for `inactiveAfterDays` days or more.
    public static let inactive = CaseloadFlags(rawValue: 4)
    /// A consent in force ends within `consentWarningDays` days (today included).
    public static let consentExpiring = CaseloadFlags(rawValue: 8)

    /// The flags with their CLI names, in display order.
    public static let named: [(CaseloadFlags, String)] = [
        (.activePlacement, "active-placement"), (.awaitingAnswer, "awaiting-answer"),
        (.inactive, "inactive"), (.consentExpiring, "consent-expiring"),
    ]

    /// `active-placement,inactive`.
    public var description: String { names.joined(separator: ",") }

    /// The CLI names of the flags set, in display order.
    public var names: [String] { Self.named.filter { contains($0.0) }.map(\.1) }

    /// Parses CLI names (`awaiting-answer`); nil for an unknown name.
    public init?(names: [String]) {
        var flags: CaseloadFlags = []
        for n in names {
            guard let f = Self.named.first(where: { $0.1 == n }) else { return nil }
            flags.insert(f.0)
        }
        self = flags
    }

    /// Encoded as a list of names, e.g. `["awaiting-answer","inactive"]`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(names)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let list = try c.decode([String].self)
        guard let flags = CaseloadFlags(names: list) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown caseload flag in \(list); known: \(Self.named.map(\.1))")
        }
        self = flags
    }
}

/// Which open cases to list, and the day the flags are judged on.
///
/// `today` is a parameter, never the wall clock, so the same query gives the same answer
/// in a test, in a report and in an audit.
public struct CaseloadQuery: Sendable, Hashable {
    public var today: CalendarDate
    public var liaison: LiaisonID?
    public var organisation: OrganisationID?
    public var area: AreaID?
    /// Only cases that have all of these flags (empty: every open case).
    public var requiring: CaseloadFlags
    /// Days without any event after which a case counts as inactive (30).
    public var inactiveAfterDays: Int
    /// How close a consent's end must be to flag it (14 days).
    public var consentWarningDays: Int

    public init(today: CalendarDate, liaison: LiaisonID? = nil, organisation: OrganisationID? = nil, area: AreaID? = nil,
                requiring: CaseloadFlags = [], inactiveAfterDays: Int = 30, consentWarningDays: Int = 14) {
        self.today = today
        self.liaison = liaison
        self.organisation = organisation
        self.area = area
        self.requiring = requiring
        self.inactiveAfterDays = inactiveAfterDays
        self.consentWarningDays = consentWarningDays
    }
}

/// One open case in a caseload. Never suppressed: a liaison sees their own cases in full.
public struct CaseloadRow: Sendable, Hashable, Codable {
    public var caseId: String
    public var liaison: LiaisonID
    public var organisation: OrganisationID
    public var area: AreaID
    public var targetGroup: TargetGroupCode
    /// The day the case was first opened.
    public var openedOn: CalendarDate
    /// The day the current stretch began (the last reopening, or `openedOn`).
    public var episodeOpenedOn: CalendarDate
    /// The day of the case's latest event (by occurred-at).
    public var lastActivity: CalendarDate
    public var daysSinceActivity: Int
    public var activePlacements: Int
    public var pendingReferrals: Int
    /// The earliest end, on or after today, of a consent in force; nil if none ends
    /// (or none is in force: see `consentsInForce`).
    public var nextConsentExpiry: CalendarDate?
    /// Consents given, not withdrawn, not lapsed and not past their end today.
    public var consentsInForce: Int
    public var flags: CaseloadFlags
}

/// Open cases and their flags counted per liaison, organisation or area.
public struct CaseloadSummaryRow: Sendable, Hashable, Codable {
    /// The liaison, organisation or area id.
    public var group: String
    public var openCases: Int
    public var activePlacement: Int
    public var awaitingAnswer: Int
    public var inactive: Int
    public var consentExpiring: Int
}

/// What a caseload summary counts per row.
public enum CaseloadGrouping: String, Sendable, Hashable, CaseIterable {
    case liaison, organisation, area
}

extension ProjectionView {
    /// The open cases matching `query`, by liaison then case id.
    ///
    /// Reads only the matching index range (one liaison's, organisation's or area's open
    /// cases), so it stays fast however long the log is.
    public func caseload(_ query: CaseloadQuery) throws -> [CaseloadRow] {
        try read { lookup in
            var filter: (liaison: UInt32?, organisation: UInt32?, area: UInt32?) = (nil, nil, nil)
            if let l = query.liaison { filter.liaison = try lookup.registered(.liaison, l) }
            if let o = query.organisation { filter.organisation = try lookup.registered(.organisation, o) }
            if let a = query.area { filter.area = try lookup.registered(.area, a) }
            let prefix: [UInt8]
            if let l = filter.liaison { prefix = [1] + beBytes(l) }
            else if let a = filter.area { prefix = [3] + beBytes(a) }
            else if let o = filter.organisation { prefix = [2] + beBytes(o) }
            else { prefix = [0] }
            var out: [CaseloadRow] = []
            try lookup.rows.scan(.open, prefix: prefix) { key, value in
                let row = try OpenCaseRow(decoding: value)
                if let l = filter.liaison, row.liaison != l { return true }
                if let o = filter.organisation, row.organisation != o { return true }
                if let a = filter.area, row.area != a { return true }
                let caseId = String(decoding: UnsafeRawBufferPointer(rebasing: key[prefix.count...]), as: UTF8.self)
                let r = try caseloadRow(caseId, row, query, lookup)
                if r.flags.isSuperset(of: query.requiring) { out.append(r) }
                return true
            }
            return out.sorted { ($0.liaison, $0.caseId) < ($1.liaison, $1.caseId) }
        }
    }

    /// Open cases and flag counts per liaison, organisation or area, sorted by group.
    public func caseloadSummary(by grouping: CaseloadGrouping, today: CalendarDate,
                                inactiveAfterDays: Int = 30, consentWarningDays: Int = 14) throws -> [CaseloadSummaryRow] {
        let rows = try caseload(CaseloadQuery(today: today, inactiveAfterDays: inactiveAfterDays, consentWarningDays: consentWarningDays))
        var groups: [String: CaseloadSummaryRow] = [:]
        for r in rows {
            let g: String
            switch grouping {
            case .liaison: g = r.liaison
            case .organisation: g = r.organisation
            case .area: g = r.area
            }
            var s = groups[g] ?? CaseloadSummaryRow(group: g, openCases: 0, activePlacement: 0, awaitingAnswer: 0, inactive: 0, consentExpiring: 0)
            s.openCases += 1
            if r.flags.contains(.activePlacement) { s.activePlacement += 1 }
            if r.flags.contains(.awaitingAnswer) { s.awaitingAnswer += 1 }
            if r.flags.contains(.inactive) { s.inactive += 1 }
            if r.flags.contains(.consentExpiring) { s.consentExpiring += 1 }
            groups[g] = s
        }
        return groups.values.sorted { $0.group < $1.group }
    }

    private func caseloadRow(_ caseId: String, _ row: OpenCaseRow, _ q: CaseloadQuery, _ lookup: Lookup) throws -> CaseloadRow {
        let today = q.today.daysSinceEpoch
        var flags: CaseloadFlags = []
        if row.activePlacements > 0 { flags.insert(.activePlacement) }
        if row.pendingReferrals > 0 { flags.insert(.awaitingAnswer) }
        let idle = Int(today) - Int(row.lastActivity)
        if idle >= q.inactiveAfterDays { flags.insert(.inactive) }
        let inForce = row.consentsValidUntil.filter { $0 >= today }
        if inForce.contains(where: { Int($0) - Int(today) <= q.consentWarningDays }) { flags.insert(.consentExpiring) }
        let next = inForce.filter { $0 != .none }.min()
        return CaseloadRow(
            caseId: caseId, liaison: try lookup.name(row.liaison), organisation: try lookup.name(row.organisation),
            area: try lookup.name(row.area), targetGroup: try lookup.name(row.targetGroup),
            openedOn: CalendarDate(day: row.openedOn), episodeOpenedOn: CalendarDate(day: row.episodeOpenedOn),
            lastActivity: CalendarDate(day: row.lastActivity), daysSinceActivity: idle,
            activePlacements: Int(row.activePlacements), pendingReferrals: Int(row.pendingReferrals),
            nextConsentExpiry: next.map { CalendarDate(day: $0) }, consentsInForce: inForce.count, flags: flags)
    }
}
