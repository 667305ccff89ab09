import Foundation
import Testing
@testable import ReferralEvents

/// `verify` first compares each index with the log in scans in key order
/// (`verifyInKeyOrder`) and looks events up one by one (`verifyByLookUp`) only when those
/// find something wrong. Each damage below must be caught by the scans themselves, and
/// `verify` must then report what the look-ups report.
@Suite struct VerifyScanTests {
    let f: Fixture
    let stream = StreamID.resident(StreamIndexTests.resident)
    let other = StreamID.resident(Pseudonym(high: 8, low: 1))
    /// Position of version `v` of `stream` (its events follow the registry, 130 of them,
    /// then `other`'s 3).
    func position(_ v: Int) -> UInt64 { UInt64(Fixture.registry.count + v) }

    init() throws {
        f = try Fixture()
        // Three chunks (versions 1, 65 and 129) for one stream, one for another.
        try f.store.append(StreamIndexTests.decisions(130, from: 0))
        try f.store.append((0..<3).map { i in
            Fixture.event(.resident(Pseudonym(high: 8, low: 1)), .erasureRefused(.init(resident: Pseudonym(high: 8, low: 1), reason: "Sagen kører \(i)", legalBasis: "Arkivloven")))
        })
    }

    func scanned() throws -> VerifyReport { try f.store.verifyInKeyOrder(expectedHead: nil, progress: nil).report }

    /// The scans find the damage, and `verify` reports the look-ups' first bad position.
    func expectFound(_ what: Comment, at first: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try !scanned().isValid, "the scans in key order miss: \(what)", sourceLocation: sourceLocation)
        let report = try f.store.verify()
        #expect(report == (try f.store.verifyByLookUp(expectedHead: nil, progress: nil)), sourceLocation: sourceLocation)
        #expect(report.failure?.code == .corrupt, "\(what)", sourceLocation: sourceLocation)
        #expect(report.failure?.position == first, "\(what): \(report.failure?.message ?? "not found")", sourceLocation: sourceLocation)
    }

    func write(_ body: (Transaction) throws -> Void) throws { try f.store.env.write { txn in try body(txn) } }

    func positions(_ versions: ClosedRange<Int>) -> [UInt64] { versions.map(position) }

    @Test func aSoundLogPassesBothWaysWithTheSameReport() throws {
        let scans = try scanned()
        #expect(scans.isValid && scans.eventsChecked == UInt64(Fixture.registry.count + 133))
        #expect(scans == (try f.store.verifyByLookUp(expectedHead: nil, progress: nil)))
        let head = try f.store.head()
        #expect(scans.head == head)
        #expect(try f.store.verifyInKeyOrder(expectedHead: head, progress: nil).report.isValid)
        // A head file the sound log does not match: the scans' report is final, and the
        // look-ups' own.
        var rewritten = head
        rewritten.hash = String(repeating: "0", count: 64)
        var ahead = head
        ahead.position += 5
        for wrong in [rewritten, ahead] {
            let scans = try f.store.verifyInKeyOrder(expectedHead: wrong, progress: nil)
            #expect(scans.final && !scans.report.isValid)
            #expect(scans.report == (try f.store.verifyByLookUp(expectedHead: wrong, progress: nil)))
        }
    }

    @Test func anEmptyLogPassesWithTheZeroHead() throws {
        let empty = try Fixture(seed: false)
        let scans = try empty.store.verifyInKeyOrder(expectedHead: nil, progress: nil).report
        #expect(scans == (try empty.store.verifyByLookUp(expectedHead: nil, progress: nil)))
        #expect(scans.isValid && scans.eventsChecked == 0 && scans.head.recordedAt == nil)
    }

    @Test func twoIdsPointingAtEachOthersEventsAreFound() throws {
        let a = try #require(try f.store.event(at: position(10))).id, b = try #require(try f.store.event(at: position(20))).id
        try write { txn in
            try txn.put(f.store.eventIDs, uuidKey(a), bigEndianKey(position(20)))
            try txn.put(f.store.eventIDs, uuidKey(b), bigEndianKey(position(10)))
        }
        try expectFound("two ids swapped", at: position(10))
    }

    @Test func anIdIndexEntryMissingOrExtraIsFound() throws {
        let a = try #require(try f.store.event(at: position(5))).id
        try write { txn in _ = try txn.delete(f.store.eventIDs, uuidKey(a)) }
        try expectFound("an id entry deleted", at: position(5))
        try write { txn in
            try txn.put(f.store.eventIDs, uuidKey(a), bigEndianKey(position(5)))
            try txn.put(f.store.eventIDs, uuidKey(UUID()), bigEndianKey(position(6)))
        }
        try expectFound("an extra id entry", at: position(133) + 1)
    }

    @Test func aMissingMiddleChunkIsFound() throws {
        // Versions 65…128 gone from the index: the stream's chunks jump from 1 to 129.
        try write { txn in _ = try txn.delete(f.store.streams, StreamIndex.key(stream, 65)) }
        try expectFound("the middle chunk deleted", at: position(65))
    }

    @Test func chunksWhoseContentsAreSwappedAreFound() throws {
        // Each chunk still holds 64 ascending positions, but under the other's versions.
        try write { txn in
            try txn.put(f.store.streams, StreamIndex.key(stream, 1), StreamIndex.encode(positions(65...128)))
            try txn.put(f.store.streams, StreamIndex.key(stream, 65), StreamIndex.encode(positions(1...64)))
        }
        try expectFound("two chunks swapped", at: position(1))
    }

    @Test func aChunkOutOfPlaceOrMalformedIsFound() throws {
        // The last chunk keyed one version late (130 instead of 129).
        try write { txn in
            _ = try txn.delete(f.store.streams, StreamIndex.key(stream, 129))
            try txn.put(f.store.streams, StreamIndex.key(stream, 130), StreamIndex.encode(positions(129...130)))
        }
        try expectFound("a chunk keyed at an unaligned version", at: position(129))
        // Put back, then a chunk whose bytes end inside a varint.
        try write { txn in
            _ = try txn.delete(f.store.streams, StreamIndex.key(stream, 130))
            try txn.put(f.store.streams, StreamIndex.key(stream, 129), StreamIndex.encode(positions(129...130)))
        }
        #expect(try f.store.verify().isValid)
        try write { txn in try txn.put(f.store.streams, StreamIndex.key(other, 1), [0x80]) }
        try expectFound("a malformed chunk", at: position(131))
    }

    @Test func anEntryMovedFromOneStreamToAnotherIsFound() throws {
        // `other`'s version 3 is indexed under `stream` as its version 131 instead: the
        // counts still add up and every chunk is well-formed.
        try write { txn in
            try txn.put(f.store.streams, StreamIndex.key(other, 1), StreamIndex.encode([position(131), position(132)]))
            try txn.put(f.store.streams, StreamIndex.key(stream, 129), StreamIndex.encode(positions(129...130) + [position(133)]))
        }
        try expectFound("an entry moved to another stream", at: position(133))
    }

    @Test func aStreamWhosePositionsGoBackAcrossChunksIsFound() throws {
        // The second chunk's first position lowered below the first chunk's last.
        try write { txn in
            try txn.put(f.store.streams, StreamIndex.key(stream, 65), StreamIndex.encode([position(64) - 1] + positions(66...128)))
        }
        try expectFound("positions going back between chunks", at: position(65))
    }

    // The log's own stream versions, rewritten and chained again (as a faulty writer or a
    // forger with the whole file could), with the index made to agree with them: only the
    // stream index's order tells.

    /// Gives the events at the positions in `versions` those versions, encodes them again and
    /// chains every later record to them.
    func rewriteVersions(_ versions: [UInt64: UInt64]) throws {
        let all = try f.store.read()
        let first = try #require(versions.keys.min())
        try write { txn in
            var previous = all[Int(first) - 2].envelope.hash
            for e in all where e.position >= first {
                let proposed = ProposedEvent(id: e.id, stream: e.stream, payload: e.payload, occurredAt: e.envelope.occurredAt,
                                             actor: e.envelope.actor, organisation: e.envelope.organisation,
                                             correlationId: e.envelope.correlationId, causationId: e.envelope.causationId)
                let (bytes, hash) = try EventRecord.encode(proposed, position: e.position, version: versions[e.position] ?? e.envelope.version,
                                                           recordedAt: e.envelope.recordedAt, previousHash: previous)
                try txn.put(f.store.events, bigEndianKey(e.position), bytes)
                previous = hash
            }
        }
    }

    @Test func aStreamThatSkipsAWholeChunkInTheLogAndTheIndexIsFound() throws {
        // Versions 65…130 become 129…194: the stream jumps from 64 to 129.
        try rewriteVersions(Dictionary(uniqueKeysWithValues: (65...130).map { (position($0), UInt64($0 + 64)) }))
        try write { txn in
            _ = try txn.delete(f.store.streams, StreamIndex.key(stream, 65))
            try txn.put(f.store.streams, StreamIndex.key(stream, 129), StreamIndex.encode(positions(65...128)))
            try txn.put(f.store.streams, StreamIndex.key(stream, 193), StreamIndex.encode(positions(129...130)))
        }
        try expectFound("versions 65…128 skipped, the index agreeing", at: position(65))
    }

    @Test func aStreamWhoseVersionsGoBackAcrossAChunkInTheLogAndTheIndexIsFound() throws {
        // Versions 64 and 65 exchanged: version 65 is written before version 64.
        try rewriteVersions([position(64): 65, position(65): 64])
        try write { txn in
            try txn.put(f.store.streams, StreamIndex.key(stream, 1), StreamIndex.encode(positions(1...63) + [position(65)]))
            try txn.put(f.store.streams, StreamIndex.key(stream, 65), StreamIndex.encode([position(64)] + positions(66...128)))
        }
        try expectFound("versions 64 and 65 out of order, the index agreeing", at: position(64))
    }
}
