import Foundation

extension DomainRule {
    /// Only an organisation that holds one of a resident's cases (a controller of their
    /// data) may produce the resident's access report.
    public static let controllerOnly = DomainRule("controller-only")
}

/// Everything the store holds about one resident (GDPR art. 15), for the resident.
///
/// Every case that names the resident, with every event of it in log order (decoded,
/// retractions marked), the resident's personal details opened if their key still
/// exists and marked erased otherwise, the erasure decisions about them, and every
/// access-log record about them or their cases. The report is meant for the resident, so
/// it carries their own name and CPR number; producing it is logged like any other read.
/// A case opening that was retracted because it named the wrong person shows only that
/// opening, never the rest of someone else's case; openings of other residents in the
/// resident's cases are listed without their content, and reads logged about another
/// resident are left out.
public struct AccessReport: Sendable, Hashable, Encodable {
    public var format = "referral-access-report/1"
    public var resident: Pseudonym
    public var generatedAt: Timestamp
    public var generatedBy: ReaderIdentity
    public var purpose: String
    /// The event log's head when the report was made.
    public var logPosition: UInt64
    /// The resident's details from their latest case opening that holds any.
    public var personalDetails: PersonalDataState
    public var erased: Bool
    public var cases: [Case]
    public var erasureDecisions: [Decision]
    public var accessLog: [AccessLogRecord]

    /// One case that names the resident.
    public struct Case: Sendable, Hashable, Encodable {
        public var caseID: String
        /// False when the resident was named only in a retracted opening of this case.
        public var residentsCase: Bool
        public var events: [Event]
    }

    /// One event, decoded.
    public struct Event: Sendable, Hashable, Encodable {
        public var position: UInt64
        public var id: UUID
        public var stream: StreamID
        public var version: UInt64
        public var type: String
        public var schemaVersion: Int
        public var occurredAt: Timestamp
        public var recordedAt: Timestamp
        public var actor: String
        public var organisation: OrganisationID
        public var correlationId: UUID?
        public var causationId: UUID?
        public var retracted: Bool
        /// The event's fields; nil for an opening that concerns another resident.
        public var payload: ReportPayload?
        /// For case openings of this resident: the sealed details as they read now.
        public var personalData: PersonalDataState?
    }

    /// An erasure decision about the resident.
    public struct Decision: Sendable, Hashable, Encodable {
        public var kind: ResidentDirectory.Decision.Kind
        public var position: UInt64
        public var occurredAt: Timestamp
        public var actor: String
        public var organisation: OrganisationID
        public var reason: String
        public var legalBasis: String
        public var retracted: Bool
    }

    /// The report as pretty-printed JSON with sorted keys (UTF-8).
    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

/// An event's fields as JSON: the payload struct's own `Codable` form. The sealed
/// `personalData` of a case opening is left out (its opened form is beside it).
public struct ReportPayload: Sendable, Hashable, Encodable {
    public var payload: EventPayload

    public init(_ payload: EventPayload) { self.payload = payload }

    public func encode(to encoder: any Encoder) throws {
        switch payload {
        case .organisationRegistered(let p): try p.encode(to: encoder)
        case .housingAreaRegistered(let p): try p.encode(to: encoder)
        case .liaisonRegistered(let p): try p.encode(to: encoder)
        case .targetGroupDefined(let p): try p.encode(to: encoder)
        case .caseOpened(var p):
            p.personalData = nil
            try p.encode(to: encoder)
        case .caseAssigned(let p): try p.encode(to: encoder)
        case .consentGiven(let p): try p.encode(to: encoder)
        case .consentWithdrawn(let p): try p.encode(to: encoder)
        case .referralMade(let p): try p.encode(to: encoder)
        case .referralAnswered(let p): try p.encode(to: encoder)
        case .jobcenterContactHeld(let p): try p.encode(to: encoder)
        case .placementStarted(let p): try p.encode(to: encoder)
        case .placementEnded(let p): try p.encode(to: encoder)
        case .outcomeRecorded(let p): try p.encode(to: encoder)
        case .caseClosed(let p): try p.encode(to: encoder)
        case .caseReopened(let p): try p.encode(to: encoder)
        case .hoursAgreementMade(let p): try p.encode(to: encoder)
        case .sharedHoursLogged(let p): try p.encode(to: encoder)
        case .hoursAgreementEnded(let p): try p.encode(to: encoder)
        case .eventRetracted(let p): try p.encode(to: encoder)
        case .residentErased(let p): try p.encode(to: encoder)
        case .erasureRefused(let p): try p.encode(to: encoder)
        }
    }
}

extension DataProtection {
    /// Builds the access report for `resident`, logs it, and returns it.
    ///
    /// - Throws: `.notFound` if the store knows nothing of the resident; `.ruleViolation`
    ///   with rule `.controllerOnly` if `reader`'s organisation holds none of the
    ///   resident's cases (the refusal is logged).
    public func accessReport(resident: Pseudonym, by reader: ReaderIdentity, purpose: String) throws -> AccessReport {
        let head = try store.head().position
        let directory = try ResidentDirectory.scan(store)
        let links = directory.links[resident] ?? []
        let decisions = directory.decisions[resident] ?? []
        let hasKey = try keys.hasKey(resident)
        guard !links.isEmpty || !decisions.isEmpty || hasKey else {
            throw LogError(.notFound, "resident \(resident) is not in this store (no case, no key, no decision); check the pseudonym or look the resident up with --cpr")
        }
        let caseIDs = links.map(\.caseID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let held = caseIDs.filter { directory.cases[$0]?.organisation == reader.organisation && directory.cases[$0]?.resident == resident }
        let ownsAny = links.contains { $0.effective }
        if ownsAny && held.isEmpty {
            try accessLog.record(AccessLogEntry(reader: reader, action: .accessReport, cases: caseIDs, resident: resident, purpose: purpose,
                                                fields: [], outcome: .refused, basis: "holds none of the resident's cases", logPosition: head))
            let owners = Set(caseIDs.compactMap { directory.cases[$0]?.organisation }).sorted()
            var e = LogError(.ruleViolation, "\(reader.organisation) holds none of resident \(resident)'s cases, so it cannot produce their access report; ask \(owners.map { "'\($0)'" }.joined(separator: " or ")), which hold them")
            e.rule = .controllerOnly
            throw e
        }
        let erasure = directory.erasure(of: resident)?.position

        var cases: [AccessReport.Case] = []
        var latestDetails: (position: UInt64, state: PersonalDataState)?
        for caseID in caseIDs {
            let events = try store.readStream(.case(caseID))
            let retracted = DataProtection.retractedIDs(events)
            let residentsCase = directory.cases[caseID]?.resident == resident
            let ownOpenings = Set(links.filter { $0.caseID == caseID }.map(\.openedPosition))
            var out: [AccessReport.Event] = []
            for e in events {
                var payload: ReportPayload? = ReportPayload(e.payload)
                var personal: PersonalDataState?
                if case .caseOpened(let p) = e.payload {
                    if p.resident == resident {
                        let state = try personalDataState(p.personalData, of: resident, recordedAt: e.position, erasedAt: .some(erasure))
                        personal = state
                        if state != .none, latestDetails.map({ $0.position < e.position }) ?? true { latestDetails = (e.position, state) }
                    } else {
                        payload = nil  // another resident's opening: not theirs to see
                    }
                }
                // Of a case that is someone else's, only this resident's own opening and its retraction.
                if !residentsCase {
                    let isOwnOpening = ownOpenings.contains(e.position)
                    var retractsOwn = false
                    if case .eventRetracted(let r) = e.payload {
                        retractsOwn = events.contains { $0.id == r.retractedEventId && ownOpenings.contains($0.position) }
                    }
                    guard isOwnOpening || retractsOwn else { continue }
                }
                out.append(AccessReport.Event(position: e.position, id: e.id, stream: e.stream, version: e.envelope.version, type: e.envelope.type.name,
                                              schemaVersion: Int(e.envelope.type.schemaVersion), occurredAt: e.envelope.occurredAt,
                                              recordedAt: e.envelope.recordedAt, actor: e.envelope.actor, organisation: e.envelope.organisation,
                                              correlationId: e.envelope.correlationId, causationId: e.envelope.causationId,
                                              retracted: retracted.contains(e.id), payload: payload, personalData: personal))
            }
            cases.append(AccessReport.Case(caseID: caseID, residentsCase: residentsCase, events: out))
        }

        var seen: Set<UInt64> = []
        var accessRecords: [AccessLogRecord] = []
        for r in try accessLog.list(AccessLogQuery(resident: resident)) where seen.insert(r.sequence).inserted { accessRecords.append(r) }
        for c in caseIDs {
            // Reads of the case when it named someone else are theirs, not this resident's.
            for r in try accessLog.list(AccessLogQuery(caseID: c)) where r.entry.resident == nil || r.entry.resident == resident {
                if seen.insert(r.sequence).inserted { accessRecords.append(r) }
            }
        }
        accessRecords.sort { $0.sequence < $1.sequence }

        let basis = held.isEmpty ? "resident has no case held by anyone" : "controller: holds case \(held.joined(separator: ", "))"
        let details = latestDetails?.state ?? (erasure != nil ? .erased : .none)
        let record = try accessLog.record(AccessLogEntry(reader: reader, action: .accessReport, cases: caseIDs, resident: resident, purpose: purpose,
                                                         fields: ["all"] + details.fieldNames, outcome: .granted, basis: basis, logPosition: head))
        return AccessReport(resident: resident, generatedAt: record.recordedAt, generatedBy: reader, purpose: purpose, logPosition: head,
                            personalDetails: details, erased: erasure != nil, cases: cases,
                            erasureDecisions: decisions.map {
                                AccessReport.Decision(kind: $0.kind, position: $0.position, occurredAt: $0.occurredAt, actor: $0.actor,
                                                      organisation: $0.organisation, reason: $0.reason, legalBasis: $0.legalBasis, retracted: $0.retracted)
                            },
                            accessLog: accessRecords)
    }
}
