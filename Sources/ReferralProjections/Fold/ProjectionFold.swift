import Foundation
import ReferralEvents

/// All projections folded in memory in one pass over the log: registry, cases and
/// agreements. A full rebuild and an as-of query both run this, then derive rows.
///
/// Only case, registry and agreement events are looked at; payloads are read field by
/// field straight from the LMDB page and identifiers interned without making Strings.
struct ProjectionFold {
    var names = ByteInterner(capacity: 1024)
    var caseIndex = ByteInterner(capacity: 4096)
    var cases: [CaseState] = []
    var registry = RegistryState()
    var agreements: [UInt32: AgreementState] = [:]
    /// Events retracted at or before the fold's position, and the streams they are in.
    var retracted: Set<UUID> = []
    var retractedStreams: Set<[UInt8]> = []
    /// The last position applied and its hash.
    var position: UInt64 = 0
    var hash: [UInt8] = [UInt8](repeating: 0, count: 32)

    static let agreementPrefix = Array("agreement-".utf8)

    mutating func apply(_ view: EventView) throws {
        let code = view.typeCode
        if code >= EventType.caseOpened.code && code <= EventType.caseReopened.code {
            let idx = Int(caseIndex.id(view.streamBytes))
            if idx == cases.count { cases.append(CaseState()) }
            try cases[idx].apply(view, names: &names)
        } else if code >= EventType.hoursAgreementMade.code && code <= EventType.hoursAgreementEnded.code {
            let id = names.id(UnsafeRawBufferPointer(rebasing: view.streamBytes.dropFirst(Self.agreementPrefix.count)))
            try agreements[id, default: AgreementState()].apply(view, names: &names)
        } else if code >= EventType.organisationRegistered.code && code <= EventType.targetGroupDefined.code {
            try registry.apply(view, names: &names)
        } else if code == EventType.eventRetracted.code {
            retracted.insert(try view.decode(EventRetracted.self).retractedEventId)
            retractedStreams.insert(Array(view.streamBytes))
        }
    }

    /// Folds positions 1…`cut` of `store`, leaving out events retracted at or before `cut`.
    ///
    /// One pass folds everything. A retraction is always in the same stream as the event
    /// it retracts and comes after it, and no stream's state depends on another's, so each
    /// stream that met a retraction is then folded again from its own events without the
    /// retracted ones. Retractions are rare; the common path pays nothing for them.
    static func run(store: EventStore, through cut: UInt64, meter: inout ProgressMeter) throws -> ProjectionFold {
        var fold = ProjectionFold()
        guard cut > 0 else { return fold }
        try store.replay(from: 1, through: cut) { view in
            try fold.apply(view)
            fold.position = view.position
            if view.position == cut { fold.hash = Array(view.hashBytes) }
            meter.tick()
            return true
        }
        for stream in fold.retractedStreams.sorted(by: bytesPrecede) {
            try fold.refold(StreamID(String(decoding: stream, as: UTF8.self)), store: store, through: cut)
        }
        return fold
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
        var set = RowSet()
        var counters = CounterTable(capacity: cases.count)
        var caseRows: [Row] = []
        var openRows: [Row] = []
        caseRows.reserveCapacity(cases.count)
        for (i, c) in cases.enumerated() where c.exists {
            let key = caseKey(stream: caseIndex.bytes(UInt32(i)))
            caseRows.append(Row(key: key, value: c.encoded()))
            if c.isOpen {
                let row = OpenCaseRow(c)
                let value = row.encoded()
                for k in row.keys(caseKey: key) { openRows.append(Row(key: k, value: value)) }
            }
            c.contribute { k, v in counters.add(k, v) }
        }
        set.tables[.cases] = caseRows
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
}

func le64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

func readLE64(_ b: UnsafeRawBufferPointer) -> Int64 {
    b.count >= 8 ? Int64(littleEndian: b.loadUnaligned(as: Int64.self)) : 0
}
