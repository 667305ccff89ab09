import Crypto
import Foundation
import Testing
@testable import ReferralEvents

/// The access log: append-only, hash-chained, apart from the event log, never a copy of
/// the data shown.
@Suite struct PrivacyAccessLogTests {
    let p: PrivacyFixture
    init() throws { p = try PrivacyFixture() }

    func entry(_ reader: ReaderIdentity, cases: [String], purpose: String = "Opfølgning") -> AccessLogEntry {
        AccessLogEntry(reader: reader, action: .personalDetails, cases: cases, resident: nil, purpose: purpose, fields: ["name"],
                       outcome: .granted, basis: "own organisation", logPosition: 0)
    }

    @Test func readsAreLoggedWithWhoWhenWhyAndNotTheData() throws {
        let resident = try p.openCase("C1", PrivacyFixture.anne)
        let head = try p.store.head()
        _ = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Forberede møde med jobcentret")
        _ = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Ringe til borgeren")
        // Reads do not touch the event log or its chain.
        #expect(try p.store.head() == head)
        let log = try p.dp.accessLog.list(AccessLogQuery(caseID: "C1"))
        #expect(log.map(\.sequence) == [1, 2])
        #expect(log.map(\.entry.purpose) == ["Forberede møde med jobcentret", "Ringe til borgeren"])
        #expect(log.allSatisfy { $0.entry.reader == PrivacyFixture.secretariat && $0.entry.resident == resident && $0.entry.cases == ["C1"] })
        #expect(log.allSatisfy { $0.recordedAt == Fixture.today && $0.entry.logPosition == head.position })
        // The access log's file holds no CPR number, name, phone or address.
        let d = PrivacyFixture.anne
        var needles = RawScan.needles(for: d)
        for extra in [d.phone, d.email, d.address].compactMap({ $0 }) { needles += RawScan.encodings(extra).map { ("detail", $0) } }
        #expect(try RawScan.hits(needles, under: p.directory).isEmpty)
        // …while it does hold the purpose in clear (so the scan would see text if it were there).
        let raw = try Data(contentsOf: URL(fileURLWithPath: AccessLog.path(in: p.directory)))
        #expect(raw.range(of: Data("Ringe til borgeren".utf8)) != nil)
    }

    @Test func listFiltersByCaseActorOrganisationAndTime() throws {
        let clock = TestClock(Fixture.at(2024, 3, 1))
        let log = try AccessLog(directory: p.directory, durable: false, clock: { clock.now() })
        try log.record(entry(PrivacyFixture.secretariat, cases: ["C1"]))
        clock.set(Fixture.at(2024, 3, 5))
        try log.record(entry(PrivacyFixture.jobcenter, cases: ["C1", "C2"]))
        clock.set(Fixture.at(2024, 3, 9))
        try log.record(entry(PrivacyFixture.secretariat, cases: ["C2"]))
        #expect(try log.list(AccessLogQuery(caseID: "C1")).map(\.sequence) == [1, 2])
        #expect(try log.list(AccessLogQuery(caseID: "C2")).map(\.sequence) == [2, 3])
        #expect(try log.list(AccessLogQuery(caseID: "C")).isEmpty)  // a prefix of a case id is not that case
        #expect(try log.list(AccessLogQuery(actor: "fre-lis-01")).map(\.sequence) == [1, 3])
        #expect(try log.list(AccessLogQuery(organisation: "jobcenter-fredericia")).map(\.sequence) == [2])
        #expect(try log.list(AccessLogQuery(from: Fixture.at(2024, 3, 2), through: Fixture.at(2024, 3, 9))).map(\.sequence) == [2, 3])
        #expect(try log.list(AccessLogQuery(caseID: "C2", actor: "fre-lis-01")).map(\.sequence) == [3])
        #expect(try log.list(AccessLogQuery(limit: 2)).map(\.sequence) == [1, 2])
    }

    @Test func timeNeverRunsBackwardsAlongTheLog() throws {
        let clock = TestClock(Fixture.at(2024, 3, 5))
        let log = try AccessLog(directory: p.directory, durable: false, clock: { clock.now() })
        try log.record(entry(PrivacyFixture.secretariat, cases: ["C1"]))
        clock.set(Fixture.at(2024, 3, 1))  // the wall clock was set back
        let second = try log.record(entry(PrivacyFixture.secretariat, cases: ["C1"]))
        #expect(second.recordedAt == Fixture.at(2024, 3, 5))
    }

    @Test func theChainVerifiesAndAnEditedEntryShows() throws {
        let log = p.dp.accessLog
        for c in ["C1", "C2", "C3"] { try log.record(entry(PrivacyFixture.secretariat, cases: [c])) }
        let records = try log.list()
        #expect(records[0].previousHash == String(repeating: "0", count: 64))
        #expect(records[1].previousHash == records[0].hash)
        #expect(records[2].previousHash == records[1].hash)
        let ok = try log.verify()
        #expect(ok.isValid)
        #expect(ok.entriesChecked == 3)
        #expect(ok.headHash == records[2].hash)
        // Edit entry 2's purpose in place, keeping its stored hashes.
        try log.env.write { txn in
            guard let v = try txn.get(log.entries, bigEndianKey(2)) else { Issue.record("entry 2 missing"); return }
            var bytes = Array(v)
            let from = Array("Opfølgning".utf8), to = Array("Opfølgnin_".utf8)
            if let i = (0...(bytes.count - from.count)).first(where: { Array(bytes[$0..<$0 + from.count]) == from }) {
                bytes.replaceSubrange(i..<i + from.count, with: to)
            }
            try txn.put(log.entries, bigEndianKey(2), bytes)
        }
        let bad = try log.verify()
        #expect(!bad.isValid)
        #expect(bad.failure?.position == 2)
        #expect(bad.entriesChecked == 1)
    }

    /// The chain is unkeyed: the last entry removed, or an entry edited with every later hash
    /// recomputed, passes the chain check alone (as QA showed); a head kept outside the store
    /// catches both.
    @Test func aTruncatedOrRehashedLogShowsAgainstAHeadKeptOutside() throws {
        let log = p.dp.accessLog
        for c in ["C1", "C2", "C3"] { try log.record(entry(PrivacyFixture.secretariat, cases: [c])) }
        let head = try log.head()
        let last = try log.list().last
        #expect(head.entries == 3 && head.hash == last?.hash)
        #expect(try log.verify(expectedHead: head).isValid)

        try log.env.write { txn in _ = try txn.delete(log.entries, bigEndianKey(3)) }
        #expect(try log.verify().isValid)  // what the chain alone cannot see
        let truncated = try log.verify(expectedHead: head)
        #expect(truncated.failure?.code == .corrupt && truncated.failure?.position == 3)
        #expect(truncated.failure?.message.contains("entries after 2 were removed") == true)

        // Entry 3 again, then entry 2 edited and entries 2 and 3 rehashed: sha256(prev ‖ body).
        try log.record(entry(PrivacyFixture.secretariat, cases: ["C3"]))
        try log.env.write { txn in
            var previous = Array(try #require(try txn.get(log.entries, bigEndianKey(1))).suffix(32))
            for seq: UInt64 in 2...3 {
                let v = Array(try #require(try txn.get(log.entries, bigEndianKey(seq))))
                var body = Array(v.prefix(v.count - 64))
                if seq == 2, let i = (0...(body.count - 3)).first(where: { Array(body[$0..<$0 + 3]) == Array("C2\"".utf8) }) { body[i + 1] = UInt8(ascii: "9") }
                let hash = Array(SHA256.hash(data: previous + body))
                try txn.put(log.entries, bigEndianKey(seq), body + previous + hash)
                previous = hash
            }
        }
        #expect(try log.list().map(\.entry.cases) == [["C1"], ["C9"], ["C3"]])
        #expect(try log.verify().isValid)
        let rewritten = try log.verify(expectedHead: head)
        #expect(rewritten.failure?.message.contains("access log entry 3 does not have the hash the head file records") == true)
    }

    @Test func aRemovedEntryShows() throws {
        let log = p.dp.accessLog
        for c in ["C1", "C2", "C3"] { try log.record(entry(PrivacyFixture.secretariat, cases: [c])) }
        try log.env.write { txn in _ = try txn.delete(log.entries, bigEndianKey(2)) }
        let bad = try log.verify()
        #expect(bad.failure?.code == .corrupt)
        #expect(bad.failure?.position == 2)
    }

    @Test(arguments: ["", "   ", "Borger 010190-1234 ringede", "cpr 0101901234", "ring 010190 1234"])
    func aPurposeThatIsEmptyOrHoldsACPRNumberIsRefusedAndNothingIsWritten(_ purpose: String) throws {
        let e = #expect(throws: LogError.self) { try p.dp.accessLog.record(entry(PrivacyFixture.secretariat, cases: ["C1"], purpose: purpose)) }
        #expect(e?.code == .invalidInput)
        #expect(try p.dp.accessLog.count == 0)
    }

    @Test(arguments: ["Sag 2024-0001 opfølgning", "telefon 20304050", "ref 12345678901", "dato 01.01.1990"])
    func ordinaryNumbersInAPurposeAreAllowed(_ purpose: String) throws {
        try p.dp.accessLog.record(entry(PrivacyFixture.secretariat, cases: ["C1"], purpose: purpose))
        #expect(try p.dp.accessLog.count == 1)
    }

    @Test func readsAreLoggedByTheAccessLogOnly() throws {
        try p.openCase("C1", PrivacyFixture.anne)
        let before = try p.eventCounts()
        for _ in 0..<3 { _ = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Opfølgning") }
        #expect(try p.eventCounts() == before)
        #expect(try p.dp.accessLog.count == 3)
        #expect(try p.store.verify().isValid)
    }
}
