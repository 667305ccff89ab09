extension EventPayload {
    /// The name of the first text or identifier field that holds something reading as a
    /// CPR number (`PersonalDetails.containsCPRNumber`), or nil.
    ///
    /// The log cannot erase what it holds, so a resident's CPR number may only travel sealed
    /// (`CaseOpened.personalData`); append refuses an event whose reason, name, activity or
    /// id carries one in clear (docs/data-protection.md, "Free text"). Pseudonyms, dates and
    /// sealed data are not text and are not screened.
    public func firstFieldHoldingCPRNumber() -> String? {
        // Field by field, not through a table: a table of the fields (an array) was built
        // for every event, which cost more than screening its texts.
        @inline(__always) func screen(_ field: String, _ value: String) -> String? {
            PersonalDetails.containsCPRNumber(value) ? field : nil
        }
        @inline(__always) func screen(_ field: String, _ value: String?) -> String? {
            value.flatMap { screen(field, $0) }
        }
        func screen(_ field: String, _ values: [String]) -> String? {
            values.contains(where: PersonalDetails.containsCPRNumber) ? field : nil
        }
        switch self {
        case .organisationRegistered(let p):
            return screen("organisation id", p.organisationId) ?? screen("name", p.name) ?? screen("municipality", p.municipality)
        case .housingAreaRegistered(let p):
            return screen("area id", p.areaId) ?? screen("name", p.name) ?? screen("municipality", p.municipality)
                ?? screen("plan", p.plan) ?? screen("housing organisations", p.housingOrganisations)
        case .liaisonRegistered(let p):
            return screen("liaison id", p.liaisonId) ?? screen("name", p.name) ?? screen("organisation id", p.organisationId)
        case .targetGroupDefined(let p):
            return screen("code", p.code) ?? screen("label", p.label)
        case .caseOpened(let p):
            return screen("area id", p.areaId) ?? screen("organisation id", p.organisationId) ?? screen("liaison id", p.liaisonId)
                ?? screen("target group", p.targetGroup)
        case .caseAssigned(let p):
            return screen("liaison id", p.liaisonId) ?? screen("reason", p.reason)
        case .consentGiven(let p):
            return screen("consent id", p.consentId) ?? screen("parties", p.parties)
        case .consentWithdrawn(let p):
            return screen("consent id", p.consentId) ?? screen("reason", p.reason)
        case .referralMade(let p):
            return screen("referral id", p.referralId) ?? screen("from organisation", p.fromOrganisation)
                ?? screen("to organisation", p.toOrganisation) ?? screen("reason", p.reason) ?? screen("decided by", p.decidedBy)
        case .referralAnswered(let p):
            return screen("referral id", p.referralId) ?? screen("reason", p.reason)
        case .jobcenterContactHeld(let p):
            return screen("jobcenter", p.jobcenter) ?? screen("referral id", p.referralId)
        case .placementStarted(let p):
            return screen("placement id", p.placementId) ?? screen("employer", p.employer) ?? screen("referral id", p.referralId)
        case .placementEnded(let p):
            return screen("placement id", p.placementId)
        case .caseClosed(let p):
            return screen("reason", p.reason)
        case .caseReopened(let p):
            return screen("reason", p.reason)
        case .hoursAgreementMade(let p):
            return screen("agreement id", p.agreementId) ?? screen("employee", p.employee)
                ?? screen("paying organisation", p.payingOrganisation) ?? screen("served organisations", p.servedOrganisations)
                ?? screen("served areas", p.servedAreas)
        case .sharedHoursLogged(let p):
            return screen("area id", p.areaId) ?? screen("served organisation", p.servedOrganisation) ?? screen("activity", p.activity)
        case .hoursAgreementEnded(let p):
            return screen("reason", p.reason)
        case .eventRetracted(let p):
            return screen("reason", p.reason)
        case .residentErased(let p):
            return screen("reason", p.reason) ?? screen("legal basis", p.legalBasis)
        case .erasureRefused(let p):
            return screen("reason", p.reason) ?? screen("legal basis", p.legalBasis)
        case .outcomeRecorded:
            return nil
        }
    }
}

extension EventPayload {
    /// Whether an event of this kind starts its stream (`case-<id>`, `agreement-<id>`), so
    /// that the stream's id is new text to screen (`firstFieldHoldingCPRNumber`).
    var opensStream: Bool {
        switch self {
        case .caseOpened, .hoursAgreementMade: true
        default: false
        }
    }
}
