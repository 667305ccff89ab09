// One stream per shared-employee agreement: `agreement-<agreement id>`.

/// A party agrees to lend an employee's hours to other parties or areas.
public struct HoursAgreementMade: Sendable, Hashable, Codable {
    public var agreementId: String
    /// The shared employee (staff, by initials or staff id).
    public var employee: String
    public var payingOrganisation: OrganisationID
    public var servedOrganisations: [OrganisationID]
    public var servedAreas: [AreaID]
    public var hoursPerWeek: Hours
    public var validFrom: CalendarDate
    public var validTo: CalendarDate?

    public init(agreementId: String, employee: String, payingOrganisation: OrganisationID, servedOrganisations: [OrganisationID],
                servedAreas: [AreaID], hoursPerWeek: Hours, validFrom: CalendarDate, validTo: CalendarDate?) {
        self.agreementId = agreementId
        self.employee = employee
        self.payingOrganisation = payingOrganisation
        self.servedOrganisations = servedOrganisations
        self.servedAreas = servedAreas
        self.hoursPerWeek = hoursPerWeek
        self.validFrom = validFrom
        self.validTo = validTo
    }
}

/// Hours the shared employee spent on one day.
public struct SharedHoursLogged: Sendable, Hashable, Codable {
    public var date: CalendarDate
    public var hours: Hours
    public var areaId: AreaID?
    /// The party the hours were spent for.
    public var servedOrganisation: OrganisationID?
    public var activity: String

    public init(date: CalendarDate, hours: Hours, areaId: AreaID?, servedOrganisation: OrganisationID?, activity: String) {
        self.date = date
        self.hours = hours
        self.areaId = areaId
        self.servedOrganisation = servedOrganisation
        self.activity = activity
    }
}

/// The agreement stops; no hours can be logged after `endDate`.
public struct HoursAgreementEnded: Sendable, Hashable, Codable {
    public var endDate: CalendarDate
    public var reason: String

    public init(endDate: CalendarDate, reason: String) {
        self.endDate = endDate
        self.reason = reason
    }
}
