// Reference data, all in the `registry` stream.

/// A party joined the collaboration: a municipality's jobcenter, a housing
/// organisation, the secretariat, an employer, a school or a civil-society partner.
public struct OrganisationRegistered: Sendable, Hashable, Codable {
    public var organisationId: OrganisationID
    public var name: String
    public var kind: OrganisationKind
    public var sector: Sector
    /// The municipality it belongs to or works in, e.g. `Viborg`.
    public var municipality: String

    public init(organisationId: OrganisationID, name: String, kind: OrganisationKind, sector: Sector, municipality: String) {
        self.organisationId = organisationId
        self.name = name
        self.kind = kind
        self.sector = sector
        self.municipality = municipality
    }
}

/// A housing area covered by a social master plan (*boligsocial helhedsplan*).
public struct HousingAreaRegistered: Sendable, Hashable, Codable {
    public var areaId: AreaID
    public var name: String
    /// The municipality's organisation id.
    public var municipality: OrganisationID
    public var housingOrganisations: [OrganisationID]
    /// The plan's name, e.g. `Viborg helhedsplan 2021-2025`.
    public var plan: String
    public var planFrom: CalendarDate
    public var planTo: CalendarDate

    public init(areaId: AreaID, name: String, municipality: OrganisationID, housingOrganisations: [OrganisationID],
                plan: String, planFrom: CalendarDate, planTo: CalendarDate) {
        self.areaId = areaId
        self.name = name
        self.municipality = municipality
        self.housingOrganisations = housingOrganisations
        self.plan = plan
        self.planFrom = planFrom
        self.planTo = planTo
    }
}

/// A staff member who follows residents and records events.
public struct LiaisonRegistered: Sendable, Hashable, Codable {
    public var liaisonId: LiaisonID
    /// Display name of the staff member (staff, not residents).
    public var name: String
    public var organisationId: OrganisationID

    public init(liaisonId: LiaisonID, name: String, organisationId: OrganisationID) {
        self.liaisonId = liaisonId
        self.name = name
        self.organisationId = organisationId
    }
}

/// A target group (*målgruppe*) valid from a date, optionally until a date.
///
/// Target groups are being reformed 2025–2027, so they are effective-dated reference
/// data: a case can only be opened in a group that is in effect on the day it occurs.
public struct TargetGroupDefined: Sendable, Hashable, Codable {
    public var code: TargetGroupCode
    public var label: String
    public var effectiveFrom: CalendarDate
    public var effectiveTo: CalendarDate?

    public init(code: TargetGroupCode, label: String, effectiveFrom: CalendarDate, effectiveTo: CalendarDate? = nil) {
        self.code = code
        self.label = label
        self.effectiveFrom = effectiveFrom
        self.effectiveTo = effectiveTo
    }
}
