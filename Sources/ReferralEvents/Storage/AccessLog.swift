import Crypto
import Foundation

/// The access log: who was shown which resident's personal data, when and why.
///
/// Kept in its own LMDB file, `<store>/access.mdb`, apart from the event log, so that
/// reading never changes the event log's head or hash chain, and erasing a resident
/// never has to touch it: entries name cases and pseudonyms, never the data shown.
///
/// Append-only: entries are numbered from 1 and each carries SHA-256 over the previous
/// entry's hash and its own stored bytes, so `verify()` shows an entry removed from the
/// middle, reordered or edited in place. The chain is unkeyed, like the event log's: entries
/// removed from the end, or edits followed by recomputing every later hash, are found only
/// against a head kept outside the store (`head()`, `verify(expectedHead:)`).
/// Indexed by case and by resident for audits and access reports.
///
/// ```swift
/// let log = try AccessLog(directory: store.directory)
/// try log.record(AccessLogEntry(reader: me, action: .personalDetails, cases: ["VIB-0001"], ...))
/// let seen = try log.list(AccessLogQuery(caseID: "VIB-0001"))
/// ```
public final class AccessLog: Sendable {
    /// Where the access log lives inside a store directory.
    public static func path(in directory: String) -> String { directory + "/access.mdb" }

    let env: Environment
    let entries: Database
    let byCase: Database
    let byResident: Database
    let clock: @Sendable () -> Timestamp
    public let path: String

    static let maxPurposeLength = 1000

    /// Opens the access log of the store in `directory`, creating it on first use.
    ///
    /// The directory must hold a store already; `durable: false` is for tests and bulk runs.
    public init(directory: String, durable: Bool = true, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }) throws {
        guard FileManager.default.fileExists(atPath: EventStore.logPath(in: directory)) else {
            throw LogError(.notFound, "no store at \(directory); create one with `referral init` or point --store at an existing store")
        }
        path = AccessLog.path(in: directory)
        self.clock = clock
        env = try Environment(path: path, maxDatabases: 4, initialMapSize: 16 << 20, durable: durable)
        entries = try env.openDatabase("entries")
        byCase = try env.openDatabase("by_case")
        byResident = try env.openDatabase("by_resident")
    }

    /// Appends `entry` and returns it as stored, with its number, time and hash.
    ///
    /// Refuses (and writes nothing) when the reader or the purpose is missing, or the
    /// purpose contains something that reads as a CPR number.
    @discardableResult
    public func record(_ entry: AccessLogEntry) throws -> AccessLogRecord {
        try AccessLog.validate(entry)
        let now = clock()
        return try env.write { txn in
            var sequence: UInt64 = 1
            var previous = Digest.zero.bytes
            var recordedAt = now
            if let (key, value) = try txn.last(entries) {
                let last = try AccessLog.decode(value)
                sequence = readBigEndian(key) + 1
                previous = Array(value.suffix(32))
                // Time never runs backwards along the log, as in the event log.
                recordedAt = max(now, last.recordedAt)
            }
            let body = try AccessLog.encoder.encode(StoredBody(sequence: sequence, recordedAt: recordedAt, entry: entry))
            let hash = Array(SHA256.hash(data: previous + Array(body)))
            try txn.put(entries, bigEndianKey(sequence), Array(body) + previous + hash, append: true)
            for c in Set(entry.cases) { try txn.put(byCase, AccessLog.caseKey(c, sequence), []) }
            if let r = entry.resident { try txn.put(byResident, r.bytes + bigEndianKey(sequence), []) }
            return AccessLogRecord(sequence: sequence, recordedAt: recordedAt, entry: entry,
                                   previousHash: hexString(previous), hash: hexString(hash))
        }
    }

    /// The records matching `query`, oldest first.
    public func list(_ query: AccessLogQuery = AccessLogQuery()) throws -> [AccessLogRecord] {
        guard query.limit > 0 else { return [] }
        return try env.read { txn in
            var out: [AccessLogRecord] = []
            func consider(_ value: UnsafeRawBufferPointer) throws -> Bool {
                let r = try AccessLog.decode(value)
                if AccessLog.matches(r, query) { out.append(r) }
                return out.count < query.limit
            }
            func viaIndex(_ db: Database, prefix: [UInt8]) throws {
                try txn.forEach(db, from: prefix) { key, _ in
                    guard key.count == prefix.count + 8, key.starts(with: prefix) else { return false }
                    let seq = readBigEndian(UnsafeRawBufferPointer(rebasing: key[prefix.count...]))
                    guard let value = try txn.get(entries, bigEndianKey(seq)) else {
                        throw LogError.corrupt("the access log's index names entry \(seq), which is missing", position: seq)
                    }
                    return try consider(value)
                }
            }
            if let c = query.caseID {
                try viaIndex(byCase, prefix: Array(c.utf8) + [0])
            } else if let r = query.resident {
                try viaIndex(byResident, prefix: r.bytes)
            } else {
                try txn.forEach(entries) { _, value in try consider(value) }
            }
            return out
        }
    }

    /// The number of entries.
    public var count: Int {
        get throws { try env.read { txn in try txn.count(entries) } }
    }

    /// The last entry's number and hash, for a head file kept outside the store.
    public func head() throws -> AccessLogHead {
        try env.read { txn in
            guard let (key, value) = try txn.last(entries) else { return AccessLogHead(entries: 0, hash: hexString(Digest.zero.bytes)) }
            return AccessLogHead(entries: readBigEndian(key), hash: hexString(value.suffix(32)))
        }
    }

    /// Checks numbering, hashes and chain links of every entry; with `expectedHead` (from a
    /// head file), also that the log still reaches that entry with that hash.
    public func verify(expectedHead: AccessLogHead? = nil) throws -> AccessLogVerifyReport {
        var report = try verifyChain()
        if report.failure == nil, let expected = expectedHead {
            if report.entriesChecked < expected.entries {
                report.failure = LogError.corrupt("the access log has \(report.entriesChecked) entries, but the head file records \(expected.entries): entries after \(report.entriesChecked) were removed", position: report.entriesChecked + 1)
            } else {
                let hash: String? = try env.read { txn in
                    expected.entries == 0 ? hexString(Digest.zero.bytes) : try txn.get(entries, bigEndianKey(expected.entries)).map { hexString($0.suffix(32)) }
                }
                if hash != expected.hash.lowercased() {
                    report.failure = LogError.corrupt("access log entry \(expected.entries) does not have the hash the head file records: the access log was rewritten", position: expected.entries)
                }
            }
        }
        return report
    }

    private func verifyChain() throws -> AccessLogVerifyReport {
        try env.read { txn in
            var checked: UInt64 = 0
            var previous = Digest.zero.bytes
            var failure: LogError?
            try txn.forEach(entries) { key, value in
                let seq = readBigEndian(key)
                guard seq == checked + 1 else {
                    failure = LogError.corrupt("access log entry \(checked + 1) is missing (the next is \(seq)): entries were removed", position: checked + 1)
                    return false
                }
                guard value.count > 64 else {
                    failure = LogError.corrupt("access log entry \(seq) is too short to hold its hashes", position: seq)
                    return false
                }
                let body = Array(value.prefix(value.count - 64))
                let storedPrevious = Array(value[(value.count - 64)..<(value.count - 32)])
                let storedHash = Array(value.suffix(32))
                guard storedPrevious == previous else {
                    failure = LogError.corrupt("access log entry \(seq) does not link to entry \(seq - 1): the log was edited", position: seq)
                    return false
                }
                guard Array(SHA256.hash(data: previous + body)) == storedHash else {
                    failure = LogError.corrupt("access log entry \(seq) does not match its hash: it was edited", position: seq)
                    return false
                }
                guard let stored = try? AccessLog.decoder.decode(StoredBody.self, from: Data(body)), stored.sequence == seq else {
                    failure = LogError.corrupt("access log entry \(seq) cannot be read back", position: seq)
                    return false
                }
                previous = storedHash
                checked = seq
                return true
            }
            return AccessLogVerifyReport(entriesChecked: checked, headHash: hexString(previous), failure: failure)
        }
    }

    /// Writes a consistent, compacted copy to `destination` (a file path).
    public func copy(to destination: String) throws {
        try env.copy(to: destination, compact: true)
    }

    // MARK: - Stored form

    /// What is hashed and stored, before the two hashes: JSON with sorted keys. The exact
    /// bytes are kept, so verifying never depends on re-encoding them the same way.
    private struct StoredBody: Codable {
        var sequence: UInt64
        var recordedAt: Timestamp
        var entry: AccessLogEntry
    }

    private static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    private static var decoder: JSONDecoder { JSONDecoder() }

    private static func decode(_ value: UnsafeRawBufferPointer) throws -> AccessLogRecord {
        guard value.count > 64 else { throw LogError.corrupt("an access log entry is too short to hold its hashes") }
        let body = Data(value.prefix(value.count - 64))
        let stored: StoredBody
        do {
            stored = try decoder.decode(StoredBody.self, from: body)
        } catch {
            throw LogError.corrupt("an access log entry cannot be read back: \(error)")
        }
        return AccessLogRecord(sequence: stored.sequence, recordedAt: stored.recordedAt, entry: stored.entry,
                               previousHash: hexString(value[(value.count - 64)..<(value.count - 32)]),
                               hash: hexString(value.suffix(32)))
    }

    private static func caseKey(_ caseID: String, _ sequence: UInt64) -> [UInt8] {
        Array(caseID.utf8) + [0] + bigEndianKey(sequence)
    }

    private static func matches(_ r: AccessLogRecord, _ q: AccessLogQuery) -> Bool {
        if let c = q.caseID, !r.entry.cases.contains(c) { return false }
        if let p = q.resident, r.entry.resident != p { return false }
        if let a = q.actor, r.entry.reader.actor != a { return false }
        if let o = q.organisation, r.entry.reader.organisation != o { return false }
        if let f = q.from, r.recordedAt < f { return false }
        if let t = q.through, r.recordedAt > t { return false }
        return true
    }

    private static func validate(_ e: AccessLogEntry) throws {
        guard !e.reader.actor.allSatisfy(\.isWhitespace) else {
            throw LogError(.invalidInput, "the access log needs to know who reads: give an actor (--actor or REFERRAL_ACTOR)")
        }
        guard !e.reader.organisation.allSatisfy(\.isWhitespace) else {
            throw LogError(.invalidInput, "the access log needs to know for which organisation \(e.reader.actor) reads: give --organisation or REFERRAL_ORGANISATION")
        }
        guard e.reader.actor.utf8.count <= 100, e.reader.organisation.utf8.count <= 100 else {
            throw LogError(.invalidInput, "the actor and organisation may be at most 100 bytes each")
        }
        guard !e.purpose.allSatisfy(\.isWhitespace) else {
            throw LogError(.invalidInput, "say why you need to see the data (--reason); every read of personal data is logged with its purpose")
        }
        guard e.purpose.utf8.count <= maxPurposeLength, e.basis.utf8.count <= maxPurposeLength else {
            throw LogError(.invalidInput, "the reason is \(e.purpose.utf8.count) bytes; at most \(maxPurposeLength) are allowed")
        }
        guard !PersonalDetails.containsCPRNumber(e.purpose), !PersonalDetails.containsCPRNumber(e.basis) else {
            throw LogError(.invalidInput, "the reason looks like it contains a CPR number; the access log must not hold personal data: say why without it")
        }
        guard e.cases.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 100 && !$0.utf8.contains(0) }) else {
            throw LogError(.invalidInput, "a case id in the access entry is empty, too long or contains a zero byte")
        }
    }
}
