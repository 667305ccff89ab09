// The stored (binary) form of each payload, field by field in declaration order.
// Changing a layout means a new schema version with a new type code; never edit
// an existing layout (docs/storage-format.md lists them).

/// A payload that has a compact stored form.
public protocol BinaryPayload {
    func encode(to w: inout BinaryWriter)
    init(from r: inout BinaryReader) throws
}

extension OrganisationRegistered: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(organisationId); w.string(name); w.enumCase(kind); w.enumCase(sector); w.string(municipality)
    }
    public init(from r: inout BinaryReader) throws {
        self.init(organisationId: try r.string(), name: try r.string(), kind: try r.enumCase(OrganisationKind.self),
                  sector: try r.enumCase(Sector.self), municipality: try r.string())
    }
}

extension HousingAreaRegistered: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(areaId); w.string(name); w.string(municipality)
        w.array(housingOrganisations) { $0.string($1) }
        w.string(plan); w.date(planFrom); w.date(planTo)
    }
    public init(from r: inout BinaryReader) throws {
        self.init(areaId: try r.string(), name: try r.string(), municipality: try r.string(),
                  housingOrganisations: try r.array { try $0.string() },
                  plan: try r.string(), planFrom: try r.date(), planTo: try r.date())
    }
}

extension LiaisonRegistered: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(liaisonId); w.string(name); w.string(organisationId) }
    public init(from r: inout BinaryReader) throws {
        self.init(liaisonId: try r.string(), name: try r.string(), organisationId: try r.string())
    }
}

extension TargetGroupDefined: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(code); w.string(label); w.date(effectiveFrom); w.optional(effectiveTo) { $0.date($1) }
    }
    public init(from r: inout BinaryReader) throws {
        self.init(code: try r.string(), label: try r.string(), effectiveFrom: try r.date(), effectiveTo: try r.optional { try $0.date() })
    }
}

extension CaseOpened: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.pseudonym(resident); w.string(areaId); w.string(organisationId); w.string(liaisonId); w.string(targetGroup)
        w.enumCase(ageBand); w.enumCase(gender)
        w.optional(personalData) { w, s in w.varint(UInt64(s.combined.count)); w.raw(s.combined) }
    }
    public init(from r: inout BinaryReader) throws {
        self.init(resident: try r.pseudonym(), areaId: try r.string(), organisationId: try r.string(), liaisonId: try r.string(),
                  targetGroup: try r.string(), ageBand: try r.enumCase(AgeBand.self), gender: try r.enumCase(Gender.self),
                  personalData: try r.optional { r in
                      let n = try r.varint()
                      guard n <= UInt64(r.remaining) else { throw LogError.corrupt("sealed data length \(n) exceeds the record") }
                      return SealedData(combined: Array(try r.bytes(Int(n))))
                  })
    }
}

extension CaseAssigned: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(liaisonId); w.string(reason) }
    public init(from r: inout BinaryReader) throws { self.init(liaisonId: try r.string(), reason: try r.string()) }
}

extension ConsentGiven: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(consentId); w.array(parties) { $0.string($1) }; w.array(purposes) { $0.enumCase($1) }
        w.enumCase(form); w.optional(validUntil) { $0.date($1) }
    }
    public init(from r: inout BinaryReader) throws {
        self.init(consentId: try r.string(), parties: try r.array { try $0.string() },
                  purposes: try r.array { try $0.enumCase(ConsentPurpose.self) }, form: try r.enumCase(ConsentForm.self),
                  validUntil: try r.optional { try $0.date() })
    }
}

extension ConsentWithdrawn: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(consentId); w.string(reason) }
    public init(from r: inout BinaryReader) throws { self.init(consentId: try r.string(), reason: try r.string()) }
}

extension ReferralMade: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(referralId); w.enumCase(kind); w.string(fromOrganisation); w.string(toOrganisation); w.string(reason); w.string(decidedBy)
    }
    public init(from r: inout BinaryReader) throws {
        self.init(referralId: try r.string(), kind: try r.enumCase(ReferralKind.self), fromOrganisation: try r.string(),
                  toOrganisation: try r.string(), reason: try r.string(), decidedBy: try r.string())
    }
}

extension ReferralAnswered: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(referralId); w.bool(accepted); w.string(reason) }
    public init(from r: inout BinaryReader) throws {
        self.init(referralId: try r.string(), accepted: try r.bool(), reason: try r.string())
    }
}

extension JobcenterContactHeld: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.enumCase(contactKind); w.string(jobcenter); w.optional(referralId) { $0.string($1) }
    }
    public init(from r: inout BinaryReader) throws {
        self.init(contactKind: try r.enumCase(ContactKind.self), jobcenter: try r.string(), referralId: try r.optional { try $0.string() })
    }
}

extension PlacementStarted: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(placementId); w.enumCase(kind); w.string(employer); w.date(startDate)
        w.optional(plannedEndDate) { $0.date($1) }; w.hours(hoursPerWeek); w.optional(referralId) { $0.string($1) }
    }
    public init(from r: inout BinaryReader) throws {
        self.init(placementId: try r.string(), kind: try r.enumCase(PlacementKind.self), employer: try r.string(),
                  startDate: try r.date(), plannedEndDate: try r.optional { try $0.date() }, hoursPerWeek: try r.hours(),
                  referralId: try r.optional { try $0.string() })
    }
}

extension PlacementEnded: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(placementId); w.date(endDate); w.enumCase(outcome) }
    public init(from r: inout BinaryReader) throws {
        self.init(placementId: try r.string(), endDate: try r.date(), outcome: try r.enumCase(PlacementOutcome.self))
    }
}

extension OutcomeRecorded: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.varint(UInt64(bitPattern: Int64(monthsAfterClose))); w.enumCase(status) }
    public init(from r: inout BinaryReader) throws {
        self.init(monthsAfterClose: Int(Int64(bitPattern: try r.varint())), status: try r.enumCase(OutcomeStatus.self))
    }
}

extension CaseClosed: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(reason) }
    public init(from r: inout BinaryReader) throws { self.init(reason: try r.string()) }
}

extension CaseReopened: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.string(reason) }
    public init(from r: inout BinaryReader) throws { self.init(reason: try r.string()) }
}

extension HoursAgreementMade: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.string(agreementId); w.string(employee); w.string(payingOrganisation)
        w.array(servedOrganisations) { $0.string($1) }; w.array(servedAreas) { $0.string($1) }
        w.hours(hoursPerWeek); w.date(validFrom); w.optional(validTo) { $0.date($1) }
    }
    public init(from r: inout BinaryReader) throws {
        self.init(agreementId: try r.string(), employee: try r.string(), payingOrganisation: try r.string(),
                  servedOrganisations: try r.array { try $0.string() }, servedAreas: try r.array { try $0.string() },
                  hoursPerWeek: try r.hours(), validFrom: try r.date(), validTo: try r.optional { try $0.date() })
    }
}

extension SharedHoursLogged: BinaryPayload {
    public func encode(to w: inout BinaryWriter) {
        w.date(date); w.hours(hours); w.optional(areaId) { $0.string($1) }; w.optional(servedOrganisation) { $0.string($1) }
        w.string(activity)
    }
    public init(from r: inout BinaryReader) throws {
        self.init(date: try r.date(), hours: try r.hours(), areaId: try r.optional { try $0.string() },
                  servedOrganisation: try r.optional { try $0.string() }, activity: try r.string())
    }
}

extension HoursAgreementEnded: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.date(endDate); w.string(reason) }
    public init(from r: inout BinaryReader) throws { self.init(endDate: try r.date(), reason: try r.string()) }
}

extension EventRetracted: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.uuid(retractedEventId); w.string(reason) }
    public init(from r: inout BinaryReader) throws { self.init(retractedEventId: try r.uuid(), reason: try r.string()) }
}

extension ResidentErased: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.pseudonym(resident); w.string(reason); w.string(legalBasis) }
    public init(from r: inout BinaryReader) throws {
        self.init(resident: try r.pseudonym(), reason: try r.string(), legalBasis: try r.string())
    }
}

extension ErasureRefused: BinaryPayload {
    public func encode(to w: inout BinaryWriter) { w.pseudonym(resident); w.string(reason); w.string(legalBasis) }
    public init(from r: inout BinaryReader) throws {
        self.init(resident: try r.pseudonym(), reason: try r.string(), legalBasis: try r.string())
    }
}

extension EventPayload {
    /// The payload struct itself, for the stored form (`BinaryPayload`) and for
    /// `JSONEncoder` (`Encodable`): one switch for every consumer.
    public var binaryPayload: any BinaryPayload & Encodable {
        switch self {
        case .organisationRegistered(let p): p
        case .housingAreaRegistered(let p): p
        case .liaisonRegistered(let p): p
        case .targetGroupDefined(let p): p
        case .caseOpened(let p): p
        case .caseAssigned(let p): p
        case .consentGiven(let p): p
        case .consentWithdrawn(let p): p
        case .referralMade(let p): p
        case .referralAnswered(let p): p
        case .jobcenterContactHeld(let p): p
        case .placementStarted(let p): p
        case .placementEnded(let p): p
        case .outcomeRecorded(let p): p
        case .caseClosed(let p): p
        case .caseReopened(let p): p
        case .hoursAgreementMade(let p): p
        case .sharedHoursLogged(let p): p
        case .hoursAgreementEnded(let p): p
        case .eventRetracted(let p): p
        case .residentErased(let p): p
        case .erasureRefused(let p): p
        }
    }

    /// Writes the stored payload. A switch rather than `binaryPayload.encode`: boxing the
    /// payload in an existential allocated for every appended event.
    func encodeBinary(to w: inout BinaryWriter) {
        switch self {
        case .organisationRegistered(let p): p.encode(to: &w)
        case .housingAreaRegistered(let p): p.encode(to: &w)
        case .liaisonRegistered(let p): p.encode(to: &w)
        case .targetGroupDefined(let p): p.encode(to: &w)
        case .caseOpened(let p): p.encode(to: &w)
        case .caseAssigned(let p): p.encode(to: &w)
        case .consentGiven(let p): p.encode(to: &w)
        case .consentWithdrawn(let p): p.encode(to: &w)
        case .referralMade(let p): p.encode(to: &w)
        case .referralAnswered(let p): p.encode(to: &w)
        case .jobcenterContactHeld(let p): p.encode(to: &w)
        case .placementStarted(let p): p.encode(to: &w)
        case .placementEnded(let p): p.encode(to: &w)
        case .outcomeRecorded(let p): p.encode(to: &w)
        case .caseClosed(let p): p.encode(to: &w)
        case .caseReopened(let p): p.encode(to: &w)
        case .hoursAgreementMade(let p): p.encode(to: &w)
        case .sharedHoursLogged(let p): p.encode(to: &w)
        case .hoursAgreementEnded(let p): p.encode(to: &w)
        case .eventRetracted(let p): p.encode(to: &w)
        case .residentErased(let p): p.encode(to: &w)
        case .erasureRefused(let p): p.encode(to: &w)
        }
    }

    /// Decodes the stored payload of an event of `type`; the reader must cover exactly the payload.
    public static func decode(type: EventType, from r: inout BinaryReader) throws -> EventPayload {
        let p: EventPayload
        switch type.code {
        case EventType.organisationRegistered.code: p = .organisationRegistered(try .init(from: &r))
        case EventType.housingAreaRegistered.code: p = .housingAreaRegistered(try .init(from: &r))
        case EventType.liaisonRegistered.code: p = .liaisonRegistered(try .init(from: &r))
        case EventType.targetGroupDefined.code: p = .targetGroupDefined(try .init(from: &r))
        case EventType.caseOpened.code: p = .caseOpened(try .init(from: &r))
        case EventType.caseAssigned.code: p = .caseAssigned(try .init(from: &r))
        case EventType.consentGiven.code: p = .consentGiven(try .init(from: &r))
        case EventType.consentWithdrawn.code: p = .consentWithdrawn(try .init(from: &r))
        case EventType.referralMade.code: p = .referralMade(try .init(from: &r))
        case EventType.referralAnswered.code: p = .referralAnswered(try .init(from: &r))
        case EventType.jobcenterContactHeld.code: p = .jobcenterContactHeld(try .init(from: &r))
        case EventType.placementStarted.code: p = .placementStarted(try .init(from: &r))
        case EventType.placementEnded.code: p = .placementEnded(try .init(from: &r))
        case EventType.outcomeRecorded.code: p = .outcomeRecorded(try .init(from: &r))
        case EventType.caseClosed.code: p = .caseClosed(try .init(from: &r))
        case EventType.caseReopened.code: p = .caseReopened(try .init(from: &r))
        case EventType.hoursAgreementMade.code: p = .hoursAgreementMade(try .init(from: &r))
        case EventType.sharedHoursLogged.code: p = .sharedHoursLogged(try .init(from: &r))
        case EventType.hoursAgreementEnded.code: p = .hoursAgreementEnded(try .init(from: &r))
        case EventType.eventRetracted.code: p = .eventRetracted(try .init(from: &r))
        case EventType.residentErased.code: p = .residentErased(try .init(from: &r))
        case EventType.erasureRefused.code: p = .erasureRefused(try .init(from: &r))
        default: throw LogError(.unsupportedFormat, "event type code \(type.code) is not known to this version of the tool")
        }
        guard r.remaining == 0 else { throw LogError.corrupt("\(r.remaining) unexpected bytes after a \(type.name) payload") }
        return p
    }
}
