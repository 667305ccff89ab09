import Foundation
import Testing
@testable import ReferralEvents

/// Releasing the log's mapped pages (what a long replay does every 64 MiB) must never
/// change what a reader sees, and must only ever touch LMDB's own read-only map.
@Suite struct MapPageReleaseTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    @Test func replayReadsTheSameEventsWhenPagesAreReleasedUnderIt() throws {
        let cases = (0..<300).map { Fixture.opened("C\($0)") }
        try f.store.append(cases)
        let registryCount = Fixture.registry.count  // the fixture seeded the registry first
        var ids: [UUID] = [], positions: [UInt64] = [], streams: [String] = []
        try f.store.replay { view in
            // Drop every page between two records, so each record is read from a page
            // that was just unmapped and had to be faulted in again.
            try f.store.releaseMappedPages()
            ids.append(view.id)
            positions.append(view.position)
            streams.append(view.stream.rawValue)
            return true
        }
        #expect(ids.count == registryCount + 300)
        #expect(Array(ids.suffix(300)) == cases.map(\.id))
        #expect(positions == Array(1...UInt64(registryCount + 300)))
        #expect(streams.suffix(300) == (0..<300).map { "case-C\($0)" })
        try f.store.releaseMappedPages()
        #expect(try f.store.verify().isValid)
    }

    @Test func onlyTheLogsReadOnlyMapIsEverAcceptedForRelease() throws {
        let address: UInt = try f.store.env.read { txn in
            let record = try #require(try txn.get(f.store.events, bigEndianKey(1)))
            return UInt(bitPattern: record.baseAddress)  // 0, outside every map, if it were nil
        }
        let region = try #require(f.store.env.mapRegion(containing: address))
        #expect(region.start <= address && address < region.end)
        #expect(region.start % 4096 == 0)
        // Heap memory (which MADV_DONTNEED would zero) and another file are refused.
        let heap = [UInt8](repeating: 7, count: 64)
        heap.withUnsafeBytes { b in
            #expect(f.store.env.mapRegion(containing: UInt(bitPattern: b.baseAddress)) == nil)
        }
        #expect(MapPageReleaser.sharedReadOnlyMapping(containing: address, path: f.directory + "/keys.mdb") == nil)
    }
}

extension MapPageReleaseTests {
    /// The option a rebuild uses to bound its memory (`referral rebuild --low-memory`) reads the
    /// same events, in the same order, as a store opened without it. (Its 64 MiB release window
    /// is larger than a test log; releasing under every record is tested above.)
    @Test func aLowMemoryReplayReadsWhatAnOrdinaryReplayReads() throws {
        let cases = (0..<2000).map { Fixture.opened("L\($0)") }
        try f.store.append(cases)
        var expected: [UUID] = []
        try f.store.replay { expected.append($0.id); return true }
        try f.store.backup(to: f.directory + "-copy")
        let copy = try EventStore(at: f.directory + "-copy", lowMemoryReplay: true)
        #expect(copy.lowMemoryReplay)
        var seen: [UUID] = []
        try copy.replay { seen.append($0.id); return true }
        #expect(seen == expected)
        #expect(seen.count == Fixture.registry.count + 2000)
    }
}
