import Foundation
import ReferralEvents

/// One case's or agreement's events as read just before a write: the version to expect
/// (so a concurrent change is a version conflict, not a silent overwrite) and the facts
/// commands use for defaults (the current liaison, the next free referral id).
struct StreamSnapshot {
    let stream: StreamID
    /// Every event of the stream, retracted ones and retractions included.
    let events: [RecordedEvent]
    let retracted: Set<UUID>

    var version: UInt64 { events.last?.envelope.version ?? 0 }

    /// Events that still count: not retracted, and not retractions.
    var live: [RecordedEvent] {
        events.filter {
            if case .eventRetracted = $0.payload { return false }
            return !retracted.contains($0.id)
        }
    }

    init(stream: StreamID, events: [RecordedEvent]) {
        self.stream = stream
        self.events = events
        retracted = Set(events.compactMap {
            if case .eventRetracted(let r) = $0.payload { return r.retractedEventId }
            return nil
        })
    }

    /// The case `caseID`, or exit 66 saying there is no such case.
    static func loadCase(_ store: EventStore, _ caseID: String) throws -> StreamSnapshot {
        let events = try store.readStream(.case(caseID))
        guard !events.isEmpty else {
            throw CLIError.notFound("there is no case '\(caseID)'; check the id (`referral log --type case-opened` lists opened cases) or open it with `referral open`")
        }
        return StreamSnapshot(stream: .case(caseID), events: events)
    }

    /// The agreement `agreementID`, or exit 66.
    static func loadAgreement(_ store: EventStore, _ agreementID: String) throws -> StreamSnapshot {
        let events = try store.readStream(.agreement(agreementID))
        guard !events.isEmpty else {
            throw CLIError.notFound("there is no hours agreement '\(agreementID)'; check the id (`referral log --type hours-agreement-made` lists them) or make it with `referral agree-hours`")
        }
        return StreamSnapshot(stream: .agreement(agreementID), events: events)
    }

    /// The liaison now following the case (opened with, or last assigned to).
    var currentLiaison: LiaisonID? {
        var liaison: LiaisonID?
        for e in live {
            switch e.payload {
            case .caseOpened(let p): liaison = p.liaisonId
            case .caseAssigned(let p): liaison = p.liaisonId
            default: break
            }
        }
        return liaison
    }

    /// The referral `id` in this case, if made and not retracted.
    func referral(_ id: String) -> ReferralMade? {
        for e in live {
            if case .referralMade(let r) = e.payload, r.referralId == id { return r }
        }
        return nil
    }

    /// Exit 66 when the case never had a referral `id`, as for an unknown case: a mistyped
    /// id is "not found", whichever command names it. A referral that was made and then
    /// retracted is left to the domain rules, which say why it cannot be used.
    func requireReferralMade(_ id: String, inCase caseID: String) throws {
        let made = events.contains { if case .referralMade(let r) = $0.payload { r.referralId == id } else { false } }
        guard made else {
            throw CLIError.notFound("case '\(caseID)' has no referral '\(id)'; see `referral history \(caseID)`")
        }
    }

    /// Whether a jobcenter contact has been recorded in the case.
    var hasJobcenterContact: Bool {
        live.contains { if case .jobcenterContactHeld = $0.payload { true } else { false } }
    }

    /// The next free id `<prefix><n>` (K1, R2, P3) among the ids `existing` already uses.
    func nextID(prefix: String, existing: (EventPayload) -> String?) -> String {
        let used = Set(events.compactMap { existing($0.payload) })
        var n = used.count + 1
        while used.contains("\(prefix)\(n)") { n += 1 }
        return "\(prefix)\(n)"
    }
}

/// The stream `--stream` or `--case` names, nil if neither is given. One that is not in the
/// log is a typo rather than an empty result: it is reported as not found.
func existingStream(stream: String?, caseID: String?, in store: EventStore) throws -> StreamID? {
    guard let wanted = stream.map({ StreamID($0) }) ?? caseID.map({ StreamID.case($0) }) else { return nil }
    guard try store.streamVersion(wanted) == 0 else { return wanted }
    if let caseID { throw CLIError.notFound("there is no case '\(caseID)'; check the case id (`referral caseload` lists open cases)") }
    throw CLIError.notFound("there is no stream '\(wanted)'; streams are registry, case-<id>, agreement-<id> and resident-<pseudonym> (`referral log` shows them)")
}
