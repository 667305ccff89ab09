/// What kind of showing of personal data an access-log entry records.
///
/// A struct with static members, like `DomainRule`, so new kinds of read do not break
/// callers that switch on the ones they know.
public struct AccessAction: Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A resident's sealed details (name, CPR number, contact) were opened and shown.
    public static let personalDetails = AccessAction("personal-details")
    /// A resident was looked up by CPR number and their cases listed.
    public static let residentLookup = AccessAction("resident-lookup")
    /// Everything held about a resident was exported for them (GDPR art. 15).
    public static let accessReport = AccessAction("access-report")
    /// A case's history was shown.
    public static let caseHistory = AccessAction("case-history")
    /// Case data left the building in an export.
    public static let export = AccessAction("export")

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// Whether the read was allowed. Refused attempts are logged too: a board auditing
/// access wants to see who tried.
public enum AccessOutcome: String, Sendable, Hashable, Codable {
    case granted, refused
}

/// Who read personal data: the person and the organisation they acted for.
///
/// Identity comes from the caller (the CLI's `--actor`/`--organisation` or environment);
/// authenticating it is outside the log.
public struct ReaderIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var actor: String
    public var organisation: OrganisationID

    public init(actor: String, organisation: OrganisationID) {
        self.actor = actor
        self.organisation = organisation
    }

    public var description: String { "\(actor) (\(organisation))" }
}

/// One read of personal data, as the access log keeps it: who, for which organisation,
/// which cases or resident, what kind of data and why — never the data itself.
public struct AccessLogEntry: Sendable, Hashable, Codable {
    public var reader: ReaderIdentity
    public var action: AccessAction
    /// The cases whose data was shown (or refused).
    public var cases: [String]
    /// The resident concerned, as a pseudonym (never a CPR number).
    public var resident: Pseudonym?
    /// Why the reader needed it, in their words (screened for CPR numbers).
    public var purpose: String
    /// The names of the fields shown (`name`, `cpr`, …), never their values.
    public var fields: [String]
    public var outcome: AccessOutcome
    /// What let the reader see it (`own-organisation`, `consent K1`), or why it was refused.
    public var basis: String
    /// The event log's head position when the data was read: which version was seen.
    public var logPosition: UInt64

    public init(reader: ReaderIdentity, action: AccessAction, cases: [String], resident: Pseudonym?, purpose: String,
                fields: [String], outcome: AccessOutcome, basis: String, logPosition: UInt64) {
        self.reader = reader
        self.action = action
        self.cases = cases
        self.resident = resident
        self.purpose = purpose
        self.fields = fields
        self.outcome = outcome
        self.basis = basis
        self.logPosition = logPosition
    }
}

/// An access-log entry as stored: numbered from 1, time-stamped by the log, and chained
/// by SHA-256 to the entry before it so that an entry removed from the middle or edited in
/// place shows (the end needs a head kept outside: `AccessLogHead`).
public struct AccessLogRecord: Sendable, Hashable, Codable {
    public var sequence: UInt64
    public var recordedAt: Timestamp
    public var entry: AccessLogEntry
    /// Hex of the previous record's hash (64 zeros for the first).
    public var previousHash: String
    /// Hex of SHA-256 over the previous hash and this record's stored body.
    public var hash: String
}

/// Which access-log records to list; every field left nil matches everything.
public struct AccessLogQuery: Sendable, Hashable {
    public var caseID: String?
    public var resident: Pseudonym?
    public var actor: String?
    public var organisation: OrganisationID?
    /// Recorded at or after.
    public var from: Timestamp?
    /// Recorded at or before.
    public var through: Timestamp?
    public var limit: Int

    public init(caseID: String? = nil, resident: Pseudonym? = nil, actor: String? = nil, organisation: OrganisationID? = nil,
                from: Timestamp? = nil, through: Timestamp? = nil, limit: Int = .max) {
        self.caseID = caseID
        self.resident = resident
        self.actor = actor
        self.organisation = organisation
        self.from = from
        self.through = through
        self.limit = limit
    }
}

/// The access log's last entry: what a head file records (`referral head`) so that
/// `verify --head` can tell entries removed from the end, or the whole log rewritten with
/// its hashes recomputed, from a sound log; the chain alone cannot, being unkeyed.
public struct AccessLogHead: Sendable, Hashable, Codable {
    /// The number of entries (the last one's sequence); 0 for an empty log.
    public var entries: UInt64
    /// Hex hash of the last entry (64 zeros when empty).
    public var hash: String

    public init(entries: UInt64, hash: String) {
        self.entries = entries
        self.hash = hash
    }
}

/// What `AccessLog.verify()` found.
public struct AccessLogVerifyReport: Sendable, Hashable {
    public var entriesChecked: UInt64
    /// Hex hash of the last record (64 zeros when empty).
    public var headHash: String
    /// The first problem, if any.
    public var failure: LogError?
    public var isValid: Bool { failure == nil }
}
