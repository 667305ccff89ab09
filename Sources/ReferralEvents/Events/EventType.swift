/// An event's versioned type: its name, its schema version and the 16-bit code
/// it is stored under.
///
/// The CloudEvents `type` is `dk.referral.<name>.v<version>`, e.g.
/// `dk.referral.case-opened.v1`. Codes are never reused; a new schema version of an
/// event gets a new code, so old records always decode with the layout they were
/// written in.
public struct EventType: Sendable, Hashable, CustomStringConvertible {
    /// Stored in every record's header.
    public var code: UInt16
    /// Kebab-case name, e.g. `referral-made`.
    public var name: String
    public var schemaVersion: UInt8
    /// The stream category the event belongs in (`registry`, `case`, `agreement`, `resident`),
    /// or nil when it may stand in any stream (retractions).
    public var category: String?

    /// `dk.referral.referral-made.v1`.
    public var cloudEventType: String { "dk.referral.\(name).v\(schemaVersion)" }
    public var description: String { cloudEventType }

    public static let organisationRegistered = EventType(code: 1, name: "organisation-registered", schemaVersion: 1, category: "registry")
    public static let housingAreaRegistered = EventType(code: 2, name: "housing-area-registered", schemaVersion: 1, category: "registry")
    public static let liaisonRegistered = EventType(code: 3, name: "liaison-registered", schemaVersion: 1, category: "registry")
    public static let targetGroupDefined = EventType(code: 4, name: "target-group-defined", schemaVersion: 1, category: "registry")
    public static let caseOpened = EventType(code: 10, name: "case-opened", schemaVersion: 1, category: "case")
    public static let caseAssigned = EventType(code: 11, name: "case-assigned", schemaVersion: 1, category: "case")
    public static let consentGiven = EventType(code: 12, name: "consent-given", schemaVersion: 1, category: "case")
    public static let consentWithdrawn = EventType(code: 13, name: "consent-withdrawn", schemaVersion: 1, category: "case")
    public static let referralMade = EventType(code: 14, name: "referral-made", schemaVersion: 1, category: "case")
    public static let referralAnswered = EventType(code: 15, name: "referral-answered", schemaVersion: 1, category: "case")
    public static let jobcenterContactHeld = EventType(code: 16, name: "jobcenter-contact-held", schemaVersion: 1, category: "case")
    public static let placementStarted = EventType(code: 17, name: "placement-started", schemaVersion: 1, category: "case")
    public static let placementEnded = EventType(code: 18, name: "placement-ended", schemaVersion: 1, category: "case")
    public static let outcomeRecorded = EventType(code: 19, name: "outcome-recorded", schemaVersion: 1, category: "case")
    public static let caseClosed = EventType(code: 20, name: "case-closed", schemaVersion: 1, category: "case")
    public static let caseReopened = EventType(code: 21, name: "case-reopened", schemaVersion: 1, category: "case")
    public static let hoursAgreementMade = EventType(code: 30, name: "hours-agreement-made", schemaVersion: 1, category: "agreement")
    public static let sharedHoursLogged = EventType(code: 31, name: "shared-hours-logged", schemaVersion: 1, category: "agreement")
    public static let hoursAgreementEnded = EventType(code: 32, name: "hours-agreement-ended", schemaVersion: 1, category: "agreement")
    public static let eventRetracted = EventType(code: 40, name: "event-retracted", schemaVersion: 1, category: nil)
    public static let residentErased = EventType(code: 50, name: "resident-erased", schemaVersion: 1, category: "resident")
    public static let erasureRefused = EventType(code: 51, name: "erasure-refused", schemaVersion: 1, category: "resident")

    /// Every type this build can read and write.
    public static let all: [EventType] = [
        .organisationRegistered, .housingAreaRegistered, .liaisonRegistered, .targetGroupDefined,
        .caseOpened, .caseAssigned, .consentGiven, .consentWithdrawn, .referralMade, .referralAnswered,
        .jobcenterContactHeld, .placementStarted, .placementEnded, .outcomeRecorded, .caseClosed, .caseReopened,
        .hoursAgreementMade, .sharedHoursLogged, .hoursAgreementEnded, .eventRetracted, .residentErased, .erasureRefused,
    ]

    /// The type stored under `code`, or nil for a code this build does not know.
    public static func byCode(_ code: UInt16) -> EventType? {
        code < codeTable.count ? codeTable[Int(code)] : nil
    }

    /// The type named by a CloudEvents `type` (`dk.referral.case-opened.v1`) or a bare name
    /// (`case-opened`, meaning the newest version).
    public static func named(_ text: String) -> EventType? {
        all.first { $0.cloudEventType == text } ?? all.last { $0.name == text }
    }

    private static let codeTable: [EventType?] = {
        var table = [EventType?](repeating: nil, count: 64)
        for t in all { table[Int(t.code)] = t }
        return table
    }()
}
