import Foundation
import Synchronization
import Testing
@testable import ReferralEvents

/// Group commit: concurrent appends share one transaction, each stays atomic on its own.
@Suite struct GroupCommitTests {
    let f: Fixture
    let committer: GroupCommitter

    init() throws {
        f = try Fixture()
        committer = GroupCommitter(store: f.store)
    }

    /// A case's opening, consent and referral, as one append.
    private func caseBatch(_ id: String) -> [ProposedEvent] {
        [Fixture.opened(id), Fixture.consent(id), Fixture.referral(id)]
    }

    /// Appends queued while the writer is held, so they are known to form one group.
    private func queued(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while committer.waiting < count {
            guard clock.now < deadline else { Issue.record("only \(committer.waiting) of \(count) appends queued"); return }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func manyConcurrentAppendersAreAllWrittenGaplessAndInStreamOrder() async throws {
        let before = f.count
        let tasks = 16, perTask = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    let id = "T\(t)"
                    _ = try await committer.append(Fixture.opened(id), expected: .noStream)
                    _ = try await committer.append(Fixture.consent(id), expected: .exactly(1))
                    for i in 0..<(perTask - 2) {
                        _ = try await committer.append(Fixture.event(.case(id), .caseAssigned(.init(liaisonId: i % 2 == 0 ? "fre-lis-02" : "fre-lis-01", reason: "\(i)"))),
                                                       expected: .exactly(UInt64(i + 2)))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(f.count == before + UInt64(tasks * perTask))
        for t in 0..<tasks {
            let stream = try f.store.readStream(.case("T\(t)"))
            #expect(stream.map(\.envelope.version) == Array(1...UInt64(perTask)))
            // The task's events are in its own order: the reasons 0, 1, 2, … follow open and consent.
            let reasons = stream.dropFirst(2).compactMap { e -> String? in
                if case .caseAssigned(let p) = e.payload { return p.reason } else { return nil }
            }
            #expect(reasons == (0..<(perTask - 2)).map(String.init))
        }
        #expect(try f.store.verify().isValid)
        let stats = committer.statistics
        #expect(stats.appends == tasks * perTask)
        #expect(stats.events == tasks * perTask)
        #expect(stats.commits >= 1 && stats.commits <= stats.appends)
        // Every commit applied appends and flushed them: both parts of its time were counted.
        #expect(stats.applying > .zero)
        #expect(stats.committing > .zero)
    }

    @Test func queuedAppendsShareOneCommitInArrivalOrder() async throws {
        committer.hold()
        async let a = committer.append(caseBatch("A"))
        try await queued(1)
        async let b = committer.append(caseBatch("B"))
        try await queued(2)
        async let c = committer.append(caseBatch("C"))
        try await queued(3)
        committer.release()
        let (ra, rb, rc) = try await (a, b, c)
        #expect(committer.statistics.commits == 1)
        let first = UInt64(Fixture.registry.count) + 1
        #expect(ra.events.map(\.position) == [first, first + 1, first + 2])
        #expect(rb.events.map(\.position) == [first + 3, first + 4, first + 5])
        #expect(rc.events.map(\.position) == [first + 6, first + 7, first + 8])
        #expect(rc.headPosition == first + 8)
        #expect(try f.store.verify().isValid)
    }

    @Test func aRuleViolationFailsOnlyItsOwnAppendAndLeavesNoTrace() async throws {
        committer.hold()
        async let good1 = committer.append(caseBatch("G1"))
        try await queued(1)
        // Opens case BAD, then refers without consent: the whole append must vanish, rule state included.
        async let bad = committer.append([Fixture.opened("BAD"), Fixture.referral("BAD")])
        try await queued(2)
        async let good2 = committer.append(caseBatch("G2"))
        try await queued(3)
        committer.release()

        let r1 = try await good1
        let r2 = try await good2
        do {
            _ = try await bad
            Issue.record("the append without consent was accepted")
        } catch let e as LogError {
            #expect(e.code == .ruleViolation)
            #expect(e.rule == .consentRequired)
            #expect(e.eventIndex == 1)
        }
        #expect(committer.statistics.commits == 1)
        let first = UInt64(Fixture.registry.count) + 1
        // The good appends are contiguous: the failed one took no positions.
        #expect(r1.events.map(\.position) == [first, first + 1, first + 2])
        #expect(r2.events.map(\.position) == [first + 3, first + 4, first + 5])
        #expect(f.count == first + 5)
        #expect(try f.store.streamVersion(.case("BAD")) == 0)
        // Case BAD was never opened, in the log or in the rule state: opening it now works.
        #expect(try f.store.append(Fixture.opened("BAD"), expected: .noStream).version == 1)
        #expect(try f.store.verify().isValid)
    }

    @Test func twoAppendsExpectingTheSameNewStreamInOneGroup() async throws {
        committer.hold()
        async let first = committer.append([Fixture.opened("C1")], expecting: [.case("C1"): .noStream])
        try await queued(1)
        async let second = committer.append([Fixture.opened("C1")], expecting: [.case("C1"): .noStream])
        try await queued(2)
        committer.release()
        #expect(try await first.events[0].version == 1)
        do {
            _ = try await second
            Issue.record("the second append expecting no stream was accepted")
        } catch let e as LogError {
            #expect(e.code == .conflict)
            #expect(e.stream == .case("C1"))
            #expect(e.actualVersion == 1)
        }
        #expect(try f.store.streamVersion(.case("C1")) == 1)
    }

    @Test func theSameEventSentTwiceInOneGroupIsWrittenOnce() async throws {
        let open = Fixture.opened("D1")
        committer.hold()
        async let first = committer.append(open)
        try await queued(1)
        async let retry = committer.append(open)
        try await queued(2)
        committer.release()
        let a = try await first, b = try await retry
        #expect(!a.duplicate)
        #expect(b.duplicate)
        #expect(a.position == b.position)
        #expect(f.count == UInt64(Fixture.registry.count) + 1)
    }

    @Test func badInputFailsAtOnceWithoutJoiningAGroup() async throws {
        var e = Fixture.opened("E1")
        e.actor = ""
        committer.hold()
        do {
            _ = try await committer.append(e)
            Issue.record("an event without an actor was accepted")
        } catch let error as LogError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("actor"))
        }
        #expect(committer.waiting == 0)
        let twice = Fixture.opened("E2")
        do {
            _ = try await committer.append([twice, twice])
            Issue.record("a batch repeating an id was accepted")
        } catch let error as LogError {
            #expect(error.code == .invalidInput)
        }
        committer.release()
        #expect(f.count == UInt64(Fixture.registry.count))
    }

    @Test func threadsCanWaitForTheirCommit() throws {
        let before = f.count
        let committer = self.committer
        let errors = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                try committer.appendAndWait(caseBatch("W\(i)"))
            } catch {
                errors.withLock { $0 += 1 }
            }
        }
        #expect(errors.withLock { $0 } == 0)
        #expect(f.count == before + 24)
        for i in 0..<8 { #expect(try f.store.streamVersion(.case("W\(i)")) == 3) }
    }

    @Test func aFullMapIsGrownAndTheGroupRetried() async throws {
        let small = try Fixture(initialMapSize: 1 << 20)
        let committer = GroupCommitter(store: small.store)
        let before = small.count
        // Enough events to outgrow a 1 MiB map several times over.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for n in 0..<100 {
                        let id = "M\(t)-\(n)"
                        _ = try await committer.append([Fixture.opened(id), Fixture.consent(id), Fixture.referral(id)])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(small.count == before + 8 * 100 * 3)
        #expect(small.store.mapSize > 1 << 20)
        #expect(try small.store.verify().isValid)
    }
}
