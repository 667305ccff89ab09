// One stream per case: `case-<case id>`.

/// A resident starts being followed by the secretariat.
public struct CaseOpened: Sendable, Hashable, Codable {
    public var resident: Pseudonym
    public var areaId: AreaID
    public var organisationId: OrganisationID
    public var liaisonId: LiaisonID
    public var targetGroup: TargetGroupCode
    public var ageBand: AgeBand
    public var gender: Gender
    /// Name, CPR number and contact details sealed with the resident's own key.
    public var personalData: SealedData?

    public init(resident: Pseudonym, areaId: AreaID, organisationId: OrganisationID, liaisonId: LiaisonID,
                targetGroup: TargetGroupCode, ageBand: AgeBand, gender: Gender, personalData: SealedData? = nil) {
        self.resident = resident
        self.areaId = areaId
        self.organisationId = organisationId
        self.liaisonId = liaisonId
        self.targetGroup = targetGroup
        self.ageBand = ageBand
        self.gender = gender
        self.personalData = personalData
    }
}

/// The case moves to another liaison.
public struct CaseAssigned: Sendable, Hashable, Codable {
    public var liaisonId: LiaisonID
    public var reason: String

    public init(liaisonId: LiaisonID, reason: String) {
        self.liaisonId = liaisonId
        self.reason = reason
    }
}

/// The resident allows named parties to act for named purposes, until a date at most.
///
/// Consent lapses when withdrawn, when `validUntil` has passed, or when the case closes.
public struct ConsentGiven: Sendable, Hashable, Codable {
    public var consentId: String
    public var parties: [OrganisationID]
    public var purposes: [ConsentPurpose]
    public var form: ConsentForm
    public var validUntil: CalendarDate?

    public init(consentId: String, parties: [OrganisationID], purposes: [ConsentPurpose], form: ConsentForm, validUntil: CalendarDate?) {
        self.consentId = consentId
        self.parties = parties
        self.purposes = purposes
        self.form = form
        self.validUntil = validUntil
    }
}

/// The resident takes a consent back.
public struct ConsentWithdrawn: Sendable, Hashable, Codable {
    public var consentId: String
    public var reason: String

    public init(consentId: String, reason: String) {
        self.consentId = consentId
        self.reason = reason
    }
}

/// A decision to send the resident from one party to another.
public struct ReferralMade: Sendable, Hashable, Codable {
    public var referralId: String
    public var kind: ReferralKind
    public var fromOrganisation: OrganisationID
    public var toOrganisation: OrganisationID
    public var reason: String
    /// The liaison who decided.
    public var decidedBy: LiaisonID

    public init(referralId: String, kind: ReferralKind, fromOrganisation: OrganisationID, toOrganisation: OrganisationID,
                reason: String, decidedBy: LiaisonID) {
        self.referralId = referralId
        self.kind = kind
        self.fromOrganisation = fromOrganisation
        self.toOrganisation = toOrganisation
        self.reason = reason
        self.decidedBy = decidedBy
    }
}

/// The receiving party accepts or rejects a referral.
public struct ReferralAnswered: Sendable, Hashable, Codable {
    public var referralId: String
    public var accepted: Bool
    public var reason: String

    public init(referralId: String, accepted: Bool, reason: String) {
        self.referralId = referralId
        self.accepted = accepted
        self.reason = reason
    }
}

/// A meeting between the resident and the jobcenter.
public struct JobcenterContactHeld: Sendable, Hashable, Codable {
    public var contactKind: ContactKind
    public var jobcenter: OrganisationID
    /// The referral that led to it, if any.
    public var referralId: String?

    public init(contactKind: ContactKind, jobcenter: OrganisationID, referralId: String? = nil) {
        self.contactKind = contactKind
        self.jobcenter = jobcenter
        self.referralId = referralId
    }
}

/// A work placement, wage-subsidy job, internship or apprenticeship starts.
public struct PlacementStarted: Sendable, Hashable, Codable {
    public var placementId: String
    public var kind: PlacementKind
    public var employer: OrganisationID
    public var startDate: CalendarDate
    public var plannedEndDate: CalendarDate?
    public var hoursPerWeek: Hours
    public var referralId: String?

    public init(placementId: String, kind: PlacementKind, employer: OrganisationID, startDate: CalendarDate,
                plannedEndDate: CalendarDate?, hoursPerWeek: Hours, referralId: String? = nil) {
        self.placementId = placementId
        self.kind = kind
        self.employer = employer
        self.startDate = startDate
        self.plannedEndDate = plannedEndDate
        self.hoursPerWeek = hoursPerWeek
        self.referralId = referralId
    }
}

/// A placement ends, with its outcome.
public struct PlacementEnded: Sendable, Hashable, Codable {
    public var placementId: String
    public var endDate: CalendarDate
    public var outcome: PlacementOutcome

    public init(placementId: String, endDate: CalendarDate, outcome: PlacementOutcome) {
        self.placementId = placementId
        self.endDate = endDate
        self.outcome = outcome
    }
}

/// The resident's status 1, 3, 6 or 12 months after the case closed.
public struct OutcomeRecorded: Sendable, Hashable, Codable {
    /// 1, 3, 6 or 12.
    public var monthsAfterClose: Int
    public var status: OutcomeStatus

    public init(monthsAfterClose: Int, status: OutcomeStatus) {
        self.monthsAfterClose = monthsAfterClose
        self.status = status
    }
}

/// The secretariat stops following the resident. Every consent lapses.
public struct CaseClosed: Sendable, Hashable, Codable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// A closed case is taken up again. Consent must be given anew.
public struct CaseReopened: Sendable, Hashable, Codable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}
