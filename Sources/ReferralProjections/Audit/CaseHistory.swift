import Foundation
import ReferralEvents

/// Every event of one case in order, for an audit: who recorded it, when it occurred and
/// when it was recorded, why, under which consent, with retractions shown beside what they
/// retracted.
///
/// Read straight from the case's stream in the log (it is one stream, so no stored
/// projection is needed), optionally as known at an earlier position. Sealed personal
/// data is never opened here; once the resident is erased it shows as `erased`.
public struct CaseHistory: Sendable, Hashable, Codable {
    public var caseId: String
    /// The log position the history is as of.
    public var asOfPosition: UInt64
    public var entries: [HistoryEntry]

    /// Reads the history of `caseId` from `store`, as of `position` (default: the head).
    ///
    /// - Throws: `LogError` `.notFound` if the case has no events at or before the position.
    public init(store: EventStore, caseId: String, asOf position: UInt64? = nil) throws {
        let cut = try position ?? store.head().position
        let events = try store.readStream(.case(caseId)).filter { $0.position <= cut }
        guard !events.isEmpty else {
            throw LogError(.notFound, "there is no case '\(caseId)'\(position == nil ? "" : " as of position \(cut)"); check the case id (`referral caseload` lists open cases)")
        }
        self.caseId = caseId
        asOfPosition = cut

        var retractedBy: [UUID: RetractionNote] = [:]
        var positionOf: [UUID: (UInt64, String)] = [:]
        for e in events {
            positionOf[e.id] = (e.position, e.envelope.type.name)
            if case .eventRetracted(let r) = e.payload {
                retractedBy[r.retractedEventId] = RetractionNote(position: e.position, eventId: e.id, actor: e.envelope.actor,
                                                                 recordedAt: e.envelope.recordedAt, reason: r.reason)
            }
        }

        var consents: [(id: String, given: ConsentGiven, active: Bool)] = []
        var entries: [HistoryEntry] = []
        for e in events {
            let day = e.envelope.occurredAt.date
            let inForce = consents.filter { $0.active && ($0.given.validUntil.map { day <= $0 } ?? true) }
            let (summary, reason, fields) = describe(e.payload)
            var entry = HistoryEntry(
                position: e.position, version: e.envelope.version, eventId: e.id, type: e.envelope.type.name,
                occurredAt: e.envelope.occurredAt, recordedAt: e.envelope.recordedAt, actor: e.envelope.actor,
                organisation: e.envelope.organisation, summary: summary, reason: reason, fields: fields,
                consentsInForce: inForce.map(\.id), coveringConsent: nil, retractedBy: retractedBy[e.id], retracts: nil)
            if case .referralMade(let r) = e.payload {
                entry.coveringConsent = inForce.first { $0.given.parties.contains(r.toOrganisation) && $0.given.purposes.contains(.referral) }?.id
            }
            if case .eventRetracted(let r) = e.payload, let (pos, type) = positionOf[r.retractedEventId] {
                entry.retracts = RetractedNote(position: pos, eventId: r.retractedEventId, type: type)
            }
            entries.append(entry)
            // A retracted event stays visible but changes nothing that follows.
            guard retractedBy[e.id] == nil else { continue }
            switch e.payload {
            case .consentGiven(let c): consents.append((c.consentId, c, true))
            case .consentWithdrawn(let w):
                if let i = consents.firstIndex(where: { $0.id == w.consentId && $0.active }) { consents[i].active = false }
            case .caseClosed:
                for i in consents.indices { consents[i].active = false }
            default: break
            }
        }
        // Sealed details of a resident erased since (as of the cut) read as erased.
        for (i, e) in events.enumerated() {
            guard case .caseOpened(let p) = e.payload, p.personalData != nil,
                  let erased = try store.erasurePosition(of: p.resident, asOf: cut), e.position < erased,
                  let f = entries[i].fields.firstIndex(where: { $0.name == "personal-data" }) else { continue }
            entries[i].fields[f].value = "erased"
        }
        self.entries = entries
    }
}

/// One event in a case history.
public struct HistoryEntry: Sendable, Hashable, Codable {
    public var position: UInt64
    public var version: UInt64
    public var eventId: UUID
    /// The event type's name, e.g. `referral-made`.
    public var type: String
    public var occurredAt: Timestamp
    public var recordedAt: Timestamp
    /// Who recorded it.
    public var actor: String
    /// On whose behalf.
    public var organisation: OrganisationID
    /// One line, e.g. `referral R1 (jobcenter-contact) secretariat-viborg → jobcenter-viborg`.
    public var summary: String
    /// The event's reason field, if it has one.
    public var reason: String?
    /// The payload's fields as name and value, in declaration order.
    public var fields: [HistoryField]
    /// The consents in force when it occurred (given, not withdrawn, not lapsed, not past their end).
    public var consentsInForce: [String]
    /// For a referral: the consent in force that covers the receiving party for referral.
    public var coveringConsent: String?
    /// Set when a later event (as of the history's position) retracted this one.
    public var retractedBy: RetractionNote?
    /// Set on a retraction: the event it retracts.
    public var retracts: RetractedNote?

    /// Whole days between occurring and being recorded (late registrations).
    public var daysRecordedLate: Int {
        Int(recordedAt.date.daysSinceEpoch - occurredAt.date.daysSinceEpoch)
    }
}

/// A named value of an event's payload.
public struct HistoryField: Sendable, Hashable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Who retracted an event, when and why.
public struct RetractionNote: Sendable, Hashable, Codable {
    public var position: UInt64
    public var eventId: UUID
    public var actor: String
    public var recordedAt: Timestamp
    public var reason: String
}

/// What a retraction retracted.
public struct RetractedNote: Sendable, Hashable, Codable {
    public var position: UInt64
    public var eventId: UUID
    public var type: String
}

extension Projections {
    /// The audit history of one case, as of `position` (default: the log's head).
    public func caseHistory(caseId: String, asOf position: UInt64? = nil) throws -> CaseHistory {
        try CaseHistory(store: store, caseId: caseId, asOf: position)
    }

    /// The audit history of one case as it was known at `time`.
    public func caseHistory(caseId: String, asKnownAt time: Timestamp) throws -> CaseHistory {
        try CaseHistory(store: store, caseId: caseId, asOf: try store.position(asKnownAt: time))
    }
}

private func describe(_ payload: EventPayload) -> (String, String?, [HistoryField]) {
    func f(_ pairs: (String, String?)...) -> [HistoryField] {
        pairs.compactMap { name, value in value.map { HistoryField(name: name, value: $0) } }
    }
    func date(_ d: CalendarDate?) -> String? { d?.iso8601 }
    switch payload {
    case .caseOpened(let p):
        return ("case opened in \(p.areaId) by \(p.organisationId), liaison \(p.liaisonId)", nil,
                f(("resident", p.resident.hex), ("area", p.areaId), ("organisation", p.organisationId), ("liaison", p.liaisonId),
                  ("target-group", p.targetGroup), ("age-band", p.ageBand.rawValue), ("gender", p.gender.rawValue),
                  ("personal-data", p.personalData.map { _ in "sealed" })))
    case .caseAssigned(let p):
        return ("case assigned to \(p.liaisonId)", p.reason, f(("liaison", p.liaisonId)))
    case .consentGiven(let p):
        return ("consent \(p.consentId) (\(p.form.rawValue)) for \(p.parties.joined(separator: ", ")) until \(p.validUntil?.danish ?? "case closes")", nil,
                f(("consent", p.consentId), ("parties", p.parties.joined(separator: ",")),
                  ("purposes", p.purposes.map(\.rawValue).joined(separator: ",")), ("form", p.form.rawValue), ("valid-until", date(p.validUntil))))
    case .consentWithdrawn(let p):
        return ("consent \(p.consentId) withdrawn", p.reason, f(("consent", p.consentId)))
    case .referralMade(let p):
        return ("referral \(p.referralId) (\(p.kind.rawValue)) \(p.fromOrganisation) → \(p.toOrganisation)", p.reason,
                f(("referral", p.referralId), ("kind", p.kind.rawValue), ("from", p.fromOrganisation), ("to", p.toOrganisation),
                  ("decided-by", p.decidedBy)))
    case .referralAnswered(let p):
        return ("referral \(p.referralId) \(p.accepted ? "accepted" : "rejected")", p.reason,
                f(("referral", p.referralId), ("accepted", p.accepted ? "yes" : "no")))
    case .jobcenterContactHeld(let p):
        return ("\(p.contactKind.rawValue) jobcenter contact at \(p.jobcenter)", nil,
                f(("kind", p.contactKind.rawValue), ("jobcenter", p.jobcenter), ("referral", p.referralId)))
    case .placementStarted(let p):
        return ("placement \(p.placementId) (\(p.kind.rawValue)) at \(p.employer) from \(p.startDate.danish)", nil,
                f(("placement", p.placementId), ("kind", p.kind.rawValue), ("employer", p.employer), ("start", p.startDate.iso8601),
                  ("planned-end", date(p.plannedEndDate)), ("hours-per-week", p.hoursPerWeek.description), ("referral", p.referralId)))
    case .placementEnded(let p):
        return ("placement \(p.placementId) ended \(p.endDate.danish): \(p.outcome.rawValue)", nil,
                f(("placement", p.placementId), ("end", p.endDate.iso8601), ("outcome", p.outcome.rawValue)))
    case .outcomeRecorded(let p):
        return ("status \(p.monthsAfterClose) months after close: \(p.status.rawValue)", nil,
                f(("months-after-close", String(p.monthsAfterClose)), ("status", p.status.rawValue)))
    case .caseClosed(let p):
        return ("case closed", p.reason, [])
    case .caseReopened(let p):
        return ("case reopened", p.reason, [])
    case .eventRetracted(let p):
        return ("retracts event \(p.retractedEventId.uuidString.lowercased())", p.reason, f(("retracted-event", p.retractedEventId.uuidString.lowercased())))
    default:
        return (payload.type.name, nil, [])
    }
}
