extension CalendarDate {
    /// The dates the log accepts in a payload: 1900-01-01 through 2199-12-31, the years
    /// `CalendarDate(year:month:day:)` and `CalendarDate(parsing:)` can make.
    public static let supportedRange = CalendarDate(daysSinceEpoch: -25_567)...CalendarDate(daysSinceEpoch: 84_005)
}

extension EventPayload {
    /// Every calendar date the payload carries, with the field's name, so that append can
    /// refuse a date outside `CalendarDate.supportedRange` (which only a bug or hostile input
    /// produces) before it reaches the log and the statistics.
    public var calendarDates: [(field: String, date: CalendarDate)] {
        switch self {
        case .housingAreaRegistered(let p): [("plan from", p.planFrom), ("plan to", p.planTo)]
        case .targetGroupDefined(let p): [("effective from", p.effectiveFrom)] + (p.effectiveTo.map { [("effective to", $0)] } ?? [])
        case .consentGiven(let p): p.validUntil.map { [("valid until", $0)] } ?? []
        case .placementStarted(let p): [("start date", p.startDate)] + (p.plannedEndDate.map { [("planned end date", $0)] } ?? [])
        case .placementEnded(let p): [("end date", p.endDate)]
        case .hoursAgreementMade(let p): [("valid from", p.validFrom)] + (p.validTo.map { [("valid to", $0)] } ?? [])
        case .sharedHoursLogged(let p): [("date", p.date)]
        case .hoursAgreementEnded(let p): [("end date", p.endDate)]
        case .organisationRegistered, .liaisonRegistered, .caseOpened, .caseAssigned, .consentWithdrawn, .referralMade,
             .referralAnswered, .jobcenterContactHeld, .outcomeRecorded, .caseClosed, .caseReopened, .eventRetracted,
             .residentErased, .erasureRefused:
            []
        }
    }
}

extension EventPayload {
    /// The first calendar date (in `calendarDates`' order) outside `range`, with its field's
    /// name, or nil. Append's envelope check runs this for every event: `calendarDates` built
    /// an array for every event that carries a date (hours logs, placements, ...).
    @inline(__always)
    func firstDate(outside range: ClosedRange<CalendarDate>) -> (field: String, date: CalendarDate)? {
        func check(_ field: String, _ d: CalendarDate) -> (field: String, date: CalendarDate)? {
            range.contains(d) ? nil : (field, d)
        }
        func check(_ field: String, _ d: CalendarDate?) -> (field: String, date: CalendarDate)? {
            d.flatMap { check(field, $0) }
        }
        switch self {
        case .housingAreaRegistered(let p): return check("plan from", p.planFrom) ?? check("plan to", p.planTo)
        case .targetGroupDefined(let p): return check("effective from", p.effectiveFrom) ?? check("effective to", p.effectiveTo)
        case .consentGiven(let p): return check("valid until", p.validUntil)
        case .placementStarted(let p): return check("start date", p.startDate) ?? check("planned end date", p.plannedEndDate)
        case .placementEnded(let p): return check("end date", p.endDate)
        case .hoursAgreementMade(let p): return check("valid from", p.validFrom) ?? check("valid to", p.validTo)
        case .sharedHoursLogged(let p): return check("date", p.date)
        case .hoursAgreementEnded(let p): return check("end date", p.endDate)
        case .organisationRegistered, .liaisonRegistered, .caseOpened, .caseAssigned, .consentWithdrawn, .referralMade,
             .referralAnswered, .jobcenterContactHeld, .outcomeRecorded, .caseClosed, .caseReopened, .eventRetracted,
             .residentErased, .erasureRefused:
            return nil
        }
    }
}
