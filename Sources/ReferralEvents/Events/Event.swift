import Foundation

/// How the writer expects a stream to look when its events are appended
/// (optimistic concurrency, as in EventStoreDB).
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// No check.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream must exist, at any version.
    case streamExists
    /// The stream's last event must have exactly this version (versions start at 1).
    case exactly(UInt64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .streamExists: "stream exists"
        case .exactly(let v): "version \(v)"
        }
    }
}

/// An event to append: the fact plus who recorded it and when it happened.
///
/// The log assigns position, stream version, recorded-at and the hashes.
public struct ProposedEvent: Sendable, Hashable {
    /// Makes appends idempotent: re-sending an id already in the log returns its original position.
    /// Defaults to a time-ordered UUID (version 7, `UUID.timeOrdered()`), which keeps the
    /// log's id index growing at one end; any UUID is accepted.
    public var id: UUID
    public var stream: StreamID
    public var payload: EventPayload
    /// When it happened in the world.
    public var occurredAt: Timestamp
    /// Who recorded it (a liaison id or user name).
    public var actor: String
    /// On whose behalf.
    public var organisation: OrganisationID
    public var correlationId: UUID?
    public var causationId: UUID?

    public init(id: UUID = .timeOrdered(), stream: StreamID, payload: EventPayload, occurredAt: Timestamp,
                actor: String, organisation: OrganisationID, correlationId: UUID? = nil, causationId: UUID? = nil) {
        self.id = id
        self.stream = stream
        self.payload = payload
        self.occurredAt = occurredAt
        self.actor = actor
        self.organisation = organisation
        self.correlationId = correlationId
        self.causationId = causationId
    }
}

/// The envelope every stored event carries.
public struct EventEnvelope: Sendable, Hashable {
    /// Gapless, from 1.
    public var position: UInt64
    public var id: UUID
    public var stream: StreamID
    /// Version in the stream, from 1.
    public var version: UInt64
    public var type: EventType
    public var occurredAt: Timestamp
    /// When it entered the log; never decreases along the log.
    public var recordedAt: Timestamp
    public var actor: String
    public var organisation: OrganisationID
    public var correlationId: UUID?
    public var causationId: UUID?
    /// The previous event's hash (32 zero bytes for position 1).
    public var previousHash: Digest
    /// SHA-256 over this event's stored bytes, which include `previousHash`.
    public var hash: Digest

    public init(position: UInt64, id: UUID, stream: StreamID, version: UInt64, type: EventType,
                occurredAt: Timestamp, recordedAt: Timestamp, actor: String, organisation: OrganisationID,
                correlationId: UUID?, causationId: UUID?, previousHash: Digest, hash: Digest) {
        self.position = position
        self.id = id
        self.stream = stream
        self.version = version
        self.type = type
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.actor = actor
        self.organisation = organisation
        self.correlationId = correlationId
        self.causationId = causationId
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// An event as stored in the log: envelope and payload.
public struct RecordedEvent: Sendable, Hashable {
    public var envelope: EventEnvelope
    public var payload: EventPayload

    public init(envelope: EventEnvelope, payload: EventPayload) {
        self.envelope = envelope
        self.payload = payload
    }

    public var position: UInt64 { envelope.position }
    public var id: UUID { envelope.id }
    public var stream: StreamID { envelope.stream }
}

/// A SHA-256 digest: 32 bytes.
public struct Digest: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        self.bytes = bytes
    }

    /// The hash before position 1.
    public static let zero = Digest(bytes: [UInt8](repeating: 0, count: 32))

    public init?(hex: String) {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var b: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = hexValue(u[i]), let lo = hexValue(u[i + 1]) else { return nil }
            b.append(hi << 4 | lo)
        }
        bytes = b
    }

    public var hex: String { hexString(bytes) }
    public var description: String { hex }
}
