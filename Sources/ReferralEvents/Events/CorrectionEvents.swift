import Foundation

/// A recorded event was wrong. It stays in the log and in the audit, and every
/// projection leaves it out; the corrected fact is then recorded anew.
///
/// Appended to the same stream as the event it retracts. Who retracted it is the
/// envelope's actor.
public struct EventRetracted: Sendable, Hashable, Codable {
    public var retractedEventId: UUID
    public var reason: String

    public init(retractedEventId: UUID, reason: String) {
        self.retractedEventId = retractedEventId
        self.reason = reason
    }
}

/// A resident's key was destroyed (GDPR art. 17): their sealed personal data can no
/// longer be read anywhere, while the log, its chain and the statistics stay intact.
///
/// In the stream `resident-<pseudonym>`.
public struct ResidentErased: Sendable, Hashable, Codable {
    public var resident: Pseudonym
    public var reason: String
    public var legalBasis: String

    public init(resident: Pseudonym, reason: String, legalBasis: String) {
        self.resident = resident
        self.reason = reason
        self.legalBasis = legalBasis
    }
}

/// A request to erase a resident was refused, e.g. under the municipality's duty to
/// keep records. The key is kept.
public struct ErasureRefused: Sendable, Hashable, Codable {
    public var resident: Pseudonym
    public var reason: String
    public var legalBasis: String

    public init(resident: Pseudonym, reason: String, legalBasis: String) {
        self.resident = resident
        self.reason = reason
        self.legalBasis = legalBasis
    }
}
