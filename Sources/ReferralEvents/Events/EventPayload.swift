/// The fact an event records: one case per event type in the catalogue.
public enum EventPayload: Sendable, Hashable {
    case organisationRegistered(OrganisationRegistered)
    case housingAreaRegistered(HousingAreaRegistered)
    case liaisonRegistered(LiaisonRegistered)
    case targetGroupDefined(TargetGroupDefined)
    case caseOpened(CaseOpened)
    case caseAssigned(CaseAssigned)
    case consentGiven(ConsentGiven)
    case consentWithdrawn(ConsentWithdrawn)
    case referralMade(ReferralMade)
    case referralAnswered(ReferralAnswered)
    case jobcenterContactHeld(JobcenterContactHeld)
    case placementStarted(PlacementStarted)
    case placementEnded(PlacementEnded)
    case outcomeRecorded(OutcomeRecorded)
    case caseClosed(CaseClosed)
    case caseReopened(CaseReopened)
    case hoursAgreementMade(HoursAgreementMade)
    case sharedHoursLogged(SharedHoursLogged)
    case hoursAgreementEnded(HoursAgreementEnded)
    case eventRetracted(EventRetracted)
    case residentErased(ResidentErased)
    case erasureRefused(ErasureRefused)

    /// The type this payload is stored and exchanged as.
    public var type: EventType {
        switch self {
        case .organisationRegistered: .organisationRegistered
        case .housingAreaRegistered: .housingAreaRegistered
        case .liaisonRegistered: .liaisonRegistered
        case .targetGroupDefined: .targetGroupDefined
        case .caseOpened: .caseOpened
        case .caseAssigned: .caseAssigned
        case .consentGiven: .consentGiven
        case .consentWithdrawn: .consentWithdrawn
        case .referralMade: .referralMade
        case .referralAnswered: .referralAnswered
        case .jobcenterContactHeld: .jobcenterContactHeld
        case .placementStarted: .placementStarted
        case .placementEnded: .placementEnded
        case .outcomeRecorded: .outcomeRecorded
        case .caseClosed: .caseClosed
        case .caseReopened: .caseReopened
        case .hoursAgreementMade: .hoursAgreementMade
        case .sharedHoursLogged: .sharedHoursLogged
        case .hoursAgreementEnded: .hoursAgreementEnded
        case .eventRetracted: .eventRetracted
        case .residentErased: .residentErased
        case .erasureRefused: .erasureRefused
        }
    }
}
