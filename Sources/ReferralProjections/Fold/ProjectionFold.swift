import Foundation
import ReferralEvents

/// All projections folded in memory in one pass over the log: registry, cases and
/// agreements. A full rebuild and an as-of query both run this, then derive rows.
///
/// Only case, registry and agreement events are looked at; payloads are read field by
/// field straight from the LMDB page and identifiers interned without making Strings.
struct ProjectionFold {
    var names = ByteInterner(capacity: 1024)
    let caseIndex = ByteInterner(capacity: 4096)
    var cases: [CaseState] = []
    var registry = RegistryState()
    var agreements: [UInt32: AgreementState] = [:]
    /// Events retracted at or before the fold's position, and the streams they are in.
    var retracted: Set<UUID> = []
    var retractedStreams: Set<[UInt8]> = []
    /// The last position applied and its hash.
    var position: UInt64 = 0
    var hash: [UInt8] = [UInt8](repeating: 0, count: 32)
    /// Which share of the cases this fold keeps (`index` of `count`, by the case stream's
    /// hash); the registry and the agreements belong to share 0.
    var share = 0
    var shares = 1

    static let casePrefix = Array("case-".utf8)

    @inline(__always)
    func owns(caseHash h: UInt64) -> Bool { shares == 1 || Int(truncatingIfNeeded: h >> 40) % shares == share }

    static let agreementPrefix = Array("agreement-".utf8)

    mutating func apply(_ view: EventView) throws {
        let code = view.typeCode
        if code >= EventType.caseOpened.code && code <= EventType.caseReopened.code {
            let stream = view.streamBytes
            let h = idHash(stream)
            guard owns(caseHash: h) else { return }
            let idx = Int(caseIndex.id(stream, hash: h))
            if idx == cases.count { cases.append(CaseState()) }
            try cases[idx].apply(view, names: &names)
        } else if code >= EventType.hoursAgreementMade.code && code <= EventType.hoursAgreementEnded.code {
            guard share == 0 else { return }
            let id = names.id(UnsafeRawBufferPointer(rebasing: view.streamBytes.dropFirst(Self.agreementPrefix.count)))
            try agreements[id, default: AgreementState()].apply(view, names: &names)
        } else if code >= EventType.organisationRegistered.code && code <= EventType.targetGroupDefined.code {
            guard share == 0 else { return }
            try registry.apply(view, names: &names)
        } else if code == EventType.eventRetracted.code {
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
    /// One pass folds everything. A retraction is always in the same stream as the event
    /// it retracts and comes after it, and no stream's state depends on another's, so each
    /// stream that met a retraction is then folded again from its own events without the
    /// retracted ones. Retractions are rare; the common path pays nothing for them.
    ///
    /// With `shares` > 1 each share of the cases is folded on its own thread, each thread
    /// walking the log in its own read transaction (one consistent snapshot each, all cut
    /// at the same position), and the shares are merged: cases are independent of each
    /// other, and the per-case work is what costs.
    static func run(store: EventStore, through cut: UInt64, meter: inout ProgressMeter, shares: Int = 1) throws -> ProjectionFold {
        let n = max(1, shares)
        guard n > 1 else { return try runShare(store: store, through: cut, share: 0, of: 1, meter: &meter) }
        // Share 0 runs here, with the caller's progress callback; the others on their own threads.
        let results = ShareResults(count: n)
        let done = DispatchSemaphore(value: 0)
        let phase = meter.phase
        for i in 1..<n {
            let thread = Thread {
                var quiet = ProgressMeter(phase: phase, total: cut, callback: nil)
                results.set(i, Result { try runShare(store: store, through: cut, share: i, of: n, meter: &quiet) })
                done.signal()
            }
            thread.start()
        }
        let mine = Result { try runShare(store: store, through: cut, share: 0, of: n, meter: &meter) }
        for _ in 1..<n { done.wait() }
        results.set(0, mine)
        var merged = try results.take(0)
        for i in 1..<n { try merged.absorb(try results.take(i)) }
        return merged
    }

    static func runShare(store: EventStore, through cut: UInt64, share: Int, of shares: Int, meter: inout ProgressMeter) throws -> ProjectionFold {
        var fold = ProjectionFold()
        fold.share = share
        fold.shares = shares
        guard cut > 0 else { return fold }
        try store.replay(from: 1, through: cut) { view in
            try fold.apply(view)
            fold.position = view.position
            if view.position == cut { fold.hash = Array(view.hashBytes) }
            meter.tick()
            return true
        }
        for (i, stream) in fold.retractedStreams.sorted(by: bytesPrecede).enumerated() {
            try fold.refold(StreamID(String(decoding: stream, as: UTF8.self)), store: store, through: cut)
            // Each refold reads scattered pages of the log, and each read maps its
            // neighbours too: let them go now and then (see `EventStore.releaseMappedPages`).
            if store.lowMemoryReplay, i % 64 == 63 { try store.releaseMappedPages() }
        }
        return fold
    }

    /// Takes over another share's cases, translating its name ids into this fold's.
    mutating func absorb(_ other: ProjectionFold) throws {
        var map: [UInt32] = []
        map.reserveCapacity(other.names.count)
        for id in 0..<UInt32(other.names.count) {
            map.append(other.names.bytes(id).withUnsafeBytes { names.id($0) })
        }
        // One exact reallocation instead of doubling: the merged cases are at most both shares'.
        cases.reserveCapacity(cases.count + other.cases.count)
        for i in other.cases.indices where other.cases[i].exists {
            var c = other.cases[i]
            c.translate(map)
            let key = other.caseIndex.bytes(UInt32(i))
            let idx = Int(key.withUnsafeBytes { caseIndex.id($0) })
            while cases.count <= idx { cases.append(CaseState()) }
            cases[idx] = c
        }
        retracted.formUnion(other.retracted)
    }

    /// Resets one stream's state and applies its events up to `cut` again, skipping retracted ones.
    mutating func refold(_ stream: StreamID, store: EventStore, through cut: UInt64) throws {
        let bytes = Array(stream.rawValue.utf8)
        switch stream.category {
        case "case":
            let idx = bytes.withUnsafeBytes { caseIndex.find($0) }
            guard let idx else { return }
            cases[Int(idx)] = CaseState()
        case "agreement":
            let id = Array(stream.entityID.utf8).withUnsafeBytes { names.find($0) }
            guard let id else { return }
            agreements[id] = AgreementState()
        case "registry":
            registry = RegistryState()
        default:
            return
        }
        for event in try store.readStream(stream) where event.position <= cut && !retracted.contains(event.id) {
            if case .eventRetracted = event.payload { continue }
            try store.replay(from: event.position, through: event.position) { view in
                try apply(view)
                return false
            }
        }
    }

    /// Every row of a generation holding this fold's state and checkpoint.
    func rows(storeID: String) -> RowSet {
        var set = derivedRows(storeID: storeID)
        var all: [Row] = []
        all.reserveCapacity(cases.count)
        caseRows(chunk: 100_000) { all.append(contentsOf: $0) }
        set.tables[.cases] = all
        return set
    }

    /// Every row except the case rows (`caseRows(chunk:_:)`), each table sorted.
    ///
    /// The case rows are the bulk of a generation (one per case, a few hundred bytes each);
    /// a rebuild writes them in chunks straight from the state instead of holding all of
    /// them beside it.
    func derivedRows(storeID: String) -> RowSet {
        var set = RowSet()
        var counters = CounterTable(capacity: cases.count)
        var openRows: [Row] = []
        cases.withUnsafeBufferPointer { all in
            for i in all.indices where all[i].exists {
                if all[i].isOpen {
                    let key = caseIndex.withBytes(UInt32(i)) { caseKey(stream: $0) }
                    let row = OpenCaseRow(all[i])
                    let value = row.encoded()
                    for k in row.keys(caseKey: key) { openRows.append(Row(key: k, value: value)) }
                }
                all[i].contribute { k, v in counters.add(k, v) }
            }
        }
        set.tables[.open] = openRows
        var counterRows: [Row] = []
        counterRows.reserveCapacity(counters.count)
        counters.forEach { k, v in counterRows.append(Row(key: k.bytes, value: le64(v))) }
        set.tables[.counters] = counterRows
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

    /// The case rows in key order, handed to `body` `chunk` at a time.
    func caseRows(chunk: Int, _ body: ([Row]) throws -> Void) rethrows {
        // Sort the case indices by their row key (the stream id without `case-`), reading
        // the keys in place: no key is copied until its row is made.
        var order: [UInt32] = []
        order.reserveCapacity(cases.count)
        for i in cases.indices where cases[i].exists { order.append(UInt32(i)) }
        let prefix = Self.casePrefix.count
        func key(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            b.starts(with: Self.casePrefix) ? UnsafeRawBufferPointer(rebasing: b.dropFirst(prefix)) : b
        }
        order.sort { a, b in
            caseIndex.withBytes(a) { pa in
                caseIndex.withBytes(b) { pb in
                    let x = key(pa), y = key(pb)
                    let n = min(x.count, y.count)
                    if n > 0, let xb = x.baseAddress, let yb = y.baseAddress {
                        let c = memcmp(xb, yb, n)
                        if c != 0 { return c < 0 }
                    }
                    return x.count < y.count
                }
            }
        }
        var rows: [Row] = []
        rows.reserveCapacity(min(chunk, order.count))
        for i in order {
            let k = caseIndex.withBytes(i) { caseKey(stream: $0) }
            rows.append(Row(key: k, value: cases[Int(i)].encoded()))
            if rows.count >= chunk {
                try body(rows)
                rows.removeAll(keepingCapacity: true)
            }
        }
        if !rows.isEmpty { try body(rows) }
    }
}

func le64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

func readLE64(_ b: UnsafeRawBufferPointer) -> Int64 {
    b.count >= 8 ? Int64(littleEndian: b.loadUnaligned(as: Int64.self)) : 0
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
