import Testing
@testable import ReferralEvents

/// The stored (binary) form: `EventRecord.encode` then `EventRecord.decode` gives back
/// every field, for every event type.
struct BinaryRoundTripTests {
    @Test(arguments: EventType.all)
    func storedFormRoundTrips(type: EventType) throws {
        for proposed in [Samples.full(type)] + [Samples.minimal(type)].compactMap({ $0 }) {
            let previous = Digest(bytes: (0..<32).map { UInt8($0 * 7 % 256) })
            let recordedAt = proposed.occurredAt.adding(days: 3)
            let (bytes, hash) = try EventRecord.encode(proposed, position: 4242, version: 17, recordedAt: recordedAt, previousHash: previous)
            let decoded = try bytes.withUnsafeBytes { try EventRecord.decode($0) }

            #expect(decoded.asProposed == proposed)
            #expect(decoded.payload == proposed.payload)
            #expect(decoded.envelope == EventEnvelope(
                position: 4242, id: proposed.id, stream: proposed.stream, version: 17, type: type,
                occurredAt: proposed.occurredAt, recordedAt: recordedAt, actor: proposed.actor,
                organisation: proposed.organisation, correlationId: proposed.correlationId,
                causationId: proposed.causationId, previousHash: previous, hash: hash))
            #expect(bytes.withUnsafeBytes { (try? EventView(checking: $0))?.hashIsValid } == true)
        }
    }

    /// Strings in a record are read as UTF-8: ASCII on its fast path, anything else validated,
    /// and a byte sequence that is not UTF-8 is refused wherever it sits (before, inside or
    /// after an eight-byte word of ASCII).
    @Test func recordStringsAreValidUTF8OrRefused() throws {
        func read(_ bytes: [UInt8]) throws -> String {
            try bytes.withUnsafeBytes { raw in
                var r = BinaryReader(raw)
                return try r.utf8(count: bytes.count)
            }
        }
        for text in ["", "R1", "jobcenter-fredericia", "Ærø Kommune", "K-Søren", "abcdefgh", "abcdefghæ", "🙂 godt"] {
            #expect(try read(Array(text.utf8)) == text)
        }
        for bad: [UInt8] in [[0xFF], [0xC3], Array("abcdefgh".utf8) + [0xC3], [0xC3] + Array("abcdefgh".utf8),
                             Array("abcd".utf8) + [0xED, 0xA0, 0x80] + Array("efgh".utf8), [0xC0, 0xAF]] {
            let e = #expect(throws: LogError.self) { try read(bad) }
            #expect(e?.code == .corrupt)
        }
    }

    @Test(arguments: EventType.all)
    func recordedSampleReencodesToTheSameBytes(type: EventType) throws {
        let sample = Samples.recorded(type)
        let e = sample.envelope
        let (bytes, hash) = try EventRecord.encode(sample.asProposed, position: e.position, version: e.version,
                                               recordedAt: e.recordedAt, previousHash: e.previousHash)
        #expect(hash == e.hash)
        #expect(try bytes.withUnsafeBytes { try EventRecord.decode($0) } == sample)
    }

    @Test func aFlippedByteBreaksTheHash() throws {
        let sample = Samples.recorded(.placementStarted)
        let e = sample.envelope
        var (bytes, _) = try EventRecord.encode(sample.asProposed, position: e.position, version: e.version,
                                            recordedAt: e.recordedAt, previousHash: e.previousHash)
        bytes[bytes.count - 40] ^= 1
        let valid = try bytes.withUnsafeBytes { try EventView(checking: $0).hashIsValid }
        #expect(!valid)
    }
}
