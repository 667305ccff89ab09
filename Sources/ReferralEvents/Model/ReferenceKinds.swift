// Closed vocabularies that are part of an event's schema version. Adding a case is a
// schema change (a new version of the events that carry it); target groups, which are
// being reformed, are reference data instead (see `TargetGroupDefined`).

/// What kind of party an organisation is.
public enum OrganisationKind: String, Sendable, Hashable, Codable, CaseIterable {
    case municipality, housingOrganisation = "housing-organisation", secretariat, employer, school
    case civilSociety = "civil-society"
}

/// The sector an organisation belongs to; statistics group referrals sector → sector.
public enum Sector: String, Sendable, Hashable, Codable, CaseIterable {
    case jobcenter, childrenAndYouth = "children-and-youth", school, health, library
    case housingSocial = "housing-social", police, other
}

/// The gender recorded when a case is opened.
public enum Gender: String, Sendable, Hashable, Codable, CaseIterable {
    case female, male, other, unknown
}

/// Age bands used for case statistics (no birth dates are stored).
public enum AgeBand: String, Sendable, Hashable, Codable, CaseIterable {
    case under18 = "under-18", from18to24 = "18-24", from25to29 = "25-29", from30to39 = "30-39"
    case from40to49 = "40-49", from50to59 = "50-59", from60 = "60+"
}

/// How consent was given.
public enum ConsentForm: String, Sendable, Hashable, Codable, CaseIterable {
    case oral, written
}

/// What a consent allows the named parties to do.
public enum ConsentPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    /// Referring the resident to the party.
    case referral
    /// Sharing case information with the party.
    case informationSharing = "information-sharing"
    /// Showing the resident's sealed personal details to the party.
    case personalDetails = "personal-details"
}

/// What a referral sends the resident to.
public enum ReferralKind: String, Sendable, Hashable, Codable, CaseIterable {
    case jobcenterContact = "jobcenter-contact", workPlacement = "work-placement", wageSubsidy = "wage-subsidy"
    case apprenticeship, education, mentor, health, leisureJob = "leisure-job", other
}

/// Whether a jobcenter contact was the first or a follow-up.
public enum ContactKind: String, Sendable, Hashable, Codable, CaseIterable {
    case first, followUp = "follow-up"
}

/// The kind of placement that started.
public enum PlacementKind: String, Sendable, Hashable, Codable, CaseIterable {
    case workPlacement = "work-placement", wageSubsidy = "wage-subsidy", internship, apprenticeship
    case leisureJob = "leisure-job", other
}

/// How a placement ended.
public enum PlacementOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case ordinaryJob = "ordinary-job", education, extended, dropped, other
}

/// A resident's status some months after the case closed.
public enum OutcomeStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case ordinaryJob = "ordinary-job", education, publicSupport = "public-support"
    case selfSupporting = "self-supporting", flexJob = "flex-job", subsidisedJob = "subsidised-job", unknown
}
