import Foundation
import Testing
@testable import ReferralEvents

@Suite struct AppendTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    @Test func positionsAreGaplessAndChained() throws {
        try f.store.append([Fixture.opened(), Fixture.consent(), Fixture.referral()])
        let all = try f.store.read()
        #expect(all.map(\.position) == Array(1...UInt64(Fixture.registry.count + 3)))
        #expect(all[0].envelope.previousHash == Digest.zero)
        for (a, b) in zip(all, all.dropFirst()) { #expect(b.envelope.previousHash == a.envelope.hash) }
        let report = try f.store.verify()
        #expect(report.isValid)
        #expect(report.eventsChecked == UInt64(all.count))
    }

    @Test func streamVersionsStartAtOneAndReadBack() throws {
        try f.store.append([Fixture.opened(), Fixture.consent(), Fixture.referral()])
        let stream = try f.store.readStream(.case("C1"))
        #expect(stream.map(\.envelope.version) == [1, 2, 3])
        #expect(try f.store.streamVersion(.case("C1")) == 3)
        #expect(try f.store.readStream(.case("C1"), fromVersion: 2).count == 2)
        #expect(try f.store.readStream(.case("C")).isEmpty)  // a prefix of another stream is not that stream
    }

    @Test func conflictNamesStreamExpectedAndActual() throws {
        try f.store.append(Fixture.opened(), expected: .noStream)
        let e = #expect(throws: LogError.self) {
            try f.store.append(Fixture.consent(), expected: .exactly(5))
        }
        #expect(e?.code == .conflict)
        #expect(e?.stream == .case("C1"))
        #expect(e?.expected == .exactly(5))
        #expect(e?.actualVersion == 1)
        #expect(e?.message.contains("case-C1") == true)
        let again = #expect(throws: LogError.self) { try f.store.append(Fixture.opened("C1"), expected: .noStream) }
        #expect(again?.code == .conflict)
        #expect(try f.store.append(Fixture.consent(), expected: .exactly(1)).version == 2)
        let missing = #expect(throws: LogError.self) { try f.store.append(Fixture.opened("C9"), expected: .streamExists) }
        #expect(missing?.actualVersion == 0)
    }

    @Test func reappendingAnIDReturnsTheOriginalPositionAndWritesNothing() throws {
        let open = Fixture.opened()
        let first = try f.store.append(open)
        try f.store.append([Fixture.consent(), Fixture.referral()])
        let before = try f.store.head()
        let again = try f.store.append(open, expected: .noStream)  // the retry of a lost acknowledgement
        #expect(again.duplicate)
        #expect(again.position == first.position)
        #expect(try f.store.head() == before)
        let batch = try f.store.append([open, Fixture.consent("C1", id: "K2")])
        #expect(batch.events[0].duplicate && !batch.events[1].duplicate)
        #expect(batch.events[1].position == before.position + 1)
    }

    @Test func aBatchWithOneBadEventWritesNothing() throws {
        let before = try f.store.head()
        let bad = Fixture.referral("C1", to: "grocer-1")  // no consent covers the grocer
        let e = #expect(throws: LogError.self) {
            try f.store.append([Fixture.opened(), Fixture.consent(), bad])
        }
        #expect(e?.code == .ruleViolation)
        #expect(e?.rule == .consentRequired)
        #expect(e?.eventIndex == 2)
        #expect(e?.eventId == bad.id)
        #expect(try f.store.head() == before)
        #expect(try f.store.streamVersion(.case("C1")) == 0)
        // The rule state was rolled back too: the case can be opened now.
        try f.store.append(Fixture.opened())
    }

    @Test func duplicateIDsInsideOneBatchAreRefused() throws {
        let e1 = Fixture.opened()
        var e2 = Fixture.consent()
        e2.id = e1.id
        let e = #expect(throws: LogError.self) { try f.store.append([e1, e2]) }
        #expect(e?.code == .invalidInput)
    }

    @Test func recordedAtNeverDecreases() throws {
        try f.store.append([Fixture.opened()], recordedAt: Fixture.at(2024, 5, 1))
        let e = #expect(throws: LogError.self) {
            try f.store.append([Fixture.consent()], recordedAt: Fixture.at(2024, 4, 1))
        }
        #expect(e?.code == .invalidInput)
        let future = #expect(throws: LogError.self) {
            try f.store.append([Fixture.consent()], recordedAt: Fixture.at(2030, 1, 1))
        }
        #expect(future?.code == .invalidInput)
    }

    @Test func asKnownAtFindsTheLastPositionRecordedByThen() throws {
        try f.store.append([Fixture.opened("A")], recordedAt: Fixture.at(2024, 3, 1))
        try f.store.append([Fixture.opened("B")], recordedAt: Fixture.at(2024, 4, 1))
        try f.store.append([Fixture.opened("C")], recordedAt: Fixture.at(2024, 5, 1))
        let n = UInt64(Fixture.registry.count)
        #expect(try f.store.position(asKnownAt: Fixture.at(2024, 4, 15)) == n + 2)
        #expect(try f.store.position(asKnownAt: Fixture.at(2024, 4, 1)) == n + 2)
        #expect(try f.store.position(asKnownAt: Fixture.at(2000, 1, 1)) == 0)
        #expect(try f.store.position(asKnownAt: Fixture.at(2024, 6, 1)) == n + 3)
    }

    @Test func theMapGrowsInsteadOfFailing() throws {
        let small = try Fixture(initialMapSize: 256 << 10)
        let before = small.store.mapSize
        for chunk in 0..<20 {
            let batch = (0..<250).map { i in Fixture.opened("G\(chunk)-\(i)") }
            try small.store.append(batch)
        }
        #expect(small.store.mapSize > before)
        #expect(small.count == UInt64(Fixture.registry.count + 5000))
        #expect(try small.store.verify().isValid)
    }

    @Test func reopeningAStoreKeepsEverything() throws {
        try f.store.append([Fixture.opened(), Fixture.consent()])
        let head = try f.store.head()
        let reopened = try EventStore(at: f.directory)
        #expect(try reopened.head() == head)
        #expect(try reopened.verify(expectedHead: head).isValid)
    }

    @Test func openingAMissingStoreSaysHowToMakeOne() {
        let e = #expect(throws: LogError.self) { try EventStore(at: "/tmp/does-not-exist-\(UUID())") }
        #expect(e?.code == .notFound)
        #expect(e?.message.contains("referral init") == true)
    }

    @Test func emptyActorIsRefused() {
        var e = Fixture.opened()
        e.actor = ""
        let err = #expect(throws: LogError.self) { try f.store.append(e) }
        #expect(err?.code == .invalidInput)
        #expect(err?.message.contains("actor") == true)
    }
}

extension AppendTests {
    @Test func retryingAnOldBackdatedBatchIsIdempotent() throws {
        let batch = [Fixture.opened("OLD")]
        let first = try f.store.append(batch, recordedAt: Fixture.at(2024, 3, 1))
        try f.store.append([Fixture.opened("NEW")], recordedAt: Fixture.at(2024, 5, 1))
        let retry = try f.store.append(batch, recordedAt: Fixture.at(2024, 3, 1))
        #expect(retry.events[0].duplicate)
        #expect(retry.events[0].position == first.events[0].position)
    }
}
