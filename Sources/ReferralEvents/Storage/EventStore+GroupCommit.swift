import CLMDB
import Foundation
import Synchronization

/// Appends from many concurrent callers, committed together (group commit).
///
/// A durable commit costs an fsync, whatever it carries. When many callers append single
/// events at once, committing each alone caps throughput at one event per fsync. Here
/// callers' appends queue up; one writer takes every waiting append, applies each inside
/// its own nested LMDB transaction within one shared write transaction, and commits them
/// all with one fsync. Throughput grows with the number of waiting callers while each
/// caller still waits for its own events to be durable.
///
/// Every append keeps the semantics of `EventStore.append`: it is atomic on its own and
/// checked against the domain rules and its expected versions as if the group's earlier
/// appends (in arrival order) had been committed just before it. If one caller's batch
/// breaks a rule, only that nested transaction is aborted and only that caller gets the
/// error; the others are committed. If the shared commit itself fails (a disk error),
/// every caller of the group gets that error and nothing of the group is written.
///
/// ```swift
/// let committer = GroupCommitter(store: store)
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     for e in events { group.addTask { _ = try await committer.append(e) } }
///     try await group.waitForAll()
/// }
/// ```
///
/// The writer is a private serial dispatch queue, so waiting callers never block Swift's
/// cooperative threads. Appends through `EventStore.append` from elsewhere still work; LMDB
/// serialises them with the committer's transactions.
public final class GroupCommitter: Sendable {
    /// The store appended to.
    public let store: EventStore
    /// The most events one shared transaction takes (a single larger append is taken alone).
    public let maxEventsPerCommit: Int

    private struct Request: Sendable {
        var events: [ProposedEvent]
        var expecting: [StreamID: ExpectedVersion]
        var recordedAt: Timestamp?
        var complete: @Sendable (Result<AppendResult, any Error>) -> Void
    }

    private struct State: Sendable {
        var pending: [Request] = []
        var draining = false
        /// Set by tests to let appends queue up, so a group's contents are known.
        var held = false
        var statistics = Statistics()
        /// While the writer waits for a group to fill: how many appends it waits for, and
        /// the signal the last of them gives.
        var gatherTarget = 0
        var gathered: DispatchSemaphore?
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "dk.referral.group-commit", qos: .userInitiated)

    /// - Parameter maxEventsPerCommit: at most this many events in one shared transaction, so
    ///   one commit never holds the writer for long.
    public init(store: EventStore, maxEventsPerCommit: Int = 10_000) {
        self.store = store
        self.maxEventsPerCommit = max(1, maxEventsPerCommit)
    }

    /// Appends `events` atomically, committed together with whatever else is waiting.
    /// Same parameters, checks and errors as `EventStore.append(_:expecting:recordedAt:)`.
    @discardableResult
    public func append(_ events: [ProposedEvent], expecting: [StreamID: ExpectedVersion] = [:],
                       recordedAt: Timestamp? = nil) async throws -> AppendResult {
        try EventStore.validateBatch(events)  // bad input fails at once and never joins a group
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(events: events, expecting: expecting, recordedAt: recordedAt) { continuation.resume(with: $0) })
        }
    }

    /// Appends one event. See `append(_:expecting:recordedAt:)`.
    @discardableResult
    public func append(_ event: ProposedEvent, expected: ExpectedVersion = .any) async throws -> AppendedEvent {
        try await append([event], expecting: [event.stream: expected]).events[0]
    }

    /// The same as `append(_:expecting:recordedAt:)` for code on its own threads: blocks the
    /// calling thread until the group holding the events has committed.
    @discardableResult
    public func appendAndWait(_ events: [ProposedEvent], expecting: [StreamID: ExpectedVersion] = [:],
                              recordedAt: Timestamp? = nil) throws -> AppendResult {
        try EventStore.validateBatch(events)  // bad input fails at once and never joins a group
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<AppendResult, any Error>?>(nil)
        enqueue(Request(events: events, expecting: expecting, recordedAt: recordedAt) { result in
            outcome.withLock { $0 = result }
            done.signal()
        })
        done.wait()
        guard let result = outcome.withLock({ $0 }) else {
            throw LogError(.storage, "the group commit finished without an outcome for this append")
        }
        return try result.get()
    }

    /// What the committer has done so far, and where its time went.
    public struct Statistics: Sendable, Hashable {
        /// Shared transactions committed.
        public var commits = 0
        /// Appends in them: `appends / commits` is the average group size.
        public var appends = 0
        /// Events in them.
        public var events = 0
        /// Time spent applying the appends inside the shared transactions (checking the rules,
        /// encoding and putting the records), summed over all commits.
        public var applying: Duration = .zero
        /// Time spent in LMDB's commit (writing the dirty pages into the file and flushing
        /// them to disk), summed over all commits: the durable part.
        public var committing: Duration = .zero
    }

    /// Commits, appends, events and time so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    // MARK: - Testing hooks

    /// Lets appends queue without committing, until `release()`.
    func hold() { state.withLock { $0.held = true } }

    /// Commits everything that queued while held.
    func release() {
        let start = state.withLock { s -> Bool in
            s.held = false
            guard !s.draining, !s.pending.isEmpty else { return false }
            s.draining = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    /// Appends waiting to be committed.
    var waiting: Int { state.withLock { $0.pending.count } }

    // MARK: - The writer

    private func enqueue(_ request: Request) {
        let (start, signal) = state.withLock { s -> (Bool, DispatchSemaphore?) in
            s.pending.append(request)
            var signal: DispatchSemaphore?
            if let g = s.gathered, s.pending.count >= s.gatherTarget {
                signal = g
                s.gathered = nil
            }
            guard !s.draining, !s.held else { return (false, signal) }
            s.draining = true
            return (true, signal)
        }
        signal?.signal()
        if start { queue.async { self.drain() } }
    }

    /// The longest the writer waits for a group to fill (it waits at most half the last commit
    /// too), so that a caller whose event could have joined does not wait a whole extra commit.
    static let maxGatherNanoseconds: UInt64 = 1_000_000

    /// Commits groups until nothing waits; one drain runs at a time.
    private func drain() {
        // The largest of the last few groups: about how many callers append at once.
        var recentGroups = [Int](repeating: 0, count: 16)
        var commitIndex = 0
        var lastCommit: UInt64 = 0
        while true {
            // The callers the last commit released are queueing their next appends: if fewer
            // are back than recent groups held, give them a moment (half a commit, at
            // most 1 ms) so they share this commit's fsync rather than each wait for the next.
            let expected = recentGroups.max() ?? 0
            if expected > 1 {
                let wait = state.withLock { s -> DispatchSemaphore? in
                    guard s.pending.count < expected, !s.held else { return nil }
                    let g = DispatchSemaphore(value: 0)
                    s.gatherTarget = expected
                    s.gathered = g
                    return g
                }
                if let wait {
                    _ = wait.wait(timeout: .now() + .nanoseconds(Int(min(Self.maxGatherNanoseconds, lastCommit / 2))))
                    state.withLock { $0.gathered = nil }
                }
            }
            let group: [Request] = state.withLock { s in
                guard !s.held, !s.pending.isEmpty else {
                    s.draining = false
                    return []
                }
                var count = 0, taken = 0
                while taken < s.pending.count, taken == 0 || count + s.pending[taken].events.count <= maxEventsPerCommit {
                    count += s.pending[taken].events.count
                    taken += 1
                }
                let group = Array(s.pending.prefix(taken))
                s.pending.removeFirst(taken)
                return group
            }
            if group.isEmpty { return }
            let started = DispatchTime.now().uptimeNanoseconds
            let (outcomes, applied) = commit(group)
            let ended = DispatchTime.now().uptimeNanoseconds
            lastCommit = ended - started
            recentGroups[commitIndex % recentGroups.count] = group.count
            commitIndex += 1
            state.withLock { s in
                s.statistics.commits += 1
                s.statistics.appends += group.count
                s.statistics.events += group.reduce(0) { $0 + $1.events.count }
                s.statistics.applying += .nanoseconds(Int64(applied - started))
                s.statistics.committing += .nanoseconds(Int64(ended - applied))
            }
            for (request, outcome) in zip(group, outcomes) { request.complete(outcome) }
        }
    }

    /// One shared write transaction. Also returns when the appends had been applied and
    /// LMDB's commit began (uptime nanoseconds).
    ///
    /// Each append goes straight into the shared transaction. Only if one of them fails (a
    /// rule, an expected version) is that transaction aborted and the group applied again
    /// with each append in a nested transaction of its own, so that only the failed one is
    /// undone. Nesting every time cost a fifth of applying a group (LMDB copies again each
    /// page a nested transaction touches: the log's last leaf, the id index's), and appends
    /// rarely fail; the outcome is the same either way, since each append sees the same
    /// state before it.
    private func commit(_ group: [Request]) -> ([Result<AppendResult, any Error>], applied: UInt64) {
        var applied: UInt64 = 0
        struct Refused: Error {
            var error: any Error
        }
        do {
            let outcomes = try store.env.write { txn in
                let now = store.clock()
                var outcomes: [Result<AppendResult, any Error>] = []
                outcomes.reserveCapacity(group.count)
                for request in group {
                    do {
                        outcomes.append(.success(try store.appendInTransaction(txn, request.events, expecting: request.expecting,
                                                                               recordedAt: request.recordedAt, now: now)))
                    } catch let error as LogError where error.code == .storage || error.code == .corrupt {
                        throw error  // the store's own trouble (a full map is grown and run again by `write`)
                    } catch {
                        throw Refused(error: error)  // a caller's: abort, and nest (below)
                    }
                }
                applied = DispatchTime.now().uptimeNanoseconds  // `write` commits right after this returns
                return outcomes
            }
            return (outcomes, applied)
        } catch let refused as Refused where group.count == 1 {
            // Alone in its group: the aborted transaction is all a nested one would undo.
            return ([.failure(refused.error)], DispatchTime.now().uptimeNanoseconds)
        } catch is Refused {
            // Applied again below, each append nested.
        } catch {
            // The shared commit failed: nothing of the group was written, and everyone hears why.
            return (Array(repeating: .failure(error), count: group.count),
                    applied == 0 ? DispatchTime.now().uptimeNanoseconds : applied)
        }
        do {
            let outcomes = try store.env.write { txn in
                let now = store.clock()
                let outcomes = try group.map { request in
                    try txn.nested { child in
                        try store.appendInTransaction(child, request.events, expecting: request.expecting,
                                                      recordedAt: request.recordedAt, now: now)
                    }
                }
                applied = DispatchTime.now().uptimeNanoseconds  // `write` commits right after this returns
                return outcomes
            }
            return (outcomes, applied)
        } catch {
            // The shared commit failed: nothing of the group was written, and everyone hears why.
            return (Array(repeating: .failure(error), count: group.count),
                    applied == 0 ? DispatchTime.now().uptimeNanoseconds : applied)
        }
    }
}

extension Transaction {
    /// Runs `body` in a nested write transaction: committed into this one if `body`
    /// succeeds, aborted (its writes undone, this transaction untouched) if it throws a
    /// caller's error, which is returned as a failure.
    ///
    /// Errors of the store itself (a full map, which the enclosing `write` grows and retries;
    /// a disk error; a failed nested commit) are thrown, failing the whole enclosing
    /// transaction, since its state can then no longer be trusted.
    func nested<T>(_ body: (Transaction) throws -> T) throws -> Result<T, any Error> {
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child), "starting a nested transaction")
        guard let child else { throw LogError(.storage, "mdb_txn_begin returned no nested transaction") }
        let value: T
        do {
            value = try body(Transaction(handle: child))
        } catch let error as LogError where error.code == .storage || error.code == .corrupt {
            mdb_txn_abort(child)
            throw error
        } catch {
            mdb_txn_abort(child)
            return .failure(error)
        }
        // A failed commit frees the child itself; the parent is then in doubt, so fail it too.
        try check(mdb_txn_commit(child), "committing a nested transaction")
        return .success(value)
    }
}
