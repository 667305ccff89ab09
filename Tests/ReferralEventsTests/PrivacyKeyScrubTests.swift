import Foundation
import Testing
@testable import ReferralEvents

/// Key destruction leaves no key bytes in any file of the store: checked by scanning the
/// raw bytes of every file for every destroyed key, after a control shows the scan finds
/// a live key and that LMDB alone would have kept a deleted one.
@Suite struct PrivacyKeyScrubTests {
    let directory: String
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("referral-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static func resident(_ i: Int) -> Pseudonym { Pseudonym(high: 0xA11CE, low: UInt64(i)) }
    static func details(_ i: Int) -> PersonalDetails { PersonalDetails(cpr: "0101900\(String(format: "%03d", i))", name: "Beboer \(i)") }

    @Test func theScanFindsALiveKey() throws {
        let keys = try KeyStore(directory: directory, create: true)
        _ = try keys.seal(Self.details(1), for: Self.resident(1))
        let key = try #require(try keys.rawKey(Self.resident(1)))
        #expect(key.count == 32)
        #expect(try RawScan.hits(RawScan.keyWindows(key, label: "key"), under: directory).contains { $0.hasPrefix("keys.mdb:") })
    }

    @Test func lmdbKeepsADeletedKeyUntilTheFileIsCompactedAndOpeningFinishesTheScrub() throws {
        var keys: KeyStore? = try KeyStore(directory: directory, create: true)
        for i in 0..<50 { _ = try keys?.seal(Self.details(i), for: Self.resident(i)) }
        let key = try #require(try keys?.rawKey(Self.resident(7)))
        // A crash between the delete and the compaction: the key is gone from the tree …
        try keys?.deleteKeyLeavingScrubPending(Self.resident(7))
        #expect(try keys?.hasKey(Self.resident(7)) == false)
        // … but its bytes are still in a freed page of keys.mdb.
        #expect(try !RawScan.hits(RawScan.keyWindows(key, label: "key 7"), under: directory).isEmpty)
        keys = nil
        // Opening the key store again finishes the compaction.
        let reopened = try KeyStore(directory: directory)
        #expect(try reopened.scrubIsPending == false)
        #expect(try RawScan.hits(RawScan.keyWindows(key, label: "key 7"), under: directory).isEmpty)
        #expect(try reopened.open(try reopened.seal(Self.details(8), for: Self.resident(8)), for: Self.resident(8)) == Self.details(8))
    }

    @Test func destroyedKeysLeaveNoBytesInAnyFileAndOtherKeysSurvive() throws {
        let keys = try KeyStore(directory: directory, create: true)
        var sealed: [Int: SealedData] = [:]
        for i in 0..<300 { sealed[i] = try keys.seal(Self.details(i), for: Self.resident(i)) }
        let victims = [0, 3, 77, 150, 151, 152, 222, 299]
        var destroyedKeys: [Int: [UInt8]] = [:]
        for v in victims {
            let k = try #require(try keys.rawKey(Self.resident(v)))
            destroyedKeys[v] = k
        }
        // One by one, with new keys sealed in between (pages are rewritten and buffers reused) …
        #expect(try keys.destroyKey(Self.resident(0)))
        for i in 300..<340 { sealed[i] = try keys.seal(Self.details(i), for: Self.resident(i)) }
        #expect(try keys.destroyKey(Self.resident(3)))
        #expect(try keys.destroyKey(Self.resident(3)) == false)  // already gone
        // … and in a batch.
        #expect(try keys.destroyKeys(victims.dropFirst(2).map(Self.resident)) == Set(victims.dropFirst(2).map(Self.resident)))
        for i in 340..<360 { sealed[i] = try keys.seal(Self.details(i), for: Self.resident(i)) }

        let files = try RawScan.files(under: directory).map(\.path)
        #expect(files.contains("keys.mdb") && files.contains("keys.mdb-lock"))
        var needles: [(label: String, bytes: [UInt8])] = []
        for (v, k) in destroyedKeys { needles += RawScan.keyWindows(k, label: "key of resident \(v)") }
        #expect(try RawScan.hits(needles, under: directory) == [])
        for v in victims { #expect(try keys.open(sealed[v]!, for: Self.resident(v)) == nil) }
        for i in 0..<360 where !victims.contains(i) {
            #expect(try keys.open(sealed[i]!, for: Self.resident(i)) == Self.details(i))
        }
        // A fresh key store on the same files agrees.
        let other = try KeyStore(directory: directory)
        #expect(try other.hasKey(Self.resident(150)) == false)
        #expect(try other.open(sealed[152]!, for: Self.resident(152)) == nil)
        #expect(try other.open(sealed[10]!, for: Self.resident(10)) == Self.details(10))
    }

    @Test func aKeyStoreNoticesTheFileWasSwappedUnderIt() throws {
        // Two key stores on one directory stand in for two processes.
        let a = try KeyStore(directory: directory, create: true)
        let b = try KeyStore(directory: directory)
        _ = try a.seal(Self.details(1), for: Self.resident(1))
        _ = try a.seal(Self.details(2), for: Self.resident(2))
        #expect(try b.destroyKey(Self.resident(1)))  // b compacts and renames a new keys.mdb into place
        // a must write into the new file, not the replaced one, and must see the erasure.
        #expect(try a.hasKey(Self.resident(1)) == false)
        let s3 = try a.seal(Self.details(3), for: Self.resident(3))
        let c = try KeyStore(directory: directory)
        #expect(try c.open(s3, for: Self.resident(3)) == Self.details(3))
        #expect(try b.open(s3, for: Self.resident(3)) == Self.details(3))
    }

    @Test func theSecretSurvivesCompaction() throws {
        let keys = try KeyStore(directory: directory, create: true)
        let before = try keys.pseudonym(forCPR: "010190-1234")
        _ = try keys.seal(Self.details(1), for: Self.resident(1))
        try keys.destroyKey(Self.resident(1))
        #expect(try keys.pseudonym(forCPR: "0101901234") == before)
        #expect(try KeyStore(directory: directory).pseudonym(forCPR: "010190-1234") == before)
    }

    /// What one destruction costs on a key store of many residents (the compaction copies
    /// the whole file). Opt-in: `REFERRAL_HEAVY=1 swift test --filter PrivacyKeyScrubTests`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["REFERRAL_HEAVY"] == "1"))
    func destructionCostOnALargeKeyStore() throws {
        let keys = try KeyStore(directory: directory, create: true, durable: false)
        let n = 100_000
        for i in 0..<n { _ = try keys.seal(Self.details(i % 1000), for: Self.resident(i)) }
        let size = try FileManager.default.attributesOfItem(atPath: KeyStore.path(in: directory))[.size] as? Int ?? 0
        let clock = ContinuousClock()
        var destroyed = 0
        let one = try clock.measure { destroyed += try keys.destroyKey(Self.resident(5)) ? 1 : 0 }
        let hundred = try clock.measure { destroyed += try keys.destroyKeys((1000..<1100).map(Self.resident)).count }
        #expect(destroyed == 101)
        let after = try FileManager.default.attributesOfItem(atPath: KeyStore.path(in: directory))[.size] as? Int ?? 0
        print("privacy-heavy: \(n) keys, keys.mdb \(size / 1024) KiB (\(after / 1024) KiB compacted); destroy 1 key \(one); destroy 100 keys at once \(hundred)")
    }
}
