import Foundation

/// Residents, their cases and the decisions about them, gathered by one replay of the log.
///
/// The index pseudonym → cases that lookups, access reports and retention need. Built by
/// scanning (only the few event types that matter are decoded, from zero-copy views): 3.1 s
/// for 950,000 events in a debug build (`REFERRAL_HEAVY=1 swift test --filter
/// PrivacyScanTests`), so seconds for a municipality and half a minute for a national log
/// of 10 million; a projection keyed by pseudonym should replace it there.
/// Retractions are applied: a retracted opening, close or reopening does not count, but
/// a resident named in a retracted opening stays linked to that case, because the log
/// still holds their sealed details there.
public struct ResidentDirectory: Sendable, Hashable {
    /// A case as it stands now.
    public struct CaseFacts: Sendable, Hashable {
        public var caseID: String
        /// The resident of the case's effective (last unretracted) opening.
        public var resident: Pseudonym
        /// The organisation that opened the case and holds it.
        public var organisation: OrganisationID
        public var targetGroup: TargetGroupCode
        public var openedPosition: UInt64
        public var isOpen: Bool
        /// The day it last closed, while it is closed.
        public var closedOn: CalendarDate?
    }

    /// One opening of a case that names a resident.
    public struct ResidentLink: Sendable, Hashable {
        public var caseID: String
        public var openedPosition: UInt64
        public var sealed: SealedData?
        /// The organisation and target group this opening recorded.
        public var organisation: OrganisationID
        public var targetGroup: TargetGroupCode
        /// Whether this opening is the case's effective one (false once retracted).
        public var effective: Bool
        /// When the case stopped holding this resident: the close date of a closed case, or
        /// the day a retracted opening was retracted; nil while the case is open.
        public var endedOn: CalendarDate?
    }

    /// An erasure decision about a resident (`ResidentErased` or `ErasureRefused`).
    public struct Decision: Sendable, Hashable {
        /// Which decision: `ResidentErased` or `ErasureRefused`.
        public enum Kind: String, Sendable, Hashable, Codable { case erased, refused }
        public var kind: Kind
        public var position: UInt64
        public var id: UUID
        public var occurredAt: Timestamp
        public var actor: String
        public var organisation: OrganisationID
        public var reason: String
        public var legalBasis: String
        public var retracted: Bool
    }

    public var cases: [String: CaseFacts] = [:]
    /// Each resident's links, in log order.
    public var links: [Pseudonym: [ResidentLink]] = [:]
    /// Each resident's erasure decisions, in log order.
    public var decisions: [Pseudonym: [Decision]] = [:]
    /// Organisation → sector, from the registry.
    public var sectors: [OrganisationID: Sector] = [:]
    /// The last position the scan saw.
    public var scannedThrough: UInt64 = 0

    /// The first unretracted erasure of `resident`, if any.
    public func erasure(of resident: Pseudonym) -> Decision? {
        decisions[resident]?.first { $0.kind == .erased && !$0.retracted }
    }

    /// The last unretracted refusal to erase `resident`, if any.
    public func refusal(of resident: Pseudonym) -> Decision? {
        decisions[resident]?.last { $0.kind == .refused && !$0.retracted }
    }

    /// Every resident named in a case opening or an erasure decision, in pseudonym order.
    public var residents: [Pseudonym] {
        Set(links.keys).union(decisions.keys).sorted()
    }

    /// Replays the log once and builds the directory.
    public static func scan(_ store: EventStore) throws -> ResidentDirectory {
        struct Opening { var position: UInt64; var id: UUID; var payload: CaseOpened }
        enum Step { case closed(UUID, CalendarDate), reopened(UUID) }
        var openings: [String: [Opening]] = [:]
        var steps: [String: [Step]] = [:]
        var retractedOn: [UUID: CalendarDate] = [:]
        var registrations: [(UUID, OrganisationRegistered)] = []
        var dir = ResidentDirectory()
        let opened = EventType.caseOpened.code, closed = EventType.caseClosed.code, reopened = EventType.caseReopened.code
        let retraction = EventType.eventRetracted.code, orgRegistered = EventType.organisationRegistered.code
        let erased = EventType.residentErased.code, refused = EventType.erasureRefused.code

        try store.replay { view in
            dir.scannedThrough = view.position
            switch view.typeCode {
            case opened:
                openings[String(view.stream.entityID), default: []].append(Opening(position: view.position, id: view.id, payload: try view.decode(CaseOpened.self)))
            case closed:
                steps[String(view.stream.entityID), default: []].append(.closed(view.id, view.occurredAt.date))
            case reopened:
                steps[String(view.stream.entityID), default: []].append(.reopened(view.id))
            case retraction:
                retractedOn[try view.decode(EventRetracted.self).retractedEventId] = view.occurredAt.date
            case orgRegistered:
                registrations.append((view.id, try view.decode(OrganisationRegistered.self)))
            case erased, refused:
                let e = try view.decode()
                let (kind, resident, reason, basis): (Decision.Kind, Pseudonym, String, String)
                switch e.payload {
                case .residentErased(let p): (kind, resident, reason, basis) = (.erased, p.resident, p.reason, p.legalBasis)
                case .erasureRefused(let p): (kind, resident, reason, basis) = (.refused, p.resident, p.reason, p.legalBasis)
                default: return true
                }
                dir.decisions[resident, default: []].append(Decision(
                    kind: kind, position: e.position, id: e.id, occurredAt: e.envelope.occurredAt, actor: e.envelope.actor,
                    organisation: e.envelope.organisation, reason: reason, legalBasis: basis, retracted: false))
            default:
                break
            }
            return true
        }

        for (id, r) in registrations where retractedOn[id] == nil { dir.sectors[r.organisationId] = r.sector }
        for (resident, list) in dir.decisions {
            dir.decisions[resident] = list.map { var d = $0; d.retracted = retractedOn[d.id] != nil; return d }
        }
        for (caseID, list) in openings {
            let effective = list.last { retractedOn[$0.id] == nil }
            var isOpen = effective != nil
            var closedOn: CalendarDate?
            for step in steps[caseID] ?? [] {
                switch step {
                case .closed(let id, let day) where retractedOn[id] == nil: isOpen = false; closedOn = day
                case .reopened(let id) where retractedOn[id] == nil: isOpen = true; closedOn = nil
                default: break
                }
            }
            if let e = effective {
                dir.cases[caseID] = CaseFacts(caseID: caseID, resident: e.payload.resident, organisation: e.payload.organisationId,
                                              targetGroup: e.payload.targetGroup, openedPosition: e.position, isOpen: isOpen,
                                              closedOn: isOpen ? nil : closedOn)
            }
            for o in list {
                let isEffective = o.id == effective?.id
                dir.links[o.payload.resident, default: []].append(ResidentLink(
                    caseID: caseID, openedPosition: o.position, sealed: o.payload.personalData,
                    organisation: o.payload.organisationId, targetGroup: o.payload.targetGroup, effective: isEffective,
                    endedOn: isEffective ? (isOpen ? nil : closedOn) : retractedOn[o.id]))
            }
        }
        for (r, list) in dir.links { dir.links[r] = list.sorted { $0.openedPosition < $1.openedPosition } }
        return dir
    }
}
