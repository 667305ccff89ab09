extension EventPayload {
    /// The name of the first text or identifier field that holds something reading as a
    /// CPR number (`PersonalDetails.containsCPRNumber`), or nil.
    ///
    /// The log cannot erase what it holds, so a resident's CPR number may only travel sealed
    /// (`CaseOpened.personalData`); append refuses an event whose reason, name, activity or
    /// id carries one in clear (docs/data-protection.md, "Free text"). Pseudonyms, dates and
    /// sealed data are not text and are not screened.
    public func firstFieldHoldingCPRNumber() -> String? {
        func screen(_ fields: KeyValuePairs<String, String>) -> String? {
            fields.first { PersonalDetails.containsCPRNumber($0.value) }?.key
        }
        func screen(_ field: String, _ values: [String]) -> String? {
            values.contains(where: PersonalDetails.containsCPRNumber) ? field : nil
        }
        switch self {
        case .organisationRegistered(let p):
            return screen(["organisation id": p.organisationId, "name": p.name, "municipality": p.municipality])
        case .housingAreaRegistered(let p):
            return screen(["area id": p.areaId, "name": p.name, "municipality": p.municipality, "plan": p.plan])
                ?? screen("housing organisations", p.housingOrganisations)
        case .liaisonRegistered(let p):
            return screen(["liaison id": p.liaisonId, "name": p.name, "organisation id": p.organisationId])
        case .targetGroupDefined(let p):
            return screen(["code": p.code, "label": p.label])
        case .caseOpened(let p):
            return screen(["area id": p.areaId, "organisation id": p.organisationId, "liaison id": p.liaisonId,
                           "target group": p.targetGroup])
        case .caseAssigned(let p):
            return screen(["liaison id": p.liaisonId, "reason": p.reason])
        case .consentGiven(let p):
            return screen(["consent id": p.consentId]) ?? screen("parties", p.parties)
        case .consentWithdrawn(let p):
            return screen(["consent id": p.consentId, "reason": p.reason])
        case .referralMade(let p):
            return screen(["referral id": p.referralId, "from organisation": p.fromOrganisation,
                           "to organisation": p.toOrganisation, "reason": p.reason, "decided by": p.decidedBy])
        case .referralAnswered(let p):
            return screen(["referral id": p.referralId, "reason": p.reason])
        case .jobcenterContactHeld(let p):
            return screen(["jobcenter": p.jobcenter, "referral id": p.referralId ?? ""])
        case .placementStarted(let p):
            return screen(["placement id": p.placementId, "employer": p.employer, "referral id": p.referralId ?? ""])
        case .placementEnded(let p):
            return screen(["placement id": p.placementId])
        case .caseClosed(let p):
            return screen(["reason": p.reason])
        case .caseReopened(let p):
            return screen(["reason": p.reason])
        case .hoursAgreementMade(let p):
            return screen(["agreement id": p.agreementId, "employee": p.employee, "paying organisation": p.payingOrganisation])
                ?? screen("served organisations", p.servedOrganisations) ?? screen("served areas", p.servedAreas)
        case .sharedHoursLogged(let p):
            return screen(["area id": p.areaId ?? "", "served organisation": p.servedOrganisation ?? "", "activity": p.activity])
        case .hoursAgreementEnded(let p):
            return screen(["reason": p.reason])
        case .eventRetracted(let p):
            return screen(["reason": p.reason])
        case .residentErased(let p):
            return screen(["reason": p.reason, "legal basis": p.legalBasis])
        case .erasureRefused(let p):
            return screen(["reason": p.reason, "legal basis": p.legalBasis])
        case .outcomeRecorded:
            return nil
        }
    }
}
