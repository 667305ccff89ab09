import Foundation

/// The data-protection side of a store: the consent gate on personal details, lookups by
/// CPR number, erasure, access reports and retention, each read of personal data logged.
///
/// A value bundling the event log, the key store and the access log of one store:
///
/// ```swift
/// let dp = try DataProtection(store: store)
/// let me = ReaderIdentity(actor: "fre-lis-02", organisation: "jobcenter-fredericia")
/// let read = try dp.readPersonalDetails(caseID: "FRE-0042", by: me, purpose: "first meeting")
/// ```
///
/// Who may read a case's personal details (see `docs/data-protection.md`):
/// - the organisation that opened the case (it collected the details from the resident
///   and holds the case), at any time, also after the case closed;
/// - any other organisation only under a consent of that case that names it for the
///   purpose `personal-details` and is valid today (not withdrawn, not expired, not
///   lapsed by the case closing). This is the confidentiality line between the
///   jobcenter (a public authority) and the private housing side.
/// Refused reads are logged too, and throw `LogError` with rule `.consentRequired`
/// naming the party and purpose that a consent is missing for.
public struct DataProtection: Sendable {
    public let store: EventStore
    public let keys: KeyStore
    public let accessLog: AccessLog

    /// Bundles an already opened log, key store and access log of one store.
    public init(store: EventStore, keys: KeyStore, accessLog: AccessLog) {
        self.store = store
        self.keys = keys
        self.accessLog = accessLog
    }

    /// Opens the key store and the access log beside `store`'s log.
    ///
    /// - Parameter createKeys: make `keys.mdb` if it is missing. Leave it false for an
    ///   existing store: a missing key store should be restored, not replaced by one with
    ///   a new secret (which would give every resident a new pseudonym).
    /// - Parameter durable: fsync each write to the key store and the access log (the
    ///   default); tests and demos may turn it off.
    public init(store: EventStore, createKeys: Bool = false, durable: Bool = true) throws {
        self.store = store
        keys = try KeyStore(directory: store.directory, create: createKeys, durable: durable)
        accessLog = try AccessLog(directory: store.directory, durable: durable, clock: store.clock)
    }

    // MARK: - Reading personal details through the consent gate

    /// Opens the personal details of a case for `reader`, if the consent rule allows it,
    /// and logs the read (or the refusal) before returning anything.
    ///
    /// - Throws: `.ruleViolation` with rule `.consentRequired` when no valid consent covers
    ///   the reader's organisation for `personal-details`; `.notFound` for an unknown case;
    ///   `.invalidInput` for a missing purpose or one holding a CPR number.
    public func readPersonalDetails(caseID: String, by reader: ReaderIdentity, purpose: String) throws -> PersonalDetailsRead {
        let head = try store.head().position
        let events = try store.readStream(.case(caseID))
        guard let opening = DataProtection.effectiveOpening(events), let consents = try store.consentState(ofCase: caseID) else {
            throw LogError(.notFound, "case '\(caseID)' does not exist; check the case id")
        }
        let basis: AccessBasis
        do {
            basis = try DataProtection.basis(for: reader, owner: opening.payload.organisationId, consents: consents, on: store.clock().date)
        } catch let refusal as LogError {
            try accessLog.record(AccessLogEntry(reader: reader, action: .personalDetails, cases: [caseID], resident: opening.payload.resident,
                                                purpose: purpose, fields: [], outcome: .refused, basis: "no consent for personal-details", logPosition: head))
            throw refusal
        }
        let state = try personalDataState(opening.payload.personalData, of: opening.payload.resident, recordedAt: opening.position)
        let record = try accessLog.record(AccessLogEntry(reader: reader, action: .personalDetails, cases: [caseID], resident: opening.payload.resident,
                                                         purpose: purpose, fields: state.fieldNames, outcome: .granted,
                                                         basis: basis.description, logPosition: head))
        return PersonalDetailsRead(caseID: caseID, resident: opening.payload.resident, basis: basis, details: state, access: record)
    }

    /// Finds a resident by CPR number and lists the cases `reader`'s organisation may see.
    ///
    /// The CPR number becomes the pseudonym with the store's secret here and goes no
    /// further: the access log records the pseudonym. Visible are the cases the reader's
    /// organisation holds and those where a valid consent names it for
    /// `information-sharing` or `personal-details`; other cases are not mentioned at all.
    public func findResident(cpr: String, by reader: ReaderIdentity, purpose: String) throws -> ResidentLookup {
        let resident = try keys.pseudonym(forCPR: cpr)
        let head = try store.head().position
        let directory = try ResidentDirectory.scan(store)
        let today = store.clock().date
        var visible: [ResidentLookup.Case] = []
        for link in directory.links[resident] ?? [] where link.effective {
            guard let facts = directory.cases[link.caseID] else { continue }
            var basis: AccessBasis?
            if facts.organisation == reader.organisation {
                basis = .ownOrganisation
            } else if let state = try store.consentState(ofCase: link.caseID),
                      let c = state.consents.first(where: { $0.covers(party: reader.organisation, purpose: .informationSharing, on: today)
                                                            || $0.covers(party: reader.organisation, purpose: .personalDetails, on: today) }) {
                basis = .consent(c.consentId)
            }
            if let basis { visible.append(.init(caseID: facts.caseID, organisation: facts.organisation, isOpen: facts.isOpen, basis: basis)) }
        }
        let record = try accessLog.record(AccessLogEntry(reader: reader, action: .residentLookup, cases: visible.map(\.caseID), resident: resident,
                                                         purpose: purpose, fields: ["case-ids"], outcome: .granted,
                                                         basis: visible.isEmpty ? "no visible cases" : "own organisation or consent per case",
                                                         logPosition: head))
        return ResidentLookup(resident: resident, cases: visible, erased: directory.erasure(of: resident) != nil, access: record)
    }

    /// Whether the resident's personal data has been erased: an unretracted
    /// `ResidentErased` is in the log (even if a crash left the key for `forget` to finish).
    public func isErased(_ resident: Pseudonym) throws -> Bool {
        try erasurePosition(of: resident) != nil
    }

    // MARK: - Helpers shared by the privacy functions

    /// What `sealed` (recorded at `position`) reads as now. Details sealed before the
    /// resident's erasure read as erased even if the person later came back and has a new
    /// key, and even if a crash left the old key for `forget` to destroy. Details with no key
    /// and no erasure after them were sealed in another store (they came by export and
    /// import, which never carry keys): `.keyNotInStore`, not erased.
    func personalDataState(_ sealed: SealedData?, of resident: Pseudonym, recordedAt position: UInt64,
                           erasedAt: UInt64?? = nil) throws -> PersonalDataState {
        guard let sealed else { return .none }
        let erasure = try erasedAt ?? erasurePosition(of: resident)
        if let erasure, position < erasure { return .erased }
        if let details = try keys.open(sealed, for: resident) { return .present(details) }
        // A resident who came back may have been erased again after these details.
        if let latest = DataProtection.latestErasurePosition(in: try store.readStream(.resident(resident))), position < latest { return .erased }
        return .keyNotInStore
    }

    /// The position of the resident's first unretracted erasure, if any.
    func erasurePosition(of resident: Pseudonym) throws -> UInt64? {
        DataProtection.erasurePosition(in: try store.readStream(.resident(resident)))
    }

    /// The first unretracted `ResidentErased` among a resident stream's events.
    static func erasurePosition(in events: [RecordedEvent]) -> UInt64? {
        unretractedErasures(in: events).first?.position
    }

    /// The last unretracted `ResidentErased` among a resident stream's events: the erasure
    /// a key destruction carries out (a resident may come back and be erased again).
    static func latestErasurePosition(in events: [RecordedEvent]) -> UInt64? {
        unretractedErasures(in: events).last?.position
    }

    /// The `ResidentErased` events of a resident stream that are not retracted, in order.
    private static func unretractedErasures(in events: [RecordedEvent]) -> [RecordedEvent] {
        let retracted = retractedIDs(events)
        return events.filter { e in
            if case .residentErased = e.payload { return !retracted.contains(e.id) }
            return false
        }
    }

    static func retractedIDs(_ events: [RecordedEvent]) -> Set<UUID> {
        Set(events.compactMap { if case .eventRetracted(let r) = $0.payload { r.retractedEventId } else { nil } })
    }

    /// The case's last unretracted `CaseOpened`, with its position.
    static func effectiveOpening(_ events: [RecordedEvent]) -> (position: UInt64, payload: CaseOpened)? {
        let retracted = retractedIDs(events)
        for e in events.reversed() where !retracted.contains(e.id) {
            if case .caseOpened(let p) = e.payload { return (e.position, p) }
        }
        return nil
    }

    /// Own organisation, or a consent covering personal details today; else the refusal.
    static func basis(for reader: ReaderIdentity, owner: OrganisationID, consents: CaseConsentState, on day: CalendarDate) throws -> AccessBasis {
        if reader.organisation == owner { return .ownOrganisation }
        if let c = consents.consents.first(where: { $0.covers(party: reader.organisation, purpose: .personalDetails, on: day) }) {
            return .consent(c.consentId)
        }
        let naming = consents.consents.filter { $0.parties.contains(reader.organisation) }
        var why: [String] = []
        if naming.isEmpty {
            why.append("no consent in the case names '\(reader.organisation)'")
        }
        for c in naming {
            if c.lapsed {
                why.append("consent '\(c.consentId)' was withdrawn or lapsed \(consents.open ? "" : "when the case closed")".trimmingCharacters(in: .whitespaces))
            } else if !c.purposes.contains(.personalDetails) {
                why.append("consent '\(c.consentId)' covers \(c.purposes.map { "'\($0.rawValue)'" }.joined(separator: ", ")) but not 'personal-details'")
            } else if let until = c.validUntil, until < day {
                why.append("consent '\(c.consentId)' expired on \(until.danish)")
            }
        }
        var e = LogError(.ruleViolation, "\(reader.organisation) may not see the personal details of case '\(consents.caseID)': missing consent for party '\(reader.organisation)' and purpose 'personal-details' valid on \(day.danish) (\(why.joined(separator: "; "))). Record the resident's consent for that party and purpose first, or ask '\(owner)', which holds the case")
        e.rule = .consentRequired
        throw e
    }
}

extension EventStore {
    /// The position of the resident's first unretracted `ResidentErased` at or before
    /// `position` (default: the head), or nil if they are not erased (as of then).
    ///
    /// For views that never open sealed data but should say it is erased (history, audit).
    public func erasurePosition(of resident: Pseudonym, asOf position: UInt64 = .max) throws -> UInt64? {
        DataProtection.erasurePosition(in: try readStream(.resident(resident)).filter { $0.position <= position })
    }
}

/// Why a reader was allowed to see a case's personal data.
public enum AccessBasis: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The reader's organisation holds the case.
    case ownOrganisation
    /// A consent of the case names the reader's organisation for the purpose.
    case consent(String)

    public var description: String {
        switch self {
        case .ownOrganisation: "own organisation"
        case .consent(let id): "consent \(id)"
        }
    }
}

/// What a sealed record of personal details reads as.
public enum PersonalDataState: Sendable, Hashable, Encodable {
    /// No details were recorded.
    case none
    /// The details, opened with the resident's key.
    case present(PersonalDetails)
    /// The resident was erased: the key is destroyed and the details can never be read.
    case erased
    /// No erasure is recorded, but this store has no key for the details: they were sealed
    /// in another store and reached this one by export and import, which never carry keys
    /// (move a store with `referral backup` instead).
    case keyNotInStore

    /// The names of the fields shown, for the access log (never the values).
    public var fieldNames: [String] {
        guard case .present(let d) = self else { return [] }
        return ["cpr", "name"] + [d.phone.map { _ in "phone" }, d.email.map { _ in "email" }, d.address.map { _ in "address" }].compactMap { $0 }
    }

    public var details: PersonalDetails? {
        if case .present(let d) = self { d } else { nil }
    }

    private enum Keys: String, CodingKey { case status, details }

    /// `{"status":"present","details":{…}}`, `{"status":"erased"}`,
    /// `{"status":"key-not-in-store"}` or `{"status":"none"}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .none: try c.encode("none", forKey: .status)
        case .erased: try c.encode("erased", forKey: .status)
        case .keyNotInStore: try c.encode("key-not-in-store", forKey: .status)
        case .present(let d):
            try c.encode("present", forKey: .status)
            try c.encode(d, forKey: .details)
        }
    }
}

/// The outcome of a gated read of a case's personal details.
public struct PersonalDetailsRead: Sendable, Hashable {
    public var caseID: String
    public var resident: Pseudonym
    public var basis: AccessBasis
    public var details: PersonalDataState
    /// The access-log record of this read.
    public var access: AccessLogRecord
}

/// A resident found by CPR number, with the cases the reader may see.
public struct ResidentLookup: Sendable, Hashable {
    /// One case the reader may see.
    public struct Case: Sendable, Hashable, Codable {
        public var caseID: String
        public var organisation: OrganisationID
        public var isOpen: Bool
        public var basis: AccessBasis
    }

    public var resident: Pseudonym
    public var cases: [Case]
    /// Whether the resident has been erased (their details can no longer be read).
    public var erased: Bool
    public var access: AccessLogRecord
}
