import Dispatch
import Foundation
import Synchronization

/// Encodes and hash-chains a batch's records on a second thread while the appending thread
/// checks the domain rules, so that a large append uses both cores.
///
/// Why: in a batch of 1,000 events the rule checks and the record encoding (the SHA-256 of
/// the chain included) were most of the CPU, one after the other on one thread. They do not
/// depend on each other: a record needs only its position (known when the transaction
/// begins) and its stream version (known as soon as the event has been checked), and the
/// checks read no record of the batch, except a retraction's (below). The appending thread
/// publishes each event's version after checking it; the encoder follows it, an event or
/// two behind, and publishes each record it finishes. The appending thread puts the records
/// into LMDB itself, after the checks, so the write transaction is only ever used by the
/// thread that began it.
///
/// A retraction's check replays its stream from the log, so the batch's earlier records
/// must be in the log first: the appending thread waits for them and puts them before
/// checking it (`waitEncoded`).
///
/// Not used for small batches: handing work to another thread costs more than a few
/// events' encoding (`EventStore.encodeAheadMinimum`).
final class EncodeAhead: @unchecked Sendable {
    private let batch: [ProposedEvent]
    /// Indices into `batch` of the events to write, in order.
    private let fresh: [Int]
    private let firstPosition: UInt64
    private let recordedAt: Timestamp
    private let startHash: ChainHash
    /// Events before this batch in an append made in parts, for the errors' numbers.
    private let indexOffset: Int

    // Handed from the appending thread to the encoder: `versions[k]` is written before
    // `published` is raised past k (releasing) and read after it is seen there (acquiring).
    private let versions: UnsafeMutablePointer<UInt64>
    private let published = Atomic<Int>(0)
    /// Set when the appending thread will publish no more (all checked, or one failed).
    private let closed = Atomic<Bool>(false)

    // Handed back the same way: `records[k]` is written before `encoded` passes k.
    private let records: UnsafeMutablePointer<UnsafeRawBufferPointer>
    private let encoded = HelperProgress()

    // The encoder's alone until it has ended.
    /// Blocks the records are written into; never moved or grown once records are in them,
    /// so the appending thread can read a record while later ones are written.
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    private var failure: (index: Int, error: any Error)?

    private static let blockSize = 1 << 20

    /// The queue encoders and validators run on: outside Swift's cooperative pool, since an
    /// append is synchronous and may itself be called from a task (a queue of its own gets
    /// a thread even when that pool is busy), and concurrent, so that appends to different
    /// stores, or a batch's validation while another's encoding runs, do not wait in line
    /// for each other.
    static let queue = DispatchQueue(label: "referral.encode-ahead", qos: .userInitiated, attributes: .concurrent)

    init(batch: [ProposedEvent], fresh: [Int], firstPosition: UInt64, recordedAt: Timestamp, previousHash: ChainHash,
         indexOffset: Int = 0) {
        self.indexOffset = indexOffset
        self.batch = batch
        self.fresh = fresh
        self.firstPosition = firstPosition
        self.recordedAt = recordedAt
        self.startHash = previousHash
        versions = .allocate(capacity: fresh.count)
        records = .allocate(capacity: fresh.count)
    }

    deinit {
        versions.deallocate()
        records.deallocate()
        for b in blocks { b.deallocate() }
    }

    /// Starts encoding on the encoder's thread.
    func start() {
        Self.queue.async { self.run() }
    }

    /// The appending thread: `fresh[k]` has passed its checks and has this stream version.
    func publish(_ k: Int, version: UInt64) {
        versions[k] = version
        published.store(k + 1, ordering: .releasing)
    }

    /// The appending thread: waits until the first `n` records are encoded. False when the
    /// encoder stopped before (an event it refused; `finish()` says which).
    func waitEncoded(_ n: Int) -> Bool { encoded.wait(for: n) }

    /// Record k (its bytes, hash included), once `waitEncoded` has returned true for it.
    func record(_ k: Int) -> UnsafeRawBufferPointer { records[k] }

    /// The appending thread, before it puts the last records or throws: publishes no more
    /// and waits for the encoder to stop. Returns the event the encoder refused (an
    /// oversize record), by its index in `fresh`, with the error. Safe to call again.
    func finish() -> (index: Int, error: any Error)? {
        closed.store(true, ordering: .releasing)
        encoded.join()
        return failure
    }

    private func run() {
        defer { encoded.end() }
        var writer = BinaryWriter(capacity: 1024)
        var hash = startHash
        var block = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        var used = 0
        var k = 0
        var spins = 0
        while k < fresh.count {
            // `closed` before `published`: once seen closed, the count read after it is final.
            let isClosed = closed.load(ordering: .acquiring)
            let ready = published.load(ordering: .acquiring)
            if k >= ready {
                if isClosed { return }
                // The checks take longer than the encoding, so the encoder mostly waits. It
                // spins (the next event is usually a microsecond or two away; a thread that
                // sleeps wakes tens of microseconds late, which delays the batch's end),
                // and sleeps only when the checks stall for longer (a retraction's replay):
                // a spinning encoder holds a core that another process could use.
                spins += 1
                if spins < 4096 {
                    if spins & 63 == 0 { sched_yield() }
                } else {
                    usleep(20)
                }
                continue
            }
            spins = 0
            while k < ready {
                do {
                    hash = try EventRecord.encode(batch[fresh[k]], position: firstPosition + UInt64(k), version: versions[k],
                                                  recordedAt: recordedAt, previousHash: hash, into: &writer)
                    guard writer.bytes.count <= EventStore.maxRecordSize else {
                        throw EventStore.oversize(batch[fresh[k]], index: indexOffset + fresh[k], bytes: writer.bytes.count)
                    }
                } catch {
                    failure = (k, error)
                    return
                }
                let count = writer.bytes.count
                if used + count > block.count {
                    block = .allocate(byteCount: max(Self.blockSize, count), alignment: 16)
                    blocks.append(block)
                    used = 0
                }
                let target = UnsafeMutableRawBufferPointer(rebasing: block[used..<(used + count)])
                writer.bytes.withUnsafeBytes { target.copyMemory(from: $0) }
                used += count
                records[k] = UnsafeRawBufferPointer(target)
                k += 1
                encoded.advance(to: k)
            }
        }
    }
}

/// Validates a large batch (`EventStore.validateBatch`: envelopes, payload dates, no id
/// twice) on the encode-ahead thread while the appending thread reads the log's head and
/// looks up the batch's ids.
///
/// The appending thread waits for event *i* to be validated before checking it against the
/// rules (`waitValidated`), so no rule check ever sees an invalid event, and consults
/// `finish()` before it commits and before it throws, so an invalid batch fails with the
/// validation's error as if it had been validated first. Validation is about a fifteenth
/// of the checks' cost, so the appending thread rarely waits; it ran before the transaction
/// on the appending thread, about 6% of a large append's time there.
final class ValidateAhead: @unchecked Sendable {
    private let batch: [ProposedEvent]
    private let indexOffset: Int
    /// Events validated, from the first.
    private let validated = HelperProgress()
    // The validator's until it has ended.
    private var failure: LogError?

    init(_ batch: [ProposedEvent], indexOffset: Int = 0) {
        self.batch = batch
        self.indexOffset = indexOffset
    }

    func start() {
        EncodeAhead.queue.async { self.run() }
    }

    /// The appending thread: waits until the first `n` events are validated. False when the
    /// validation stopped before them (`finish()` gives the error).
    func waitValidated(_ n: Int) -> Bool { validated.wait(for: n) }

    /// The appending thread: waits for the whole validation and returns its error, if any.
    /// Safe to call again.
    func finish() -> LogError? {
        validated.join()
        return failure
    }

    private func run() {
        defer { validated.end() }
        do {
            for i in batch.indices {
                try EventStore.validateEvent(batch, at: i, indexOffset: indexOffset)
                validated.advance(to: i + 1)
            }
            // Ids repeated in the batch are reported after every envelope, as before a
            // transaction; `validated` is already complete, which is harmless: a repeated id
            // only makes the id index refuse the second put, and this error wins.
            try EventStore.checkUniqueIDs(batch, indexOffset: indexOffset)
        } catch let error as LogError {
            failure = error
        } catch {
            failure = LogError(.invalidInput, "\(error)")
        }
    }
}

/// How far a helper thread (`EncodeAhead`, `ValidateAhead`) has got, and whether it has
/// ended, for the appending thread to wait on.
///
/// The helper raises the count as it goes (releasing: what it wrote for those items is
/// visible to whoever sees the count) and calls `end()` once, after anything else it
/// leaves behind (an error) is written. The appending thread spins rather than sleeps
/// while it waits: the helper is usually microseconds away, and a blocked thread takes
/// tens of microseconds to wake, which for a batch of a few hundred events was the cost
/// of the whole hand-off.
final class HelperProgress: @unchecked Sendable {
    private let count = Atomic<Int>(0)
    private let ended = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// The appending thread's: whether `join()` has waited for `done`.
    private var joined = false

    /// The helper: the first `n` items are done.
    func advance(to n: Int) { count.store(n, ordering: .releasing) }

    /// The helper, last: it will do no more.
    func end() {
        ended.store(true, ordering: .releasing)
        done.signal()
    }

    /// Waits until the first `n` items are done; false when the helper ended before them.
    func wait(for n: Int) -> Bool {
        var spins = 0
        while count.load(ordering: .acquiring) < n {
            if ended.load(ordering: .acquiring) { return count.load(ordering: .acquiring) >= n }
            spins += 1
            if spins & 63 == 0 { sched_yield() }
        }
        return true
    }

    /// Waits until the helper has ended: spinning for a while, then on the semaphore.
    /// Everything it wrote is visible afterwards. Safe to call again.
    func join() {
        guard !joined else { return }
        var spins = 0
        while !ended.load(ordering: .acquiring), spins < 1 << 16 {
            spins += 1
            if spins & 63 == 0 { sched_yield() }
        }
        done.wait()
        joined = true
    }
}
