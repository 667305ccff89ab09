import Crypto
import Foundation

/// The stored byte layout of one event (format 1). See `docs/storage-format.md`.
///
/// ```
/// offset size
///  0      1   format (1)
///  1      1   schema version
///  2      2   type code            (little-endian, like every integer here)
///  4      1   flags: bit 0 correlation id present, bit 1 causation id present
///  5      1   reserved (0)
///  6      2   stream id length S
///  8      8   position
/// 16      8   stream version
/// 24      8   occurred at (ms since epoch, UTC)
/// 32      8   recorded at (ms since epoch, UTC)
/// 40     16   event id (UUID bytes)
/// 56     32   previous event's hash
/// 88      2   actor length A
/// 90      2   organisation length O
/// 92      4   payload length P
/// 96      S   stream id (UTF-8), then A actor, O organisation,
///             16 correlation id if flagged, 16 causation id if flagged, P payload
/// end-32 32   SHA-256 of every byte before it
/// ```
public enum EventRecord {
    public static let format: UInt8 = 1
    public static let headerSize = 96
    public static let hashSize = 32

    /// Encodes a new event for `position`, chained to `previousHash`. Returns the stored bytes
    /// (hash included) and the hash.
    ///
    /// - Throws: `LogError.invalidInput` when the stream, actor or organisation is longer than
    ///   65,535 bytes or the payload longer than 4 GiB (the store refuses far less long before).
    public static func encode(_ event: ProposedEvent, position: UInt64, version: UInt64, recordedAt: Timestamp,
                              previousHash: Digest) throws -> (bytes: [UInt8], hash: Digest) {
        var w = BinaryWriter(capacity: 0)
        let hash = try encode(event, position: position, version: version, recordedAt: recordedAt,
                              previousHash: ChainHash(previousHash), into: &w)
        return (w.bytes, hash.digest)
    }

    /// Encodes a new event into `w` (emptied first, its capacity kept) and returns its hash.
    /// Append encodes a whole batch through one writer and chains the hashes inline: a
    /// record buffer and a digest array per event were two allocations an event.
    static func encode(_ event: borrowing ProposedEvent, position: UInt64, version: UInt64, recordedAt: Timestamp,
                       previousHash: ChainHash, into w: inout BinaryWriter) throws -> ChainHash {
        // One buffer, written front to back: the payload goes in place and its length is
        // patched into the header afterwards (no separate payload buffer, no copies of the
        // stream, actor and organisation).
        let type = event.payload.type
        let streamCount = event.stream.rawValue.utf8.count
        let actorCount = event.actor.utf8.count
        let orgCount = event.organisation.utf8.count
        guard streamCount <= Int(UInt16.max), actorCount <= Int(UInt16.max), orgCount <= Int(UInt16.max) else {
            throw LogError(.invalidInput, "an event's stream, actor or organisation is longer than 65,535 bytes; shorten it")
        }
        w.reset(capacity: headerSize + streamCount + actorCount + orgCount + 32 + 256 + hashSize)
        // The fixed header in one go (one append, then stores in place), not field by field.
        w.fixed(headerSize) { h in
            h[0] = format
            h[1] = type.schemaVersion
            h.storeBytes(of: type.code.littleEndian, toByteOffset: 2, as: UInt16.self)
            h[4] = (event.correlationId == nil ? 0 : 1) | (event.causationId == nil ? 0 : 2)
            h.storeBytes(of: UInt16(streamCount).littleEndian, toByteOffset: 6, as: UInt16.self)
            h.storeBytes(of: position.littleEndian, toByteOffset: 8, as: UInt64.self)
            h.storeBytes(of: version.littleEndian, toByteOffset: 16, as: UInt64.self)
            h.storeBytes(of: event.occurredAt.millisecondsSinceEpoch.littleEndian, toByteOffset: 24, as: Int64.self)
            h.storeBytes(of: recordedAt.millisecondsSinceEpoch.littleEndian, toByteOffset: 32, as: Int64.self)
            withUnsafeBytes(of: event.id.uuid) { UnsafeMutableRawBufferPointer(rebasing: h[40..<56]).copyMemory(from: $0) }
            withUnsafeBytes(of: previousHash.words) { UnsafeMutableRawBufferPointer(rebasing: h[56..<88]).copyMemory(from: $0) }
            h.storeBytes(of: UInt16(actorCount).littleEndian, toByteOffset: 88, as: UInt16.self)
            h.storeBytes(of: UInt16(orgCount).littleEndian, toByteOffset: 90, as: UInt16.self)
            // 92: the payload length, patched below.
        }
        w.utf8(event.stream.rawValue)
        w.utf8(event.actor)
        w.utf8(event.organisation)
        if let c = event.correlationId { w.uuid(c) }
        if let c = event.causationId { w.uuid(c) }
        let payloadStart = w.bytes.count
        event.payload.encodeBinary(to: &w)
        let payloadCount = w.bytes.count - payloadStart
        guard payloadCount <= Int(UInt32.max) else {
            throw LogError(.invalidInput, "an event's payload is longer than 4 GiB; shorten it")
        }
        w.patchU32(at: 92, UInt32(payloadCount))
        let hash = ChainHash(sha256Of: w.bytes)
        withUnsafeBytes(of: hash.words) { w.raw($0) }
        return hash
    }

    /// Decodes a stored record completely, checking its structure (not its hash; see `verify`).
    public static func decode(_ buffer: UnsafeRawBufferPointer) throws -> RecordedEvent {
        let view = try EventView(checking: buffer)
        return try view.decode()
    }

    /// SHA-256 over the record without its trailing hash.
    static func computeHash(_ buffer: UnsafeRawBufferPointer) -> Digest {
        Digest(bytes: Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count - hashSize)]))))
    }
}

/// A SHA-256 digest held inline (four words, no array), for chaining a batch's records.
struct ChainHash {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ digest: Digest) {
        digest.bytes.withUnsafeBytes { src in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: src) }
        }
    }

    /// Through swift-crypto's public `SHA256` only. Calling its internal BoringSSL target
    /// directly saved a context allocation an event (about 4% of append's instructions)
    /// but would tie the log to another package's implementation details.
    init(sha256Of bytes: [UInt8]) {
        let digest = bytes.withUnsafeBytes { SHA256.hash(data: $0) }
        digest.withUnsafeBytes { src in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: src) }
        }
    }

    var digest: Digest { withUnsafeBytes(of: words) { Digest(bytes: Array($0)) } }
}

/// A zero-copy look at one stored event, for replay.
///
/// Reads the type, stream, position and times at fixed offsets without decoding or
/// allocating; `payload()` and `decode()` decode on demand. Valid only inside the
/// closure that handed it out: it points into an LMDB page that is gone after the read
/// transaction ends. Copy out what must live longer.
public struct EventView {
    /// The whole stored record.
    public let buffer: UnsafeRawBufferPointer

    /// Checks the record's structure: format, known type, lengths that add up.
    public init(checking buffer: UnsafeRawBufferPointer) throws {
        guard buffer.count >= EventRecord.headerSize + EventRecord.hashSize else {
            throw LogError.corrupt("stored record is \(buffer.count) bytes, shorter than the smallest possible event")
        }
        guard buffer[0] == EventRecord.format else {
            throw LogError(.unsupportedFormat, "stored record has format \(buffer[0]); this build reads format \(EventRecord.format)")
        }
        self.buffer = buffer
        let expected = EventRecord.headerSize + streamLength + actorLength + organisationLength
            + (hasCorrelation ? 16 : 0) + (hasCausation ? 16 : 0) + payloadLength + EventRecord.hashSize
        guard expected == buffer.count else {
            throw LogError.corrupt("stored record is \(buffer.count) bytes but its header describes \(expected)")
        }
        guard let t = EventType.byCode(typeCode), t.schemaVersion == buffer[1] else {
            throw LogError(.unsupportedFormat, "stored record has unknown event type code \(typeCode) version \(buffer[1])")
        }
    }

    /// Trusts the record's structure; for the replay path over a log this process wrote.
    @inline(__always)
    public init(unchecked buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    @inline(__always) func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
        T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    public var typeCode: UInt16 { load(2, UInt16.self) }
    public var type: EventType? { EventType.byCode(typeCode) }
    var flags: UInt8 { buffer[4] }
    var hasCorrelation: Bool { flags & 1 != 0 }
    var hasCausation: Bool { flags & 2 != 0 }
    var streamLength: Int { Int(load(6, UInt16.self)) }
    public var position: UInt64 { load(8, UInt64.self) }
    public var version: UInt64 { load(16, UInt64.self) }
    public var occurredAt: Timestamp { Timestamp(millisecondsSinceEpoch: load(24, Int64.self)) }
    public var recordedAt: Timestamp { Timestamp(millisecondsSinceEpoch: load(32, Int64.self)) }
    var actorLength: Int { Int(load(88, UInt16.self)) }
    var organisationLength: Int { Int(load(90, UInt16.self)) }
    var payloadLength: Int { Int(load(92, UInt32.self)) }

    /// The stream id's UTF-8 bytes, without making a String.
    public var streamBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[96..<(96 + streamLength)])
    }

    public var stream: StreamID { StreamID(String(decoding: streamBytes, as: UTF8.self)) }

    /// Whether the stream id starts with `prefix` (e.g. `case-`), without making a String.
    public func streamHasPrefix(_ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard streamLength >= n else { return false }
        return memcmp(buffer.baseAddress! + 96, prefix.utf8Start, n) == 0
    }

    public var id: UUID {
        let b = buffer
        return UUID(uuid: (b[40], b[41], b[42], b[43], b[44], b[45], b[46], b[47], b[48], b[49], b[50], b[51], b[52], b[53], b[54], b[55]))
    }

    /// The event id's 16 bytes.
    var idBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[40..<56]) }
    public var previousHashBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[56..<88]) }
    public var hashBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[(buffer.count - 32)...]) }
    public var previousHash: Digest { Digest(bytes: Array(previousHashBytes)) }
    public var hash: Digest { Digest(bytes: Array(hashBytes)) }

    var payloadOffset: Int {
        96 + streamLength + actorLength + organisationLength + (hasCorrelation ? 16 : 0) + (hasCausation ? 16 : 0)
    }

    /// The payload's stored bytes.
    public var payloadBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[payloadOffset..<(payloadOffset + payloadLength)])
    }

    /// Decodes just the payload.
    public func payload() throws -> EventPayload {
        guard let t = type else { throw LogError(.unsupportedFormat, "unknown event type code \(typeCode)") }
        var r = BinaryReader(payloadBytes)
        return try EventPayload.decode(type: t, from: &r)
    }

    /// Decodes a payload struct of a known type directly, e.g. `try view.decode(ReferralMade.self)`.
    public func decode<P: BinaryPayload>(_: P.Type) throws -> P {
        var r = BinaryReader(payloadBytes)
        return try P(from: &r)
    }

    /// Decodes the whole event: envelope and payload. A record that cannot be decoded is
    /// reported as damaged at its position.
    public func decode() throws -> RecordedEvent {
        do {
            return try decodeRecord()
        } catch var e as LogError where e.code == .corrupt && e.position == nil {
            e.position = position
            e.message = "position \(position): " + e.message
            throw e
        }
    }

    /// `decode()` without the position added to an error (for `verify`, which names it).
    func decodeRecord() throws -> RecordedEvent {
        guard let t = type else { throw LogError(.unsupportedFormat, "unknown event type code \(typeCode)") }
        var r = BinaryReader(buffer, offset: 96)
        let stream = try r.utf8(count: streamLength)
        let actor = try r.utf8(count: actorLength)
        let org = try r.utf8(count: organisationLength)
        let corr = hasCorrelation ? try r.uuid() : nil
        let caus = hasCausation ? try r.uuid() : nil
        var pr = BinaryReader(try r.bytes(payloadLength))
        let payload = try EventPayload.decode(type: t, from: &pr)
        let envelope = EventEnvelope(
            position: position, id: id, stream: StreamID(stream), version: version, type: t,
            occurredAt: occurredAt, recordedAt: recordedAt, actor: actor, organisation: org,
            correlationId: corr, causationId: caus, previousHash: previousHash, hash: hash)
        return RecordedEvent(envelope: envelope, payload: payload)
    }

    /// Whether the stored hash matches the bytes.
    public var hashIsValid: Bool {
        let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count - EventRecord.hashSize)]))
        return digest.withUnsafeBytes { memcmp($0.baseAddress!, hashBytes.baseAddress!, EventRecord.hashSize) == 0 }
    }
}

#if canImport(Glibc)
import Glibc
#endif
