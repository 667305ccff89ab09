import Foundation
@testable import ReferralEvents
import Testing

/// One way of tampering with the log through Python's LMDB binding (Tests/tamper_store.py).
struct TamperCase: Sendable, CustomTestStringConvertible {
    var name: String
    var operation: [String]
    /// The first bad position `verify` must name.
    var firstBad: UInt64
    /// True for a clean truncation: the chain is sound, only the external head can tell.
    var onlyTheHeadCanTell = false
    var testDescription: String { name }
}

/// Issue 6.3: tampering with stored events, and rolling the store back, is detected by
/// `verify`, which names the first bad position. The store is made by `referral-worker`:
/// 9 registry events, then 20 events (the "old" copy is taken here), then 40 more: 69 events.
@Suite(.serialized) struct TamperTests {
    let dir: TempDirectory
    let store: String
    let oldCopy: String
    let headFile: String
    let head: LogHead
    let events: [RecordedEvent]
    static let total: UInt64 = 69
    static let oldTotal: UInt64 = 29

    init() throws {
        dir = try TempDirectory("tamper")
        store = dir.sub("store")
        oldCopy = dir.sub("old")
        headFile = dir.sub("head.json")
        for run in [["init", "--store", store, "--agreement", "a", "--agreement", "b"],
                    ["append", "--store", store, "--stream", "agreement-a", "--stream", "agreement-b", "--count", "20", "--batch", "4", "--seed", "11", "--tag", "t1", "--no-sync"]] {
            let r = try Worker.run(run)
            try #require(r.exitedCleanly, "\(run[0]): \(r.summary)")
        }
        try copyStoreFile(from: store, to: oldCopy)
        let more = try Worker.run(["append", "--store", store, "--stream", "agreement-a", "--stream", "agreement-b", "--count", "40", "--batch", "4", "--seed", "12", "--tag", "t2", "--no-sync"])
        try #require(more.exitedCleanly, "append: \(more.summary)")
        let s = try EventStore(at: store, durable: false)
        events = try s.read()
        head = try s.head()
        try #require(head.position == Self.total)
        try head.write(to: headFile)
    }

    /// Opens a copy (nothing else has it open) and verifies it, with and without the head file.
    func verify(_ directory: String, head: LogHead?) throws -> VerifyReport {
        try EventStore(at: directory, durable: false).verify(expectedHead: head)
    }

    @Test func anUntouchedStoreVerifiesWithAndWithoutItsHeadFile() throws {
        defer { dir.remove() }
        let fileHead = try LogHead.read(from: headFile)
        #expect(fileHead == head)
        let plain = try verify(store, head: nil)
        #expect(plain.isValid && plain.eventsChecked == Self.total)
        #expect(plain.head == head)
        #expect(try verify(store, head: fileHead).isValid)
        // The independent reader agrees.
        let python = try PythonTool.run("check_store.py", [store])
        #expect(python.status == 0, "check_store.py: \(python.output)")
    }

    @Test func aHeadFileRoundTripsAndBadOnesAreRefusedClearly() throws {
        defer { dir.remove() }
        let missing = #expect(throws: LogError.self) { try LogHead.read(from: dir.sub("nope.json")) }
        #expect(missing?.code == .notFound)
        for (name, text) in [("garbage", "not json"), ("short-hash", #"{"position":3,"hash":"abc"}"#),
                             ("no-position", #"{"hash":"\#(head.hash)"}"#), ("negative", #"{"position":-1,"hash":"\#(head.hash)"}"#)] {
            let path = dir.sub(name)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let e = #expect(throws: LogError.self, "\(name)") { try LogHead.read(from: path) }
            #expect(e?.code == .invalidInput, "\(name)")
            #expect(e?.message.contains(path) == true, "the error names the file")
        }
        // A head whose hash does not match the event at its position: the log was rewritten.
        var forged = head
        forged.hash = String(repeating: "ab", count: 32)
        let report = try verify(store, head: forged)
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.position == head.position)
    }

    /// The stored bytes of `event`, rebuilt independently of the store with `EventRecord.encode`.
    func recordBytes(_ e: RecordedEvent) throws -> [UInt8] {
        let proposed = ProposedEvent(id: e.id, stream: e.stream, payload: e.payload, occurredAt: e.envelope.occurredAt,
                                     actor: e.envelope.actor, organisation: e.envelope.organisation,
                                     correlationId: e.envelope.correlationId, causationId: e.envelope.causationId)
        let (bytes, hash) = try EventRecord.encode(proposed, position: e.position, version: e.envelope.version,
                                               recordedAt: e.envelope.recordedAt, previousHash: e.envelope.previousHash)
        try #require(hash == e.envelope.hash, "the rebuilt record of position \(e.position) hashes like the stored one")
        return bytes
    }

    @Test func flippingAnyByteOfAStoredEventIsDetectedAtItsPosition() throws {
        defer { dir.remove() }
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: EventStore.logPath(in: store))))
        let targets: [UInt64] = RunSize.heavy ? Array(1...Self.total) : [1, 35, Self.total]
        let masks: [UInt8] = RunSize.heavy ? [0x01, 0x80, 0xFF] : [0x01]
        var tried = 0, missed = 0
        for position in targets {
            let record = try recordBytes(events[Int(position) - 1])
            // LMDB copies pages on write, so stale copies of a record may linger in free pages;
            // flipping every copy certainly flips the live one.
            let copies = file.indices.dropLast(record.count - 1).filter { i in
                file[i] == record[0] && file[i..<(i + record.count)].elementsEqual(record)
            }
            try #require(!copies.isEmpty, "position \(position)'s record was not found in log.mdb")
            for byte in record.indices {
                for mask in masks {
                    var tampered = file
                    for c in copies { tampered[c + byte] ^= mask }
                    let copy = dir.sub("flip")
                    try? FileManager.default.removeItem(atPath: copy)
                    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
                    try Data(tampered).write(to: URL(fileURLWithPath: EventStore.logPath(in: copy)))
                    let report = try verify(copy, head: head)
                    tried += 1
                    if report.failure?.code != .corrupt || report.failure?.position != position {
                        missed += 1
                        Issue.record("byte \(byte) of position \(position) xor \(mask): \(report.failure.map { "\($0.code) at \($0.position ?? 0): \($0.message)" } ?? "not detected")")
                    }
                }
            }
        }
        report("tamper-flips", ["records": targets.count, "flips_tried": tried, "missed": missed])
    }

    static let cases: [TamperCase] = [
        TamperCase(name: "delete a record in the middle", operation: ["delete", "35"], firstBad: 35),
        TamperCase(name: "delete the first record", operation: ["delete", "1"], firstBad: 1),
        TamperCase(name: "delete a record and its index entries", operation: ["delete-all", "35"], firstBad: 35),
        TamperCase(name: "delete the last record", operation: ["delete", "69"], firstBad: 69),
        TamperCase(name: "swap two records", operation: ["swap", "20", "50"], firstBad: 20),
        TamperCase(name: "swap neighbours", operation: ["swap", "40", "41"], firstBad: 40),
        TamperCase(name: "flip a byte through LMDB", operation: ["flip", "50", "120"], firstBad: 50),
        TamperCase(name: "point an event id at another event", operation: ["repoint-id", "30", "31"], firstBad: 30),
        TamperCase(name: "truncate the last ten events cleanly", operation: ["truncate", "60"], firstBad: 60, onlyTheHeadCanTell: true),
        TamperCase(name: "truncate every event cleanly", operation: ["truncate", "1"], firstBad: 1, onlyTheHeadCanTell: true),
    ]

    @Test(arguments: cases)
    func tamperingThroughLMDBIsDetectedAtTheFirstBadPosition(_ c: TamperCase) throws {
        defer { dir.remove() }
        let copy = dir.sub("case")
        try copyStoreFile(from: store, to: copy)
        let tool = try PythonTool.run("tamper_store.py", [copy] + c.operation)
        try #require(tool.status == 0, "tamper_store.py \(c.operation): \(tool.output)")

        let withoutHead = try verify(copy, head: nil)
        let withHead = try verify(copy, head: try LogHead.read(from: headFile))
        let independent = try PythonTool.run("check_store.py", [copy])
        // `verify` looks events up only after its scans in key order found something wrong.
        let scans = try EventStore(at: copy, durable: false).verifyInKeyOrder(expectedHead: nil, progress: nil).report
        #expect(scans.isValid == withoutHead.isValid, "the scans in key order and the look-ups disagree")
        if c.onlyTheHeadCanTell {
            // The chain of what is left is sound; this is why the head is kept outside the store.
            #expect(withoutHead.isValid)
            #expect(independent.status == 0, "the independent reader also sees a sound chain: \(independent.output)")
            #expect(withHead.failure?.message.contains("truncated or the store was rolled back") == true)
        } else {
            #expect(withoutHead.failure?.code == .corrupt)
            #expect(withoutHead.failure?.position == c.firstBad, "\(withoutHead.failure?.message ?? "not detected")")
            #expect(independent.status != 0, "the independent reader misses it: \(independent.output)")
        }
        #expect(withHead.failure?.code == .corrupt)
        #expect(withHead.failure?.position == c.firstBad, "\(withHead.failure?.message ?? "not detected")")
    }

    /// A rule row changed outside the append path leaves the log and its indexes sound:
    /// `verify` passes, `verifyRules` names the row.
    @Test func aForgedRuleRowIsCaughtOnlyByVerifyRules() throws {
        defer { dir.remove() }
        let copy = dir.sub("forged")
        try copyStoreFile(from: store, to: copy)
        #expect(try EventStore(at: copy, durable: false).verifyRules().isValid)
        let tool = try PythonTool.run("tamper_store.py", [copy, "bump-hours"])
        try #require(tool.status == 0, "tamper_store.py bump-hours: \(tool.output)")
        let forged = try EventStore(at: copy, durable: false)
        #expect(try forged.verify().isValid)
        let report = try forged.verifyRules()
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.message.hasPrefix("the daily hours row of 'agreement-") == true, "\(report.failure?.message ?? "not detected")")
        #expect(report.failure?.message.hasSuffix("is not what the log gives: its bytes differ from a replay's") == true)
        // The rows are derived: deriving them again from the log mends them.
        try forged.rebuildRules()
        #expect(try forged.verifyRules().isValid)
    }

    @Test func rollingBackToAnOlderCopyIsCaughtByTheHeadFile() throws {
        defer { dir.remove() }
        let rolled = dir.sub("rolled")
        try copyStoreFile(from: oldCopy, to: rolled)
        // The older copy is a sound log in itself …
        let plain = try verify(rolled, head: nil)
        #expect(plain.isValid && plain.eventsChecked == Self.oldTotal)
        // … and matches its own part of the chain: an older head still verifies.
        #expect(try verify(store, head: plain.head).isValid, "a head kept earlier verifies against the grown log")
        // Only the head kept outside shows that events are gone.
        let report = try verify(rolled, head: try LogHead.read(from: headFile))
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.position == Self.oldTotal + 1)
        #expect(report.failure?.message.contains("rolled back") == true)
    }

    @Test func aRolledBackStoreThatKeptGrowingIsCaughtAtTheHeadsPosition() throws {
        defer { dir.remove() }
        let rolled = dir.sub("rolled")
        try copyStoreFile(from: oldCopy, to: rolled)
        let fork = try Worker.run(["append", "--store", rolled, "--stream", "agreement-a", "--count", "60", "--tag", "fork", "--no-sync"])
        try #require(fork.exitedCleanly, "append: \(fork.summary)")
        #expect(try verify(rolled, head: nil).isValid)
        // The head records position 69 with a hash; the forked log has another event there.
        // A head cannot tell where the fork began, so the position it can prove bad is its own.
        let report = try verify(rolled, head: try LogHead.read(from: headFile))
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.position == Self.total)
        #expect(report.failure?.message.contains("rewritten") == true)
    }
}
