/// One consent of a case as it stands now: withdrawn or lapsed consents stay listed,
/// marked `lapsed`, so a refusal can say what is missing.
public struct ConsentStatus: Sendable, Hashable, Codable {
    public var consentId: String
    public var parties: [OrganisationID]
    public var purposes: [ConsentPurpose]
    public var validUntil: CalendarDate?
    /// Withdrawn, or lapsed because the case closed.
    public var lapsed: Bool
    /// The day it was given.
    public var givenOn: CalendarDate
    /// The day it was withdrawn or the case closed; nil while it holds.
    public var lapsedOn: CalendarDate?

    /// Whether the consent lets `party` act for `purpose` on `date`: given on or before
    /// that day, valid until it, and not withdrawn or lapsed by then. The gate for reading
    /// personal data asks about today, when a lapsed consent (its day is never in the
    /// future) covers nothing.
    public func covers(party: OrganisationID, purpose: ConsentPurpose, on date: CalendarDate) -> Bool {
        parties.contains(party) && purposes.contains(purpose) && givenOn <= date
            && (validUntil.map { date <= $0 } ?? true) && (lapsedOn.map { date < $0 } ?? true)
    }
}

/// A case's open state and consents as the domain rules see them (retractions applied).
public struct CaseConsentState: Sendable, Hashable {
    public var caseID: String
    public var open: Bool
    public var consents: [ConsentStatus]
}

extension EventStore {
    /// The case's consents as the append rules use them, or nil if the case does not exist.
    ///
    /// Read from the rule state kept in the same transaction as every append, so a gate
    /// that reads personal data applies exactly the consent the referral rule applies.
    public func consentState(ofCase caseID: String) throws -> CaseConsentState? {
        try env.read { txn in
            guard let raw = try txn.get(streams, StreamIndex.caseRowKey(.case(caseID))) else { return nil }
            let state = try CaseRuleState(decoding: raw)
            // The row names parties by number (`RuleKey.organisationNumber`).
            var names: [OrganisationNumber: OrganisationID] = [:]
            func name(_ n: OrganisationNumber) throws -> OrganisationID {
                if let known = names[n] { return known }
                guard n <= UInt64(UInt32.max), let id = try txn.get(rules, RuleKey.organisation(numbered: UInt32(n))) else {
                    throw LogError.corrupt("the rule row of case '\(caseID)' names organisation number \(n), which no organisation has; rebuild the rule rows (`referral rebuild --rules`)")
                }
                let text = String(decoding: id, as: UTF8.self)
                names[n] = text
                return text
            }
            return CaseConsentState(caseID: caseID, open: state.open, consents: try state.consents.map {
                ConsentStatus(consentId: $0.id, parties: try $0.parties.map(name), purposes: $0.purposes, validUntil: $0.validUntil, lapsed: $0.lapsed,
                              givenOn: $0.givenOn, lapsedOn: $0.lapsedOn)
            })
        }
    }
}
