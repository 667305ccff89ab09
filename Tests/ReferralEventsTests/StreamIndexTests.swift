import Foundation
import Testing
@testable import ReferralEvents

/// The chunked stream index with the case rule rows beside it (store layout 3), the case
/// rule row read in place with its parties by organisation number (layout 4), and the moves
/// from layouts 2 and 3.
@Suite struct StreamIndexTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    static let resident = Pseudonym(high: 7, low: 9)

    /// `n` erasure decisions about one resident: a stream with no rule state, so any length.
    static func decisions(_ n: Int, from first: Int) -> [ProposedEvent] {
        (first..<(first + n)).map { i in
            Fixture.event(.resident(resident), .erasureRefused(.init(resident: resident, reason: "Sagen er ikke afsluttet \(i)", legalBasis: "Arkivloven")))
        }
    }

    @Test func chunkEncodingIsVarintDeltasWorkedOutByHand() throws {
        // 1, then +2, then +197 = 0b1_1000101: low seven bits 0x45 with the high bit, then 0x01.
        #expect(StreamIndex.encode([1, 3, 200]) == [0x01, 0x02, 0xC5, 0x01])
        let decoded = [UInt8]([0x01, 0x02, 0xC5, 0x01]).withUnsafeBytes { StreamIndex.decode($0) }
        #expect(decoded == [1, 3, 200])
        #expect([UInt8]([0x05, 0x00]).withUnsafeBytes { StreamIndex.decode($0) } == nil, "a zero distance is malformed")
        #expect([UInt8]([0x85]).withUnsafeBytes { StreamIndex.decode($0) } == nil, "a varint running off the end is malformed")
        #expect([1, 64, 65, 128, 129, 130].map(StreamIndex.chunkStart) == [1, 1, 65, 65, 129, 129])
    }

    @Test func aLongStreamSpansChunksAndReadsBackFromAnyVersion() throws {
        let registry = UInt64(Fixture.registry.count)
        // Batches of 50 and 30 cross the chunk boundaries at 64 and 128 inside a batch.
        var written = 0
        for n in [50, 30, 20, 30] {
            try f.store.append(Self.decisions(n, from: written))
            written += n
        }
        let stream = StreamID.resident(Self.resident)
        #expect(try f.store.streamVersion(stream) == 130)
        let tail = try f.store.readStream(stream, fromVersion: 60)
        #expect(tail.map(\.envelope.version) == Array(60...130))
        // The stream's events are the only ones after the registry, so version v is at registry + v.
        #expect(tail.map(\.position) == Array((registry + 60)...(registry + 130)))
        #expect(try f.store.readStream(stream, fromVersion: 129, limit: 1).map(\.position) == [registry + 129])
        #expect(try f.store.readStream(stream, fromVersion: 131).isEmpty)
        let listed = try f.store.streamIDs(prefix: "resident-")
        #expect(listed.count == 1 && listed.first?.version == 130)
        #expect(try f.store.streamIDs().first { $0.stream == .registry }?.version == registry)
        // Three chunks (1, 65, 129) for this stream, one for the registry.
        let chunks = try f.store.env.read { txn in try txn.count(f.store.streams) }
        #expect(chunks == 4)
        #expect(try f.store.verify().isValid)
        // Expected versions see the chunked head.
        let e = #expect(throws: LogError.self) { try f.store.append(Self.decisions(1, from: 999)[0], expected: .exactly(129)) }
        #expect(e?.actualVersion == 130)
    }

    @Test func aRowRemovedFromTheStreamIndexIsFoundByVerify() throws {
        try f.store.append(Self.decisions(70, from: 0))
        let stream = StreamID.resident(Self.resident)
        // Drop the last entry of the second chunk (version 70) as a forger would.
        try f.store.env.write { txn in
            try txn.put(f.store.streams, StreamIndex.key(stream, 65), StreamIndex.encode((65...69).map { UInt64(Fixture.registry.count) + $0 }))
        }
        let report = try f.store.verify()
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.position == UInt64(Fixture.registry.count) + 70)
        #expect(try f.store.streamVersion(stream) == 69)
    }

    @Test func aChunkNamingAPositionPastTheLogIsAnErrorNotACrash() throws {
        try f.store.append(Self.decisions(2, from: 0))
        let stream = StreamID.resident(Self.resident)
        try f.store.env.write { txn in try txn.put(f.store.streams, StreamIndex.key(stream, 1), StreamIndex.encode([5_000, 5_001])) }
        let e = #expect(throws: LogError.self) { try f.store.append(Self.decisions(1, from: 2)) }
        #expect(e?.code == .corrupt)
        #expect(e?.message.contains("names position 5001") == true, "\(e?.message ?? "")")
    }

    /// A case row shorter than layout 5's header (a layout 4 row a process of an older build
    /// still running wrote) is refused as damaged when an append reads it: reading or
    /// changing it in place used to run past its end, a crash.
    @Test func aCaseRowShorterThanItsHeaderIsDamagedNotACrash() throws {
        let f = try Fixture()
        try f.store.append([Fixture.opened("C1")])
        try f.store.env.write { txn in try txn.put(f.store.streams, StreamIndex.caseRowKey(.case("C1")), [1, 0, 0, 0, 0]) }
        let close = Fixture.event(.case("C1"), .caseClosed(.init(reason: "Fik job")))
        let error = try #require(throws: LogError.self) { try f.store.append([close]) }
        #expect(error.code == .corrupt && error.message.contains("shorter than layout 5's 9-byte header"), "\(error.message)")
    }

    @Test func aStoreOfTheOldLayoutIsRefusedClearly() throws {
        // What a layout-1 store (a `streams` entry per event, a `stream_heads` tree) says it is.
        try f.store.env.write { txn in try txn.put(f.store.meta, Array("format".utf8), [1]) }
        let e = #expect(throws: LogError.self) { try EventStore(at: f.directory) }
        #expect(e?.code == .unsupportedFormat)
        #expect(e?.message.contains("has format 1; this build reads format 6") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("referral export") == true)
        // A newer build's layout is not this build's to export.
        try f.store.env.write { txn in try txn.put(f.store.meta, Array("format".utf8), [7]) }
        let newer = #expect(throws: LogError.self) { try EventStore(at: f.directory) }
        #expect(newer?.code == .unsupportedFormat)
        #expect(newer?.message.contains("has format 7, written by a newer build") == true, "\(newer?.message ?? "")")
    }

    @Test func aCaseRowSitsBesideItsChunksAndIsNoChunk() throws {
        let registryRows = try f.store.env.read { txn in try txn.count(f.store.rules) }
        try f.store.append([Fixture.opened("C1"), Fixture.consent("C1"), Fixture.opened("C10")])
        let keys = try f.store.env.read { txn in
            var out: [[UInt8]] = []
            try txn.forEach(f.store.streams) { key, _ in out.append(Array(key)); return true }
            return out
        }
        let c1 = StreamID.case("C1"), c10 = StreamID.case("C10")
        // "case-C1" ‖ 0 sorts before "case-C10": each case's row is just before its own chunk.
        #expect(keys.prefix(4) == [StreamIndex.caseRowKey(c1), StreamIndex.key(c1, 1), StreamIndex.caseRowKey(c10), StreamIndex.key(c10, 1)])
        #expect(try f.store.env.read { txn in try txn.count(f.store.rules) } == registryRows, "no case row in `rules`")
        #expect(try f.store.streamIDs(prefix: "case-").map(\.version) == [2, 1])
        #expect(try f.store.consentState(ofCase: "C1")?.consents.map(\.consentId) == ["K1"])
        #expect(try f.store.verify().isValid)
        // The fast scan itself passes the case rows (not only the look-up check `verify` falls back on).
        #expect(try f.store.verifyInKeyOrder(expectedHead: nil, progress: nil).report.isValid)
    }

    /// An append reads a case's row with the step before its first chunk when it has one
    /// chunk, and searches for it otherwise: both give the rules the right row, and a case
    /// whose opening was retracted (a chunk, no row) is no case.
    @Test func theCaseRowBesideTheChunkIsTheOneTheRulesRead() throws {
        let c = StreamID.case("C1")
        try f.store.append([Fixture.opened("C1"), Fixture.consent("C1")])
        // 70 versions: two chunks, so the step before the last chunk is the first chunk.
        let contacts = (0..<68).map { i in
            Fixture.event(c, .caseAssigned(.init(liaisonId: i % 2 == 0 ? "fre-lis-02" : "fre-lis-01", reason: "Vagtplan \(i)")), at: Fixture.at(2024, 2, 3))
        }
        try f.store.append(contacts)
        #expect(try f.store.streamVersion(c) == 70)
        try f.store.append(Fixture.referral("C1"))
        let refused = #expect(throws: LogError.self) { try f.store.append(Fixture.referral("C1", id: "R2", to: "grocer-1")) }
        #expect(refused?.rule == .consentRequired)

        let opened = Fixture.opened("C2")
        try f.store.append([opened, Fixture.consent("C2")])
        try f.store.append(Fixture.event(.case("C2"), .eventRetracted(.init(retractedEventId: opened.id, reason: "Forkert beboer")), at: Fixture.at(2024, 2, 3)))
        let gone = #expect(throws: LogError.self) { try f.store.append(Fixture.referral("C2")) }
        #expect(gone?.rule == .caseMustExist)
        #expect(try f.store.verifyRules().isValid)
    }

    /// `verify` checks the rules boundaries in `meta`: present, 8 bytes, within 1…head + 1.
    /// Appends refuse a boundary that is missing, of another size or 0, as damage.
    @Test(arguments: [("missing", nil), ("4 bytes, not 8", [0, 0, 0, 1]), ("is 0; positions start at 1", bigEndianKey(0)),
                      ("past the head position + 1", bigEndianKey(1_000))] as [(String, [UInt8]?)])
    func aDamagedRulesBoundaryIsFoundByVerify(_ problem: String, value: [UInt8]?) throws {
        let f = try Fixture()
        #expect(try f.store.verify().isValid)
        try f.store.env.write { txn in
            if let value { try txn.put(f.store.meta, EventStore.closeLapseFromKey, value) } else { try txn.delete(f.store.meta, EventStore.closeLapseFromKey) }
        }
        let failure = try #require(try f.store.verify().failure)
        #expect(failure.code == .corrupt && failure.message.contains("the rules boundary `rules-3-from`") && failure.message.contains(problem), "\(failure.message)")
        guard !problem.hasPrefix("past") else { return }
        let e = #expect(throws: LogError.self) { try f.store.append(Fixture.opened("C9")) }
        #expect(e?.code == .corrupt)
    }

    /// A process that had the store open when a newer build moved it to a later layout
    /// (simulated: the format byte changed under the open handle) neither appends nor
    /// replays the rules: its rules would write rows, or judge events, the newer layout
    /// reads otherwise.
    @Test func aStoreANewerBuildMovedOnWhileOpenIsNeitherWrittenNorReplayed() throws {
        let f = try Fixture()
        let head = try f.store.head()
        try f.store.env.write { txn in try txn.put(f.store.meta, EventStore.formatKey, [EventStore.layoutFormat + 1]) }
        let e = #expect(throws: LogError.self) { try f.store.append(Fixture.opened("C9")) }
        #expect(e?.code == .unsupportedFormat && e?.message.contains("is format \(EventStore.layoutFormat + 1) now") == true, "\(e?.message ?? "")")
        let chunked = #expect(throws: LogError.self) { try f.store.appendChunked { try $0([Fixture.opened("C9")]) } }
        #expect(chunked?.code == .unsupportedFormat)
        #expect(try f.store.head() == head)
        #expect(throws: LogError.self) { try f.store.verifyRules() }
        #expect(throws: LogError.self) { try f.store.rebuildRules() }
    }

    /// A layout-2 store (case rows in `rules` under `c` 0x00 stream id), layout-3 store
    /// (case rows in `streams`, their parties by id) or layout-4 store (parties by number,
    /// no days) is moved to layout 6 when it is opened: afterwards every database but `meta`
    /// holds byte for byte what a store made in layout 6 from the same events holds, and the
    /// rules read the moved rows. The events include an organisation registered, retracted
    /// and registered again, and one registered after the cases, so the numbers follow first
    /// registrations in log order; a withdrawal, a close and a reopening, an answer, a first
    /// contact and an outcome, so the rows hold every day and flag.
    @Test(arguments: [UInt8(2), 3, 4])
    func anOlderStoreIsMovedToLayout6WhenOpened(from layout: UInt8) throws {
        let cases = ["C1", "C2", "C10"]
        let late = Fixture.event(.registry, .organisationRegistered(.init(organisationId: "aa-late", name: "Sen", kind: .employer, sector: .other, municipality: "Fredericia")))
        let registry = Fixture.registry
        let grocer = try #require(registry.first { if case .organisationRegistered(let p) = $0.payload { p.organisationId == "grocer-1" } else { false } })
        let events = registry + cases.flatMap { [Fixture.opened($0), Fixture.consent($0)] } + [
            Fixture.referral("C2"), late,
            Fixture.event(.registry, .eventRetracted(.init(retractedEventId: grocer.id, reason: "Fejl"))),
            Fixture.event(.registry, .organisationRegistered(.init(organisationId: "grocer-1", name: "Købmanden", kind: .employer, sector: .other, municipality: "Fredericia"))),
            Fixture.consent("C10", id: "K2", parties: ["grocer-1", "aa-late"]),
            Fixture.event(.case("C2"), .referralAnswered(.init(referralId: "R1", accepted: true, reason: "")), at: Fixture.at(2024, 3, 2)),
            Fixture.event(.case("C2"), .jobcenterContactHeld(.init(contactKind: .first, jobcenter: "jobcenter-fredericia", referralId: "R1")), at: Fixture.at(2024, 3, 3)),
            Fixture.event(.case("C2"), .consentWithdrawn(.init(consentId: "K1", reason: "Ønsker ikke")), at: Fixture.at(2024, 3, 4)),
            Fixture.event(.case("C2"), .caseClosed(.init(reason: "Fik job")), at: Fixture.at(2024, 3, 5)),
            Fixture.event(.case("C2"), .outcomeRecorded(.init(monthsAfterClose: 1, status: .ordinaryJob)), at: Fixture.at(2024, 4, 5)),
            Fixture.event(.case("C1"), .caseClosed(.init(reason: "Flyttet")), at: Fixture.at(2024, 3, 6)),
            Fixture.event(.case("C1"), .caseReopened(.init(reason: "Flyttet tilbage")), at: Fixture.at(2024, 3, 7)),
        ]
        func contents(_ store: EventStore) throws -> [[[UInt8]]] {
            try store.env.read { txn in
                try [store.streams, store.rules, store.events, store.eventIDs].map { db in
                    var rows: [[UInt8]] = []
                    try txn.forEach(db) { k, v in rows.append([UInt8(k.count >> 8), UInt8(k.count & 0xFF)] + Array(k) + Array(v)); return true }
                    return rows
                }
            }
        }
        let made = try Fixture(seed: false)
        try made.store.append(events)
        let current = try contents(made.store)
        let directory: String
        do {
            // The same events, with the rule rows put back as the older layout kept them.
            let old = try Fixture(seed: false)
            directory = old.directory
            try old.store.append(events)
            try old.store.env.write { txn in
                for c in cases {
                    let key = StreamIndex.caseRowKey(.case(c))
                    try txn.put(old.store.streams, key, try Self.layout4Row(try #require(try txn.get(old.store.streams, key))))
                }
                try txn.delete(old.store.meta, EventStore.datedRulesFromKey)
                try txn.delete(old.store.meta, EventStore.closeLapseFromKey)
                try txn.put(old.store.meta, Array("format".utf8), [layout])
                guard layout < 4 else { return }
                var names: [OrganisationNumber: String] = [:]
                var numberKeys: [[UInt8]] = []
                try txn.forEach(old.store.rules) { k, v in
                    if k.first == UInt8(ascii: "N") {
                        names[OrganisationNumber(UInt32(bigEndian: k.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))] = String(decoding: v, as: UTF8.self)
                    }
                    if k.first == UInt8(ascii: "N") || k.first == UInt8(ascii: "n") { numberKeys.append(Array(k)) }
                    return true
                }
                for k in numberKeys { try txn.delete(old.store.rules, k) }
                for c in cases {
                    let key = StreamIndex.caseRowKey(.case(c))
                    let row = try Self.layout3Row(try #require(try txn.get(old.store.streams, key)), names: names)
                    if layout == 2 {
                        try txn.put(old.store.rules, [UInt8(ascii: "c"), 0] + key.dropLast(), row)
                        try txn.delete(old.store.streams, key)
                    } else {
                        try txn.put(old.store.streams, key, row)
                    }
                }
            }
            #expect(try contents(old.store) != current)
        }
        let reopened = try EventStore(at: directory, durable: false, clock: { Fixture.today })
        #expect(try reopened.env.read { txn in try txn.get(reopened.meta, Array("format".utf8)).map(Array.init) } == [6])
        // Every event in the log is before the rules boundaries.
        #expect(try reopened.env.read { txn in try reopened.rulesBoundaries(txn) } == .after(UInt64(events.count)))
        #expect(try contents(reopened) == current)
        #expect(try reopened.verify().isValid)
        #expect(try reopened.verifyRules().isValid)
        #expect(try reopened.consentState(ofCase: "C10")?.consents.map(\.consentId) == ["K1", "K2"])
        #expect(try reopened.consentState(ofCase: "C10")?.consents.last?.parties == ["grocer-1", "aa-late"])
        // The rules read the moved rows: a referral under C1's consent passes, one to a party
        // C1's consent does not name is refused, one under C10's second consent passes.
        try reopened.append(Fixture.referral("C1"))
        let e = #expect(throws: LogError.self) { try reopened.append(Fixture.referral("C1", id: "R2", to: "boligkontoret")) }
        #expect(e?.rule == .consentRequired)
        try reopened.append(Fixture.referral("C10", id: "R9", to: "aa-late"))
    }

    /// A layout-5 case row as layout 4 kept it: an open flag instead of the flags byte, no
    /// opening or closing day, consents without their given-on and lapsed-on days, referrals
    /// without their made-on day.
    static func layout4Row(_ row: UnsafeRawBufferPointer) throws -> [UInt8] {
        let state = try CaseRuleState(decoding: row)
        var w = BinaryWriter()
        w.bool(state.open)
        var table: [OrganisationNumber] = []
        for c in state.consents { for p in c.parties where !table.contains(p) { table.append(p) } }
        w.array(table) { $0.varint($1) }
        w.array(state.consents) { w, c in
            w.string(c.id)
            w.u8((c.lapsed ? 1 : 0) | (c.validUntil == nil ? 0 : 2))
            w.array(c.parties) { w, p in w.varint(UInt64(table.firstIndex(of: p) ?? 0)) }
            w.array(c.purposes) { $0.enumCase($1) }
            if let until = c.validUntil { w.date(until) }
        }
        w.array(state.referrals.entries) { w, r in w.string(r.key); w.bool(r.value.answered) }
        w.array(state.placements.entries) { w, p in w.string(p.key); w.date(p.value.start); w.bool(p.value.ended) }
        return w.bytes
    }

    /// A case row as layout 3 kept it: the parties' ids where layout 4 has their numbers.
    static func layout3Row(_ row: UnsafeRawBufferPointer, names: [OrganisationNumber: String]) throws -> [UInt8] {
        var r = BinaryReader(row)
        var w = BinaryWriter()
        w.bool(try r.bool())
        let numbers = try r.array { try $0.varint() }
        w.array(numbers) { w, n in w.string(names[n] ?? "?") }
        w.raw(row[r.offset...])
        return w.bytes
    }

    /// The rule rows name organisations by number, given at an organisation's first
    /// registration: retracting the registration and making it again keeps the number, so
    /// a consent given before still covers it (as when rows named parties by id), and a
    /// replay of the log gives the same rows.
    @Test func anOrganisationKeepsItsNumberThroughARetractedRegistration() throws {
        let grocer = try #require(try f.store.readStream(.registry).first { if case .organisationRegistered(let p) = $0.payload { p.organisationId == "grocer-1" } else { false } })
        func number(_ id: String) throws -> [UInt8]? { try f.store.env.read { txn in try txn.get(f.store.rules, RuleKey.organisationNumber(id)).map(Array.init) } }
        let before = try #require(try number("grocer-1"))
        try f.store.append([Fixture.opened("C1"), Fixture.consent("C1", parties: ["grocer-1", "jobcenter-fredericia"])])
        try f.store.append(Fixture.event(.registry, .eventRetracted(.init(retractedEventId: grocer.id, reason: "Fejl")), at: Fixture.at(2024, 3, 2)))
        let unknown = #expect(throws: LogError.self) { try f.store.append(Fixture.referral("C1", to: "grocer-1", at: Fixture.at(2024, 3, 3))) }
        #expect(unknown?.rule == .unknownOrganisation)
        #expect(try number("grocer-1") == before)
        try f.store.append(Fixture.event(.registry, .organisationRegistered(.init(organisationId: "grocer-1", name: "Købmanden", kind: .employer, sector: .other, municipality: "Fredericia")), at: Fixture.at(2024, 3, 3)))
        #expect(try number("grocer-1") == before)
        try f.store.append(Fixture.referral("C1", to: "grocer-1", at: Fixture.at(2024, 3, 4)))
        // A new organisation takes the next number.
        try f.store.append(Fixture.event(.registry, .organisationRegistered(.init(organisationId: "new-1", name: "Ny", kind: .employer, sector: .other, municipality: "Fredericia")), at: Fixture.at(2024, 3, 4)))
        let organisations = Fixture.registry.filter { if case .organisationRegistered = $0.payload { true } else { false } }.count
        #expect(try number("new-1") == withUnsafeBytes(of: UInt32(organisations + 1).bigEndian) { Array($0) })
        #expect(try f.store.env.read { txn in try txn.get(f.store.rules, RuleKey.organisation(numbered: UInt32(organisations + 1))).map { String(decoding: $0, as: UTF8.self) } } == "new-1")
        #expect(try f.store.consentState(ofCase: "C1")?.consents.first?.parties == ["grocer-1", "jobcenter-fredericia"])
        #expect(try f.store.verifyRules().isValid)
    }

    /// A close lapses the open consents on its day. One withdrawn on a later day (the close
    /// recorded after the withdrawal, dated before it) takes the close's day, in place, under
    /// the rule since the close-lapse boundary (`earliestLapse`: a consent lapses on the
    /// earliest day that withdrew or closed it), and keeps its own before it.
    @Test(arguments: [true, false])
    func aCloseLapsesAConsentWithdrawnOnALaterDayFromItsOwnDay(earliestLapse: Bool) throws {
        func day(_ month: Int, _ day: Int) -> CalendarDate { Fixture.day(2024, month, day) }
        var state = CaseRuleState(openedOn: day(1, 15))
        state.consents = [
            ConsentRow(id: "K1", parties: [1], purposes: [.referral], validUntil: nil, givenOn: day(2, 1), lapsedOn: nil),
            ConsentRow(id: "K2", parties: [1], purposes: [.referral], validUntil: nil, givenOn: day(2, 1), lapsedOn: day(3, 1)),
            ConsentRow(id: "K3", parties: [2], purposes: [.referral], validUntil: day(6, 30), givenOn: day(2, 1), lapsedOn: day(4, 20)),
        ]
        var row = CaseRow(state)
        try row.lapseAllConsents(on: day(4, 10), earliestLapse: earliestLapse)
        let decoded = try row.bytes.withUnsafeBytes { try CaseRuleState(decoding: $0) }
        #expect(decoded.consents.map(\.lapsedOn) == [day(4, 10), day(3, 1), earliestLapse ? day(4, 10) : day(4, 20)])
        #expect(decoded.consents.map(\.validUntil) == [nil, nil, day(6, 30)])
        #expect(row.bytes == decoded.encoded())
        #expect(try row.covers(party: 2, purpose: .referral, on: day(4, 15)) == !earliestLapse)
        #expect(try row.covers(party: 2, purpose: .referral, on: day(4, 9)))
    }

    @Test func theCaseRowInPlaceAnswersLikeTheDecodedState() throws {
        // Organisations by number, as rows name them.
        let jobcenter: OrganisationNumber = 1, bolig: OrganisationNumber = 2, grocer: OrganisationNumber = 300, nobody: OrganisationNumber = 99
        var state = CaseRuleState(openedOn: Fixture.day(2024, 1, 15))
        state.consents = [
            ConsentRow(id: "K1", parties: [jobcenter, bolig], purposes: [.referral], validUntil: Fixture.day(2024, 6, 30), givenOn: Fixture.day(2024, 2, 1), lapsedOn: nil),
            ConsentRow(id: "K2", parties: [bolig, grocer], purposes: [.informationSharing, .personalDetails], validUntil: nil,
                       givenOn: Fixture.day(2024, 1, 20), lapsedOn: Fixture.day(2024, 3, 1)),
        ]
        state.referrals["R1"] = (false, Fixture.day(2024, 2, 5))
        state.referrals["R2"] = (true, Fixture.day(2024, 2, 6))
        state.placements["P1"] = (Fixture.day(2024, 4, 2), false)
        var row = CaseRow(state)
        #expect(row.open)
        #expect(try row.consentFlags("K1") != nil && row.consentFlags("K3") == nil)
        #expect(try row.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 6, 30)))
        #expect(try !row.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 7, 1)), "expired")
        #expect(try !row.covers(party: grocer, purpose: .informationSharing, on: Fixture.day(2024, 5, 1)), "lapsed")
        #expect(try row.covers(party: grocer, purpose: .informationSharing, on: Fixture.day(2024, 2, 29)), "lapsed the day after")
        #expect(try !row.covers(party: grocer, purpose: .informationSharing, on: Fixture.day(2024, 2, 29), byDays: false), "lapsed, as before the boundary")
        #expect(try !row.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 1, 31)), "not given yet")
        #expect(try row.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 1, 31), byDays: false), "given-on not read before the boundary")
        #expect(try row.openedOn == Fixture.day(2024, 1, 15) && row.lastClosedOn == Fixture.day(2024, 1, 15))
        #expect(try !row.covers(party: jobcenter, purpose: .personalDetails, on: Fixture.day(2024, 5, 1)), "other purpose")
        #expect(try !row.covers(party: nobody, purpose: .referral, on: Fixture.day(2024, 5, 1)))
        let r1 = try #require(try row.referral("R1")), r2 = try #require(try row.referral("R2"))
        #expect(row.byte(at: r1) == 0 && row.byte(at: r2) == 1)
        #expect(try row.date(at: r1 + 1) == Fixture.day(2024, 2, 5) && row.date(at: r2 + 1) == Fixture.day(2024, 2, 6))
        #expect(try row.referral("R3") == nil)
        let p1 = try #require(try row.placement("P1"))
        #expect(try row.date(at: p1) == Fixture.day(2024, 4, 2))
        #expect(row.byte(at: p1 + 4) == 0)

        // Changes in place, then the decoded row shows them.
        row.setByte(1, at: r1)
        row.setByte(1, at: p1 + 4)
        row.setFlags(CaseFlags.firstContact, true)
        try row.addReferral("R3", madeOn: Fixture.day(2024, 4, 1))
        try row.addReferral("R4", madeOn: Fixture.day(2024, 4, 2))
        try row.addPlacement("P2", start: Fixture.day(2024, 5, 6))
        try row.lapseAllConsents(on: Fixture.day(2024, 5, 10), earliestLapse: true)
        row.setOpen(false)
        row.setLastClosedOn(Fixture.day(2024, 5, 10))
        row.setFlags(CaseFlags.outcome(3)!, true)
        let decoded = try row.bytes.withUnsafeBytes { try CaseRuleState(decoding: $0) }
        #expect(!decoded.open)
        #expect(decoded.flags == CaseFlags.firstContact | CaseFlags.outcome(3)!)
        #expect(decoded.openedOn == Fixture.day(2024, 1, 15) && decoded.lastClosedOn == Fixture.day(2024, 5, 10))
        #expect(decoded.consents.map(\.lapsed) == [true, true])
        // K2 was withdrawn before: it keeps its day.
        #expect(decoded.consents.map(\.lapsedOn) == [Fixture.day(2024, 5, 10), Fixture.day(2024, 3, 1)])
        #expect(decoded.consents.map(\.givenOn) == [Fixture.day(2024, 2, 1), Fixture.day(2024, 1, 20)])
        #expect(decoded.consents.map(\.parties) == [[jobcenter, bolig], [bolig, grocer]])
        #expect(decoded.consents.map(\.purposes) == [[.referral], [.informationSharing, .personalDetails]])
        #expect(decoded.referrals["R1"]?.answered == true && decoded.referrals["R2"]?.answered == true && decoded.referrals["R3"]?.answered == false)
        #expect(decoded.referrals["R3"]?.madeOn == Fixture.day(2024, 4, 1) && decoded.referrals["R1"]?.madeOn == Fixture.day(2024, 2, 5))
        #expect(decoded.placements["P1"]?.ended == true)
        #expect(decoded.referrals.entries.map(\.key) == ["R1", "R2", "R3", "R4"] && decoded.referrals["R4"]?.answered == false)
        #expect(decoded.placements.entries.map(\.key) == ["P1", "P2"])
        #expect(decoded.placements["P2"]?.start == Fixture.day(2024, 5, 6) && decoded.placements["P2"]?.ended == false)
        // The same bytes as encoding the decoded state.
        #expect(row.bytes == decoded.encoded())
        // A consent added in place: one new party joins the table, a known one is reused.
        let given = Fixture.day(2024, 1, 2)
        var fresh = CaseRow.opened(on: given)
        try fresh.addConsent(id: "K1", parties: [jobcenter], purposes: [.referral], validUntil: nil, givenOn: given)
        try fresh.addReferral("R1", madeOn: given)
        try fresh.addConsent(id: "K2", parties: [grocer, jobcenter], purposes: [.personalDetails, .referral], validUntil: Fixture.day(2024, 9, 1), givenOn: given)
        let both = try fresh.bytes.withUnsafeBytes { try CaseRuleState(decoding: $0) }
        #expect(both.consents.map(\.id) == ["K1", "K2"])
        #expect(both.consents.map(\.parties) == [[jobcenter], [grocer, jobcenter]])
        #expect(both.consents.map(\.purposes) == [[.referral], [.personalDetails, .referral]])
        #expect(both.consents.map(\.validUntil) == [nil, Fixture.day(2024, 9, 1)])
        #expect(both.consents.map(\.lapsed) == [false, false] && both.referrals["R1"]?.answered == false)
        // The same bytes as encoding the decoded state: the table lists each party once.
        #expect(fresh.bytes == both.encoded())
        #expect(try fresh.covers(party: grocer, purpose: .personalDetails, on: Fixture.day(2024, 9, 1)))
        #expect(try !fresh.covers(party: grocer, purpose: .informationSharing, on: Fixture.day(2024, 9, 1)))
        #expect(try !fresh.covers(party: grocer, purpose: .referral, on: Fixture.day(2024, 9, 2)), "K2 expired")
        #expect(try fresh.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 9, 2)), "K1 never expires")
        // A party named twice in one new consent joins the table once.
        try fresh.addConsent(id: "K3", parties: [bolig, grocer, bolig], purposes: [.informationSharing], validUntil: nil, givenOn: given)
        let three = try fresh.bytes.withUnsafeBytes { try CaseRuleState(decoding: $0) }
        #expect(three.consents.last?.parties == [bolig, grocer, bolig])
        #expect(fresh.bytes == three.encoded())
        // A consent withdrawn in place gets its day; the others are untouched.
        let k1 = try #require(try fresh.consentFlags("K1"))
        try fresh.lapseConsent(flagsAt: k1, on: Fixture.day(2024, 8, 1))
        let withdrawn = try fresh.bytes.withUnsafeBytes { try CaseRuleState(decoding: $0) }
        #expect(withdrawn.consents.map(\.lapsedOn) == [Fixture.day(2024, 8, 1), nil, nil])
        #expect(fresh.bytes == withdrawn.encoded())
        #expect(try fresh.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 7, 31)))
        #expect(try fresh.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 8, 1)), "K2 still covers it")
        #expect(try !fresh.covers(party: jobcenter, purpose: .referral, on: Fixture.day(2024, 9, 2)), "K1 withdrawn, K2 expired")

        // A section's count past 127 takes a second varint byte.
        var many = CaseRow.opened(on: given)
        for i in 0..<130 { try many.addReferral("R\(i)", madeOn: given) }
        try many.addPlacement("P", start: Fixture.day(2024, 1, 1))
        let big = try many.bytes.withUnsafeBytes { try CaseRuleState(decoding: $0) }
        #expect(big.referrals.entries.count == 130 && big.referrals.entries.last?.key == "R129")
        #expect(big.placements.entries.map(\.key) == ["P"])
        #expect(try many.referral("R129") != nil && many.placement("P") != nil)
    }
}
