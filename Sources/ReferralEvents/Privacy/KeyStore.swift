import Crypto
import Foundation
import Synchronization

/// The store's secret and one AES-256 key per resident, in `keys.mdb`, apart from the log.
///
/// - The secret turns a CPR number into the resident's `Pseudonym` (HMAC-SHA256), so the
///   CPR number never reaches the log.
/// - A resident's key seals their `PersonalDetails` (AES-GCM, with the pseudonym as
///   associated data, so a sealed box cannot be moved to another resident).
/// - `destroyKey` erases a resident (crypto-shredding): the sealed bytes stay in the log and
///   its hash chain, but can never be opened again. The key's bytes are overwritten, deleted,
///   and the file compacted so no freed LMDB page keeps them.
///
/// Losing `keys.mdb` loses every resident's personal details and the ability to find
/// residents by CPR number: back it up with the log (`referral backup` does).
public final class KeyStore: Sendable {
    /// Where the key store's LMDB file lives inside a store directory.
    public static func path(in directory: String) -> String { directory + "/keys.mdb" }

    private struct Handles {
        var env: Environment
        var meta: Database
        var keys: Database
    }

    private let handles: Mutex<Handles>
    public let path: String
    private let secret: [UInt8]

    /// Opens (or with `create`, creates) the key store of the store in `directory`.
    public init(directory: String, create: Bool = false) throws {
        let path = KeyStore.path(in: directory)
        guard create || FileManager.default.fileExists(atPath: path) else {
            throw LogError(.notFound, "no key store at \(path); create the store with `referral init`")
        }
        self.path = path
        let h = try KeyStore.open(path)
        let secretBytes: [UInt8] = try h.env.write { txn in
            let key = Array("secret".utf8)
            if let s = try txn.get(h.meta, key) { return Array(s) }
            var rng = SystemRandomNumberGenerator()
            let fresh = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
            try txn.put(h.meta, key, fresh)
            return fresh
        }
        secret = secretBytes
        handles = Mutex(h)
    }

    private static func open(_ path: String) throws -> Handles {
        let env = try Environment(path: path, maxDatabases: 4, initialMapSize: 16 << 20)
        return Handles(env: env, meta: try env.openDatabase("meta"), keys: try env.openDatabase("resident_keys"))
    }

    /// The pseudonym of the resident with CPR number `cpr` (`DDMMYY-SSSS` or 10 digits).
    public func pseudonym(forCPR cpr: String) throws -> Pseudonym {
        guard let normalised = PersonalDetails.normaliseCPR(cpr) else {
            throw LogError(.invalidInput, "'\(String(repeating: "*", count: min(cpr.count, 11)))' is not a CPR number: use DDMMYY-SSSS with a real birth date")
        }
        let mac = HMAC<SHA256>.authenticationCode(for: Array(normalised.utf8), using: SymmetricKey(data: secret))
        return Pseudonym(bytes: Array(mac).prefix(16))
    }

    /// Seals `details` with the resident's key, making the key if the resident has none.
    public func seal(_ details: PersonalDetails, for resident: Pseudonym) throws -> SealedData {
        let key = try residentKey(resident, create: true)!
        let plain = try JSONEncoder().encode(details)
        let box = try AES.GCM.seal(plain, using: key, authenticating: resident.bytes)
        guard let combined = box.combined else { throw LogError(.storage, "AES-GCM gave no combined form") }
        return SealedData(combined: Array(combined))
    }

    /// Opens sealed details; nil when the resident's key has been destroyed (erased).
    public func open(_ sealed: SealedData, for resident: Pseudonym) throws -> PersonalDetails? {
        guard let key = try residentKey(resident, create: false) else { return nil }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.combined)
            let plain = try AES.GCM.open(box, using: key, authenticating: resident.bytes)
            return try JSONDecoder().decode(PersonalDetails.self, from: plain)
        } catch {
            throw LogError.corrupt("sealed personal data of resident \(resident) does not open with their key: \(error)")
        }
    }

    /// Whether the resident still has a key (false once erased, or if never sealed).
    public func hasKey(_ resident: Pseudonym) throws -> Bool {
        try residentKey(resident, create: false) != nil
    }

    /// Destroys the resident's key for good; returns false if there was none.
    ///
    /// The value is overwritten with zeros first (LMDB copies pages on write, so the
    /// page holding the old bytes becomes a free page), then deleted, then the file is
    /// rewritten compacted, without free pages, and renamed over the old one.
    @discardableResult
    public func destroyKey(_ resident: Pseudonym) throws -> Bool {
        try handles.withLock { h in
            let key = resident.bytes
            let existed: Bool = try h.env.write { txn in
                guard try txn.get(h.keys, key) != nil else { return false }
                try txn.put(h.keys, key, [UInt8](repeating: 0, count: 32))
                return true
            }
            guard existed else { return false }
            try h.env.write { txn in _ = try txn.delete(h.keys, key) }
            let compacted = path + ".compact"
            try? FileManager.default.removeItem(atPath: compacted)
            try h.env.copy(to: compacted, compact: true)
            guard rename(compacted, path) == 0 else {
                throw LogError(.storage, "cannot replace \(path) with its compacted copy: \(String(cString: strerror(errno)))")
            }
            try? FileManager.default.removeItem(atPath: path + "-lock")
            h = try KeyStore.open(path)
            return true
        }
    }

    private func residentKey(_ resident: Pseudonym, create: Bool) throws -> SymmetricKey? {
        try handles.withLock { h in
            let k = resident.bytes
            if let existing = try h.env.read({ txn in try txn.get(h.keys, k).map { Array($0) } }) {
                return SymmetricKey(data: existing)
            }
            guard create else { return nil }
            let fresh = SymmetricKey(size: .bits256)
            let bytes = fresh.withUnsafeBytes { Array($0) }
            return try h.env.write { txn in
                if let raced = try txn.get(h.keys, k) { return SymmetricKey(data: Array(raced)) }
                try txn.put(h.keys, k, bytes)
                return fresh
            }
        }
    }
}
