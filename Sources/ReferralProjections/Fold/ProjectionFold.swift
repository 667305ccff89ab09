import Foundation
import ReferralEvents

/// All projections folded in memory in one pass over the log: registry, cases and
/// agreements. A full rebuild and an as-of query both run this, then derive rows.
///
/// Only case, registry and agreement events are looked at; payloads are read field by
/// field straight from the LMDB page and identifiers interned without making Strings.
struct ProjectionFold {
    var names = ByteInterner(capacity: 1024)
    /// This fold's cases: stream id → index into `cases`.
    let caseIndex = ByteInterner(capacity: 4096)
    let cases = CaseTable()
    /// Cases of other shares merged in (`absorb`), read through a map from their name ids
    /// to this fold's. Kept where they were folded instead of copied: a copy would hold two
    /// of them at once.
    var absorbed: [(index: ByteInterner, cases: CaseTable)] = []
    var registry = RegistryState()
    var agreements: [UInt32: AgreementState] = [:]
    /// Events retracted at or before the fold's position, and the streams they are in.
    var retracted: Set<UUID> = []
    var retractedStreams: Set<[UInt8]> = []
    /// The positions of the events retracted in the log folded, ascending, when they are
    /// left out as it is read (`run`): then retractions are not recorded and no stream is
    /// folded again. `nextSkipped` is the first of them not yet passed.
    var skipped: [UInt64] = []
    var nextSkipped = 0
    var retractedSkipped = false
    /// The last position applied and its hash.
    var position: UInt64 = 0
    var hash: [UInt8] = [UInt8](repeating: 0, count: 32)
    /// Which share of the cases this fold keeps (`index` of `count`, by the case stream's
    /// hash); the registry and the agreements belong to share 0.
    var share = 0
    var shares = 1
    /// Share 0's part of the cases, in 65,536ths (`firstShare(of:lowMemory:)`).
    var firstShare = 0x10000

    static let casePrefix = Array("case-".utf8)

    @inline(__always)
    func owns(caseHash h: UInt64) -> Bool { shares == 1 || Self.share(caseHash: h, of: shares, first: firstShare) == share }

    static let agreementPrefix = Array("agreement-".utf8)

    /// Applies views of records that were checked when read, in order.
    ///
    /// First reads, changing nothing, what folding each event will touch — its case's index
    /// slot, key, head, last chunk and, for an event that searches the case's records (an
    /// answer, an end, a withdrawal, a close), every chunk — one step at a time for the
    /// whole batch, then folds. On a large log the state is far larger than the caches and
    /// each of these reads misses; within one step the batch's reads are independent, so
    /// the misses overlap instead of stalling one after another.
    mutating func apply(_ batch: [UnsafeRawBufferPointer]) throws {
        let n = batch.count
        if warmIDs.count < n { warmIDs = [Int32](repeating: -1, count: n); warmHashes = [UInt64](repeating: 0, count: n) }
        var s: UInt32 = 0
        let first = EventType.caseOpened.code, last = EventType.caseReopened.code
        for k in 0..<n {
            let view = EventView(unchecked: batch[k])
            let code = view.typeCode
            guard code >= first && code <= last else { warmHashes[k] = 0; continue }
            let h = idHash(view.streamBytes)
            warmHashes[k] = h | 1
            s &+= caseIndex.touch(hash: h)
        }
        for k in 0..<n {
            warmIDs[k] = -1
            guard warmHashes[k] != 0 else { continue }
            let view = EventView(unchecked: batch[k])
            let stream = view.streamBytes
            if let id = caseIndex.find(stream, hash: idHash(stream)), Int(id) < cases.count { warmIDs[k] = Int32(id) }
        }
        var lastChunks = [UInt32](repeating: 0, count: 0)
        lastChunks.reserveCapacity(n)
        for k in 0..<n { lastChunks.append(warmIDs[k] >= 0 ? cases.touchHead(Int(warmIDs[k])) : 0) }
        for c in lastChunks { s &+= cases.touchChunk(c) }
        for k in 0..<n where warmIDs[k] >= 0 && Self.searching(EventView(unchecked: batch[k]).typeCode) {
            s &+= cases.touchChain(Int(warmIDs[k]))
        }
        sink = s
        for record in batch { try apply(EventView(unchecked: record)) }
    }

    /// Whether a case event of type `code` searches the case's records.
    @inline(__always)
    static func searching(_ code: UInt16) -> Bool { code < 64 && (searchingMask >> UInt64(code)) & 1 != 0 }

    static let searchingMask: UInt64 = [EventType.referralAnswered, .placementEnded, .consentWithdrawn, .caseClosed]
        .reduce(0) { $0 | 1 << UInt64($1.code) }

    /// Scratch for `apply(_:)`.
    var warmIDs: [Int32] = []
    var warmHashes: [UInt64] = []

    /// Keeps the warming reads from being optimised away.
    var sink: UInt32 = 0

    mutating func apply(_ view: EventView) throws {
        let code = view.typeCode
        // One compare per event while there are retracted events ahead (each fold sees its
        // own events in log order, so the cursor only moves forward).
        var isRetracted = false
        if nextSkipped < skipped.count {
            let p = view.position
            while nextSkipped < skipped.count && skipped[nextSkipped] < p { nextSkipped += 1 }
            isRetracted = nextSkipped < skipped.count && skipped[nextSkipped] == p
        }
        if code >= EventType.caseOpened.code && code <= EventType.caseReopened.code {
            let stream = view.streamBytes
            let h = idHash(stream)
            guard owns(caseHash: h) else { return }
            let idx = Int(caseIndex.id(stream, hash: h))
            if idx == cases.count { cases.append() }
            if isRetracted {
                try cases.internNames(idx, view, names: &names)
            } else {
                try cases.apply(idx, view, names: &names)
            }
        } else if code >= EventType.hoursAgreementMade.code && code <= EventType.hoursAgreementEnded.code {
            guard share == 0 else { return }
            let id = names.id(UnsafeRawBufferPointer(rebasing: view.streamBytes.dropFirst(Self.agreementPrefix.count)))
            if isRetracted {
                // Applied to a copy, for the names it interns (see `CaseTable.internNames`).
                var copy = agreements[id, default: AgreementState()]
                try copy.apply(view, names: &names)
            } else {
                try agreements[id, default: AgreementState()].apply(view, names: &names)
            }
        } else if code >= EventType.organisationRegistered.code && code <= EventType.targetGroupDefined.code {
            guard share == 0 else { return }
            if isRetracted {
                var scratch = RegistryState()
                try scratch.apply(view, names: &names)
            } else {
                try registry.apply(view, names: &names)
            }
        } else if code == EventType.eventRetracted.code {
            guard !retractedSkipped else { return }
            let stream = view.streamBytes
            if stream.starts(with: Self.casePrefix) {
                guard owns(caseHash: idHash(stream)) else { return }
            } else {
                guard share == 0 else { return }
            }
            retracted.insert(try view.decode(EventRetracted.self).retractedEventId)
            retractedStreams.insert(Array(stream))
        }
    }

    /// Folds positions 1…`cut` of `store`, leaving out events retracted at or before `cut`.
    ///
    /// One pass folds everything. When `cut` is the log's head (a rebuild), the positions
    /// of the retracted events are read first (`EventStore.retractedPositions(ifHeadIs:)`)
    /// and the reading thread passes over them, one compare per event against a cursor
    /// into that sorted list. Otherwise (an as-of fold before the head, or the log grew
    /// meanwhile) a retraction after `cut` may have retracted an event before it, which
    /// that list cannot tell, so: a retraction is always in the same stream as the event
    /// it retracts and comes after it, and no stream's state depends on another's, so each
    /// stream that met a retraction is then folded again from its own events without the
    /// retracted ones.
    ///
    /// With `shares` > 1 the cases are split by a hash of their stream into shares, each
    /// folded on its own thread, and the shares are merged: cases are independent of each
    /// other, and the per-case work is what costs. The log is read once, by the caller's
    /// thread (which folds share 0, the registry and the agreements): it copies the other
    /// shares' events to their threads in batches (`SharePipe`). Reading once, not once per
    /// thread, saves a replay per thread and, with `lowMemoryReplay`, the page faults of
    /// threads re-reading pages another's release dropped.
    ///
    /// `skipRetracted: false` forces the second way also at the head (the tests compare the two).
    static func run(store: EventStore, through cut: UInt64, meter: inout ProgressMeter, shares: Int = 1,
                    skipRetracted: Bool = true) throws -> ProjectionFold {
        let n = max(1, shares)
        var fold = ProjectionFold()
        fold.shares = n
        fold.firstShare = firstShare(of: n, lowMemory: store.lowMemoryReplay)
        guard cut > 0 else { return fold }
        let tSkip = threadSeconds()
        let skipped = skipRetracted ? try store.retractedPositions(ifHeadIs: cut) : nil
        let skipping = skipped != nil
        fold.retractedSkipped = skipping
        if debugTimes { print("fold: \(skipped.map { "\($0.count) retracted positions to skip" } ?? "no skip list (cut is not the head)"), read in \(threadSeconds() - tSkip) s CPU") }
        fold.skipped = skipped ?? []
        let skipList = fold.skipped
        let pipes = n > 1 ? (1..<n).map { _ in SharePipe() } : []
        let results = ShareResults(count: n)
        let done = DispatchSemaphore(value: 0)
        for i in 1..<max(1, n) {
            let pipe = pipes[i - 1]
            let thread = Thread {
                let t = threadSeconds(), w = monotonicSeconds()
                results.set(i, Result { try fed(store: store, through: cut, share: i, of: n, pipe: pipe, retractedSkipped: skipping, skipped: skipList) })
                if debugTimes { print("fold share \(i): \(threadSeconds() - t) s CPU, \(monotonicSeconds() - w) s wall") }
                done.signal()
            }
            thread.start()
        }
        let t0 = threadSeconds(), w0 = monotonicSeconds()
        let mine = Result {
            // Stops the other threads also when the replay fails before it starts.
            defer { for p in pipes { p.finish() } }
            // This thread's own events are folded in batches too (see `apply(_:)`), each
            // batch before the read transaction ends.
            var batch: [UnsafeRawBufferPointer] = []
            batch.reserveCapacity(SharePipe.batchSize)
            var failure: (any Error)?
            try store.replay(from: 1, through: cut, { view in
                if n > 1 {
                    let code = view.typeCode
                    let isCase = code >= EventType.caseOpened.code && code <= EventType.caseReopened.code
                    if isCase || (code == EventType.eventRetracted.code && view.streamBytes.starts(with: Self.casePrefix)) {
                        let s = Self.share(caseHash: idHash(view.streamBytes), of: n, first: fold.firstShare)
                        if s != 0 { pipes[s - 1].add(view.buffer) }
                    }
                }
                batch.append(view.buffer)
                if batch.count == SharePipe.batchSize {
                    try fold.apply(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                fold.position = view.position
                if view.position == cut { fold.hash = Array(view.hashBytes) }
                meter.tick()
                return true
            }, finishing: {
                do { try fold.apply(batch) } catch { failure = error }
                batch.removeAll()
                for p in pipes { p.finish() }
            })
            if let failure { throw failure }
            try fold.refoldRetracted(store: store, through: cut)
        }
        if debugTimes { print("fold share 0 (reading the log): \(threadSeconds() - t0) s CPU, \(monotonicSeconds() - w0) s wall") }
        debugMemory("fold: share 0 done")
        for _ in 1..<max(1, n) { done.wait() }
        // The rows are derived and written next: the log's pages are not needed for that.
        if store.lowMemoryReplay { try store.releaseMappedPages() }
        results.set(0, mine.map { fold })
        var merged = try results.take(0)
        for i in 1..<n { try merged.absorb(try results.take(i)) }
        // Nothing is looked up by key any more: the rows only read keys by index.
        for part in merged.caseParts { part.index.dropLookup() }
        debugMemory("fold: done")
        return merged
    }

    /// The share of the cases a case stream's hash falls in, share 0 taking `first`
    /// 65,536ths of them and the others splitting the rest.
    @inline(__always)
    static func share(caseHash h: UInt64, of shares: Int, first: Int) -> Int {
        guard shares > 1 else { return 0 }
        let u = Int((h >> 32) & 0xFFFF)
        guard u >= first else { return 0 }
        return 1 + (u - first) * (shares - 1) / (0x10000 - first)
    }

    /// Share 0's part of the cases (65,536ths): its thread also reads the log, copies the
    /// other shares' events and folds the registry and the agreements, about half as much
    /// work as folding all the cases on the 10M demo log (measured per thread with
    /// `REFERRAL_FOLD_TIMES=1`), so with two threads it takes under a quarter of the cases
    /// (15/32 of an equal share). With `lowMemoryReplay` reading also releases and
    /// re-faults the log's pages, as much work again as folding every case, so it takes none.
    static func firstShare(of shares: Int, lowMemory: Bool) -> Int {
        lowMemory ? 0 : 0x7800 / max(1, shares)
    }

    /// Folds share `share` of `shares` from the views another thread's replay hands over.
    static func fed(store: EventStore, through cut: UInt64, share: Int, of shares: Int, pipe: SharePipe,
                    retractedSkipped: Bool, skipped: [UInt64]) throws -> ProjectionFold {
        var fold = ProjectionFold()
        fold.retractedSkipped = retractedSkipped
        fold.skipped = skipped
        fold.share = share
        fold.shares = shares
        fold.firstShare = firstShare(of: shares, lowMemory: store.lowMemoryReplay)
        do {
            while let batch = pipe.next() { try batch.withRecords { try fold.apply($0) } }
            pipe.consumerFinished()
        } catch {
            pipe.consumerFinished()
            throw error
        }
        try fold.refoldRetracted(store: store, through: cut)
        return fold
    }

    /// Folds again, without their retracted events, the streams that met a retraction.
    ///
    /// Each such stream's state is reset, then the events of all of them are read in one
    /// pass in log order (their positions from the stream index): streams are independent,
    /// so only each stream's own order matters, and reading in log order keeps the reads
    /// near each other (the index pages on the way stay mapped and cached) instead of
    /// jumping about the file stream by stream.
    mutating func refoldRetracted(store: EventStore, through cut: UInt64) throws {
        guard !retractedSkipped, !retractedStreams.isEmpty else { return }
        let t = threadSeconds()
        var streams: [StreamID] = []
        for stream in retractedStreams.sorted(by: bytesPrecede) {
            let id = StreamID(String(decoding: stream, as: UTF8.self))
            if reset(id) { streams.append(id) }
        }
        // One read of the stream index for all of them (which, with `lowMemoryReplay`,
        // releases the index pages it maps as it goes).
        let positions = try store.positions(of: streams, through: cut)
        let retractedCode = EventType.eventRetracted.code
        try store.replay(positions: positions) { view in
            if view.typeCode != retractedCode && !retracted.contains(view.id) { try apply(view) }
            return true
        }
        if debugTimes { print("share \(share): refolded \(retractedStreams.count) streams, \(positions.count) events, in \(threadSeconds() - t) s CPU") }
    }

    /// Takes over another share's cases, translating its name ids into this fold's.
    mutating func absorb(_ other: ProjectionFold) throws {
        var map: [UInt32] = []
        map.reserveCapacity(other.names.count)
        for id in 0..<UInt32(other.names.count) {
            map.append(other.names.withBytes(id) { names.id($0) })
        }
        for part in [(other.caseIndex, other.cases)] + other.absorbed {
            // Translated as they are read: nothing is rewritten, and a short record (ids
            // under 2^16) can never overflow.
            part.1.nameMap = part.1.nameMap.isEmpty ? map : part.1.nameMap.map { Int($0) < map.count ? map[Int($0)] : $0 }
            absorbed.append((index: part.0, cases: part.1))
        }
        retracted.formUnion(other.retracted)
    }

    /// This fold's cases and the absorbed ones.
    var caseParts: [(index: ByteInterner, cases: CaseTable)] { [(caseIndex, cases)] + absorbed }

    /// Resets one stream's state (before its events are applied again); false if this fold
    /// has no state for it.
    mutating func reset(_ stream: StreamID) -> Bool {
        switch stream.category {
        case "case":
            let idx = Array(stream.rawValue.utf8).withUnsafeBytes { caseIndex.find($0) }
            guard let idx else { return false }
            cases.reset(Int(idx))
        case "agreement":
            let id = Array(stream.entityID.utf8).withUnsafeBytes { names.find($0) }
            guard let id else { return false }
            agreements[id] = AgreementState()
        case "registry":
            registry = RegistryState()
        default:
            return false
        }
        return true
    }

    /// Every row of a generation holding this fold's state and checkpoint.
    func rows(storeID: String) -> RowSet {
        var set = smallRows(storeID: storeID)
        for t in [Table.cases, .open, .counters] { set.tables[t] = [] }
        largeRows(chunk: 100_000) { t, rows in set.tables[t, default: []].append(contentsOf: rows) }
        return set
    }

    /// The small tables (agreements, registry, names, state), each sorted.
    func smallRows(storeID: String) -> RowSet {
        var set = RowSet()
        set.tables[.agreements] = agreements.compactMap { id, a in a.exists ? Row(key: beBytes(id), value: a.encoded()) : nil }
        set.tables[.registry] = registry.rows().map { Row(key: $0.key, value: $0.value) }
        set.tables[.names] = nameRows(names)
        set.tables[.state] = [
            Row(key: StateKey.checkpoint, value: be64(position) + hash),
            Row(key: StateKey.nextName, value: beBytes(UInt32(names.count))),
            Row(key: StateKey.format, value: [projectionFormat]),
            Row(key: StateKey.storeID, value: Array(storeID.utf8)),
        ]
        set.sort()
        return set
    }

    /// The tables with a row or more per case (cases, open cases, counters), each in key
    /// order, handed to `body` at most `chunk` rows at a time, table after table.
    ///
    /// They are the bulk of a generation (one case row of a few hundred bytes per case, four
    /// open-case rows per open case, a counter per distinct key), so a rebuild writes them
    /// chunk by chunk straight from the packed state instead of building them all beside it.
    /// The counters and open cases are summed up on a second thread while this one sorts
    /// and hands over the case rows.
    func largeRows(chunk: Int, _ body: (Table, [Row]) throws -> Void) rethrows {
        debugMemory("rows: start")
        let derived = DerivedTables.start(self)
        let order = caseOrder()
        debugMemory("rows: case order")
        let (rowsCPU, rowsWall) = (threadSeconds(), monotonicSeconds())
        try caseRows(order: order, chunk: chunk) { try body(.cases, $0) }
        if debugTimes { print("rows: case rows made and written in \(threadSeconds() - rowsCPU) s CPU, \(monotonicSeconds() - rowsWall) s wall") }
        debugMemory("rows: case rows written")
        let waitStart = monotonicSeconds()
        let tables = derived.wait()
        if debugTimes { print("rows: waited \(monotonicSeconds() - waitStart) s for the counters") }
        debugMemory("rows: counters summed")
        if debugTimes {
            print("cases: \(caseParts.map { $0.cases.count }), state blocks \(caseParts.map { $0.cases.bytesHeld >> 20 }) MiB, index \(caseParts.map { $0.index.bytesHeld >> 20 }) MiB; counters \(tables.counters.count), open \(tables.open.count)")
        }
        try tables.openRows(chunk: chunk) { try body(.open, $0) }
        try tables.counterRows(chunk: chunk) { try body(.counters, $0) }
    }

    /// Every case that exists, as `part << 32 | index`, in row-key order (the stream id
    /// without `case-`); the keys are read in place, none is copied.
    func caseOrder() -> [UInt64] {
        let parts = caseParts
        let prefix = Self.casePrefix.count
        func key(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            b.starts(with: Self.casePrefix) ? UnsafeRawBufferPointer(rebasing: b.dropFirst(prefix)) : b
        }
        func bytes<T>(_ e: UInt64, _ body: (UnsafeRawBufferPointer) -> T) -> T {
            parts[Int(e >> 32)].index.withBytes(UInt32(truncatingIfNeeded: e)) { body(key($0)) }
        }
        func precedes(_ a: UInt64, _ b: UInt64) -> Bool {
            bytes(a) { x in
                bytes(b) { y in
                    let n = min(x.count, y.count)
                    if n > 0, let xb = x.baseAddress, let yb = y.baseAddress {
                        let c = memcmp(xb, yb, n)
                        if c != 0 { return c < 0 }
                    }
                    return x.count < y.count
                }
            }
        }
        // Sorted by the key's first 16 bytes, zero-padded, as two big-endian integers (the
        // demo's keys, "VIB-2023-1801", fit whole): integer compares, not two random reads
        // of the key bytes per compare. Padding keeps LMDB's order (memcmp, then the shorter
        // first) except between keys equal in those 16 bytes, which are then put in order
        // by their full bytes.
        var entries: [(hi: UInt64, lo: UInt64, e: UInt64)] = []
        entries.reserveCapacity(parts.reduce(0) { $0 + $1.cases.count })
        for (p, part) in parts.enumerated() {
            for i in 0..<part.cases.count where part.cases.head(i).exists {
                let e = UInt64(p) << 32 | UInt64(i)
                let (hi, lo) = bytes(e) { k -> (UInt64, UInt64) in
                    var hi: UInt64 = 0, lo: UInt64 = 0
                    for (j, b) in k.prefix(16).enumerated() {
                        if j < 8 { hi |= UInt64(b) << (56 - 8 * UInt64(j)) } else { lo |= UInt64(b) << (56 - 8 * UInt64(j - 8)) }
                    }
                    return (hi, lo)
                }
                entries.append((hi, lo, e))
            }
        }
        entries.sort { ($0.hi, $0.lo) < ($1.hi, $1.lo) }
        var order = entries.map(\.e)
        var start = 0
        while start < entries.count {
            var end = start + 1
            while end < entries.count && entries[end].hi == entries[start].hi && entries[end].lo == entries[start].lo { end += 1 }
            if end - start > 1 { order[start..<end].sort(by: precedes) }
            start = end
        }
        return order
    }

    /// The case rows in key order (`order` from `caseOrder()`), handed to `body` up to
    /// `chunk` at a time.
    ///
    /// Key order visits the packed state at random: on a large log nearly every case's
    /// head, chunks and key miss the caches. So each group of cases is read ahead first,
    /// one step at a time for the whole group (heads; then chains and keys), and the
    /// misses of a step overlap instead of stalling one after another (as in `apply(_:)`).
    func caseRows(order: [UInt64], chunk: Int, _ body: ([Row]) throws -> Void) rethrows {
        let parts = caseParts
        var rows: [Row] = []
        rows.reserveCapacity(min(chunk, order.count))
        var state = CaseState()
        var s: UInt32 = 0
        var start = 0
        while start < order.count {
            let group = order[start..<min(order.count, start + Self.rowWarmGroup)]
            for e in group {
                let cases = parts[Int(e >> 32)].cases, i = Int(UInt32(truncatingIfNeeded: e))
                s &+= cases.touchHead(i) &+ cases.touchHeadStart(i)
            }
            for e in group {
                let part = parts[Int(e >> 32)], i = UInt32(truncatingIfNeeded: e)
                s &+= part.cases.touchChain(Int(i)) &+ part.index.touchBytes(i)
            }
            for e in group {
                let part = parts[Int(e >> 32)], i = UInt32(truncatingIfNeeded: e)
                part.cases.load(Int(i), into: &state)
                rows.append(Row(key: part.index.withBytes(i) { caseKey(stream: $0) }, value: state.encoded()))
                if rows.count >= chunk {
                    try body(rows)
                    rows.removeAll(keepingCapacity: true)
                }
            }
            start = group.endIndex
        }
        if !rows.isEmpty { try body(rows) }
        parts.first?.cases.sink = s
    }

    /// Cases read ahead at a time by `caseRows`.
    static let rowWarmGroup = 128

}

/// The open-case and counter tables of a fold, summed up over every case: what a case
/// contributes is a pure function of its state, read here from the packed state.
struct DerivedTables: Sendable {
    /// Open cases: index ids and row key, and the encoded caseload row.
    struct OpenCase: Sendable {
        var liaison: UInt32
        var organisation: UInt32
        var area: UInt32
        var key: [UInt8]
        var value: [UInt8]
    }

    var open: [OpenCase] = []
    /// `open`'s indices for each of the four index prefixes, in key order.
    var openOrders: [[Int32]] = []
    var counters = CounterTable(capacity: 1 << 16)
    var counterOrder: [Int32] = []

    /// Sums up `fold`'s cases (it must not change meanwhile: only reads happen).
    init(_ fold: ProjectionFold) {
        var state = CaseState()
        for part in fold.caseParts {
            for i in 0..<part.cases.count where part.cases.head(i).exists {
                part.cases.load(i, into: &state)
                state.contribute { k, v in counters.add(k, v) }
                if state.isOpen {
                    let row = OpenCaseRow(state)
                    open.append(OpenCase(liaison: row.liaison, organisation: row.organisation, area: row.area,
                                         key: part.index.withBytes(UInt32(i)) { caseKey(stream: $0) }, value: row.encoded()))
                }
            }
        }
        counterOrder = counters.sortedOrder()
        // Every index sorts by its id (big-endian ids sort as numbers), then by case key.
        var byKey = Array(0..<Int32(open.count))
        open.withUnsafeBufferPointer { o in
            byKey.sort { bytesPrecede(o[Int($0)].key, o[Int($1)].key) }
        }
        var rank = [UInt32](repeating: 0, count: open.count)
        for (r, i) in byKey.enumerated() { rank[Int(i)] = UInt32(r) }
        openOrders = [byKey]
        for field in [\OpenCase.liaison, \OpenCase.organisation, \OpenCase.area] {
            var keys = open.indices.map { UInt64(open[$0][keyPath: field]) << 32 | UInt64(rank[$0]) }
            keys.sort()
            openOrders.append(keys.map { Int32(byKey[Int(UInt32(truncatingIfNeeded: $0))]) })
        }
    }

    /// Starts summing up on a thread of its own; `wait()` for the result.
    static func start(_ fold: ProjectionFold) -> Pending {
        let pending = Pending()
        let box = UncheckedBox(fold)
        Thread {
            pending.set(DerivedTables(box.value))
        }.start()
        return pending
    }

    final class Pending: @unchecked Sendable {
        private let condition = NSCondition()
        private var result: DerivedTables?

        func set(_ r: DerivedTables) {
            condition.lock()
            result = r
            condition.broadcast()
            condition.unlock()
        }

        func wait() -> DerivedTables {
            condition.lock()
            defer { condition.unlock() }
            while result == nil { condition.wait() }
            return result ?? DerivedTables()
        }
    }

    private init() {}

    /// The open-case rows in key order: every open case under `0 ‖ case`, then under
    /// `1 ‖ liaison ‖ case`, `2 ‖ organisation ‖ case` and `3 ‖ area ‖ case`.
    func openRows(chunk: Int, _ body: ([Row]) throws -> Void) rethrows {
        var rows: [Row] = []
        for (prefix, order) in openOrders.enumerated() {
            for i in order {
                let o = open[Int(i)]
                let key: [UInt8]
                switch prefix {
                case 0: key = [0] + o.key
                case 1: key = [1] + beBytes(o.liaison) + o.key
                case 2: key = [2] + beBytes(o.organisation) + o.key
                default: key = [3] + beBytes(o.area) + o.key
                }
                rows.append(Row(key: key, value: o.value))
                if rows.count >= chunk {
                    try body(rows)
                    rows.removeAll(keepingCapacity: true)
                }
            }
        }
        if !rows.isEmpty { try body(rows) }
    }

    /// The counter rows in key order.
    func counterRows(chunk: Int, _ body: ([Row]) throws -> Void) rethrows {
        var rows: [Row] = []
        rows.reserveCapacity(min(chunk, counterOrder.count))
        for i in counterOrder {
            let (k, v) = counters.entry(Int(i))
            guard v != 0 else { continue }
            rows.append(Row(key: k.bytes, value: le64(v)))
            if rows.count >= chunk {
                try body(rows)
                rows.removeAll(keepingCapacity: true)
            }
        }
        if !rows.isEmpty { try body(rows) }
    }
}

/// Hands a value that is only read to another thread.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// `REFERRAL_FOLD_TIMES=1` prints each fold thread's CPU and wall time (for the benchmarks).
let debugTimes = ProcessInfo.processInfo.environment["REFERRAL_FOLD_TIMES"] == "1"

/// With `REFERRAL_FOLD_TIMES=1`, prints the process's resident memory at `point`.
func debugMemory(_ point: String) {
    guard debugTimes, let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return }
    let fields = status.split(separator: "\n").filter { $0.hasPrefix("RssAnon") || $0.hasPrefix("RssFile") || $0.hasPrefix("VmHWM") }
    print(point + ": " + fields.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }.joined(separator: ", "))
}

/// CPU seconds of the calling thread.
func threadSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func le64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

func readLE64(_ b: UnsafeRawBufferPointer) -> Int64 {
    b.count >= 8 ? Int64(littleEndian: b.loadUnaligned(as: Int64.self)) : 0
}

/// Hands one share's events from the reading thread to the thread folding that share, in
/// batches, at most two batches ahead.
///
/// The records are copied into the batch (a few hundred bytes each, far cheaper than
/// folding them): the folding thread never touches the log's map, so it cannot fault in
/// pages the reader has already released (`lowMemoryReplay`), and nothing it holds depends
/// on the reader's transaction.
final class SharePipe: @unchecked Sendable {
    /// Records laid end to end, and where each ends.
    struct Batch {
        var bytes: [UInt8] = []
        var ends: [Int] = []

        init() {
            bytes.reserveCapacity(SharePipe.batchSize * 320)
            ends.reserveCapacity(SharePipe.batchSize)
        }

        /// Calls `body` with a view of every record, in order.
        func withRecords<T>(_ body: ([UnsafeRawBufferPointer]) throws -> T) rethrows -> T {
            try bytes.withUnsafeBytes { all in
                var start = 0
                var records: [UnsafeRawBufferPointer] = []
                records.reserveCapacity(ends.count)
                for end in ends {
                    records.append(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                    start = end
                }
                return try body(records)
            }
        }
    }

    static let batchSize = 512
    private let condition = NSCondition()
    private var filling = Batch()
    private var queue: [Batch] = []
    private var closed = false
    private var consumerDone = false

    /// Queues a copy of one record (reader's thread).
    @inline(__always)
    func add(_ record: UnsafeRawBufferPointer) {
        filling.bytes.append(contentsOf: record)
        filling.ends.append(filling.bytes.count)
        if filling.ends.count == Self.batchSize { push() }
    }

    private func push() {
        guard !filling.ends.isEmpty else { return }
        condition.lock()
        while queue.count >= 2 && !consumerDone { condition.wait() }
        if !consumerDone { queue.append(filling) }
        condition.broadcast()
        condition.unlock()
        filling = Batch()
    }

    /// No more records: hands over what is left and waits until the folding thread has
    /// taken everything (reader's thread). Calling it again does nothing.
    func finish() {
        push()
        condition.lock()
        closed = true
        condition.broadcast()
        while !consumerDone { condition.wait() }
        condition.unlock()
    }

    /// The next batch, or nil once the reader has finished (folding thread).
    func next() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        guard !queue.isEmpty else { return nil }
        condition.broadcast()
        return queue.removeFirst()
    }

    /// The folding thread takes nothing more (done, or failed).
    func consumerFinished() {
        condition.lock()
        consumerDone = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

/// Where the share threads leave their folds.
final class ShareResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<ProjectionFold, any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ r: Result<ProjectionFold, any Error>) {
        lock.lock()
        defer { lock.unlock() }
        results[i] = r
    }

    func take(_ i: Int) throws -> ProjectionFold {
        lock.lock()
        defer { lock.unlock() }
        guard let r = results[i] else { throw LogError(.storage, "a projection share did not finish") }
        results[i] = nil
        return try r.get()
    }
}
