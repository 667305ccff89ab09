import Crypto
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The store's secret and one AES-256 key per resident, in `keys.mdb`, apart from the log.
///
/// - The secret turns a CPR number into the resident's `Pseudonym` (HMAC-SHA256), so the
///   CPR number never reaches the log.
/// - A resident's key seals their `PersonalDetails` (AES-GCM, with the pseudonym as
///   associated data, so a sealed box cannot be moved to another resident).
/// - `destroyKey` erases a resident (crypto-shredding): the sealed bytes stay in the log and
///   its hash chain, but can never be opened again. LMDB never overwrites a page in place,
///   so the pages that held the key linger as free pages; the key store is therefore
///   rewritten compacted (only live data, see `docs/data-protection.md`) and the copy
///   renamed over the old file, so no file keeps the key's bytes.
///
/// Several processes may use one key store. Each operation holds a shared `flock` on
/// `keys.mdb-guard`; key destruction holds it exclusively while it swaps the file, and an
/// operation that finds the file swapped reopens it, so no process goes on writing keys
/// into the replaced file. Open one `KeyStore` per store per process (LMDB's rule).
///
/// Losing `keys.mdb` loses every resident's personal details and the ability to find
/// residents by CPR number: back it up with the log (`referral backup` does).
public final class KeyStore: Sendable {
    /// Where the key store's LMDB file lives inside a store directory.
    public static func path(in directory: String) -> String { directory + "/keys.mdb" }
    /// The lock file that keeps key destruction apart from other processes' operations.
    static func guardPath(forKeyStore path: String) -> String { path + "-guard" }

    private struct Handles {
        var env: Environment
        var meta: Database
        var keys: Database
        /// Pseudonym → BE u64 position of the latest `ResidentErased` whose key destruction
        /// was carried out (`destroyKeys(erasedAt:)`). Absent in key stores from before
        /// November 2026, which are read as before.
        var erasures: Database
        /// The file the environment has open, to notice when another process swapped it.
        var file: FileIdentity
    }

    private let handles: Mutex<Handles>
    public let path: String
    private let secret: [UInt8]
    /// Descriptor of `keys.mdb-guard`, held for the key store's lifetime (flock is per
    /// open file description, so each `KeyStore` is one participant).
    private let guardDescriptor: Int32
    private let durable: Bool

    /// The meta row that says freed pages may still hold a destroyed key: set in the same
    /// transaction as the delete, cleared once the compacted file has replaced the old one.
    private static let scrubPending = Array("scrub-pending".utf8)

    /// Opens (or with `create`, creates) the key store of the store in `directory`.
    ///
    /// `durable: false` skips the fsync of each new key (tests, demos); a key lost in a crash
    /// loses that resident's sealed details, so production keeps the default.
    ///
    /// If an earlier key destruction was interrupted before the file was compacted, the
    /// compaction is finished here when no other process is using the key store.
    public init(directory: String, create: Bool = false, durable: Bool = true) throws {
        let path = KeyStore.path(in: directory)
        guard create || FileManager.default.fileExists(atPath: path) else {
            throw LogError(.notFound, "no key store at \(path); create the store with `referral init`")
        }
        StandardDescriptors.ensureOpen()
        let fd = Glibc.open(KeyStore.guardPath(forKeyStore: path), O_RDWR | O_CREAT | O_CLOEXEC, Environment.fileMode)
        guard fd >= 0 else {
            throw LogError(.storage, "cannot open \(KeyStore.guardPath(forKeyStore: path)): \(String(cString: strerror(errno))); check the store's permissions")
        }
        let h: Handles, secretBytes: [UInt8], pending: Bool
        do {
            try KeyStore.flockRetrying(fd, LOCK_SH, path: path)
            defer { flock(fd, LOCK_UN) }
            h = try KeyStore.openHandles(path, durable: durable)
            (secretBytes, pending) = try h.env.write { txn in
                let key = Array("secret".utf8)
                let pending = try txn.get(h.meta, KeyStore.scrubPending) != nil
                if let s = try txn.get(h.meta, key) { return (Array(s), pending) }
                var rng = SystemRandomNumberGenerator()
                let fresh = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
                try txn.put(h.meta, key, fresh)
                return (fresh, pending)
            }
        } catch {
            close(fd)
            throw error
        }
        self.path = path
        secret = secretBytes
        guardDescriptor = fd
        self.durable = durable
        handles = Mutex(h)
        if pending { try finishInterruptedScrub() }
    }

    deinit { close(guardDescriptor) }

    private static func openHandles(_ path: String, durable: Bool) throws -> Handles {
        let env = try Environment(path: path, maxDatabases: 4, initialMapSize: 16 << 20, durable: durable)
        return Handles(env: env, meta: try env.openDatabase("meta"), keys: try env.openDatabase("resident_keys"),
                       erasures: try env.openDatabase("erasures"), file: try FileIdentity(path: path))
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
        guard let key = try residentKey(resident, create: true) else {
            throw LogError(.storage, "no key could be made for resident \(resident)")
        }
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
    @discardableResult
    public func destroyKey(_ resident: Pseudonym) throws -> Bool {
        try destroyKeys([resident]).contains(resident)
    }

    /// Destroys the keys of `residents` for good and returns those that had one.
    ///
    /// One transaction deletes them all; then the file is rewritten compacted (live pages
    /// only, copied without their unused space), synced, renamed over `keys.mdb`, and the
    /// old lock file removed, so neither the freed pages nor the lock file keep key bytes.
    /// If the process dies before the rename, a `scrub-pending` mark makes the next
    /// `KeyStore` (or the next destruction) finish the compaction. Destroying many keys at
    /// once costs one compaction, which is what retention uses.
    @discardableResult
    public func destroyKeys(_ residents: [Pseudonym]) throws -> Set<Pseudonym> {
        try destroy(residents, erasedAt: [:])
    }

    private func destroy(_ residents: [Pseudonym], erasedAt erasures: [Pseudonym: UInt64]) throws -> Set<Pseudonym> {
        try withKeys(exclusive: true) { h in
            let destroyed: Set<Pseudonym> = try h.env.write { txn in
                var found: Set<Pseudonym> = []
                for r in residents {
                    if let position = erasures[r] {
                        // Carried out already: a key there now was made after that erasure.
                        if let done = try txn.get(h.erasures, r.bytes), readBigEndian(done) >= position { continue }
                        try txn.put(h.erasures, r.bytes, bigEndianKey(position))
                    }
                    guard try txn.get(h.keys, r.bytes) != nil else { continue }
                    // Zeros first, in the transaction's own copy of the page, so that page
                    // (written at commit) never carries the key; the delete then drops the
                    // row. Older copies of the page are dealt with by the compaction below.
                    try txn.put(h.keys, r.bytes, [UInt8](repeating: 0, count: 32))
                    try txn.delete(h.keys, r.bytes)
                    found.insert(r)
                }
                if !found.isEmpty { try txn.put(h.meta, KeyStore.scrubPending, [1]) }
                return found
            }
            let pending = try h.env.read { txn in try txn.get(h.meta, KeyStore.scrubPending) != nil }
            if pending { try compact(&h) }
            return destroyed
        }
    }

    /// Carries out erasures in the key store: for each resident, the position of the
    /// `ResidentErased` being carried out. Returns those whose key was destroyed.
    ///
    /// The key that exists now is destroyed unless an erasure at or after that position was
    /// carried out already: then the key was made after it (the resident came back and has
    /// new details), and only a new erasure decision may destroy it. Each position is
    /// recorded (`erasures`, in the same transaction as the delete), which is how
    /// `DataProtection` tells an interrupted erasure from a resident who came back.
    @discardableResult
    public func destroyKeys(erasedAt erasures: [Pseudonym: UInt64]) throws -> Set<Pseudonym> {
        try destroy(erasures.keys.sorted(), erasedAt: erasures)
    }

    /// The position of the latest erasure carried out in this key store for `resident`
    /// (`destroyKeys(erasedAt:)`), or nil if none was (or it was before such positions were
    /// kept, November 2026).
    public func erasureCarriedOut(_ resident: Pseudonym) throws -> UInt64? {
        try withKeys { h in
            try h.env.read { txn in try txn.get(h.erasures, resident.bytes).map { readBigEndian($0) } }
        }
    }

    /// The raw bytes of a resident's key, for tests that scan files for them.
    func rawKey(_ resident: Pseudonym) throws -> [UInt8]? {
        try withKeys { h in try h.env.read { txn in try txn.get(h.keys, resident.bytes).map { Array($0) } } }
    }

    /// Deletes a key and marks the scrub pending without compacting: the state a crash
    /// between the delete and the compaction leaves behind. For tests.
    func deleteKeyLeavingScrubPending(_ resident: Pseudonym) throws {
        try withKeys(exclusive: true) { h in
            try h.env.write { txn in
                try txn.delete(h.keys, resident.bytes)
                try txn.put(h.meta, KeyStore.scrubPending, [1])
            }
        }
    }

    /// Whether a destruction still waits for its compaction (see `destroyKeys`).
    var scrubIsPending: Bool {
        get throws { try withKeys { h in try h.env.read { txn in try txn.get(h.meta, KeyStore.scrubPending) != nil } } }
    }

    /// Writes a consistent, compacted copy of the key store in `directory` to the file
    /// `destination`, if there is a key store. Holds the guard shared, so a key destruction
    /// in another process cannot swap the file halfway and leave a destroyed key in the copy.
    static func backup(directory: String, to destination: String) throws {
        let path = KeyStore.path(in: directory)
        guard FileManager.default.fileExists(atPath: path) else { return }
        try withGuardShared(path) { env in try env.copy(to: destination, compact: true) }
    }

    /// Opens the key store file `path` for `body` while holding its guard shared, so that a
    /// key destruction in another process cannot swap the file while `body` reads it.
    ///
    /// This is a second LMDB environment on the file if the process already has a `KeyStore`
    /// of the same store open, which LMDB forbids: closing it drops every POSIX lock the
    /// process holds on the lock file. `backup` and `verify` are therefore for a process that
    /// has not opened the store's key store otherwise, as the CLI's `backup` and `verify` are.
    private static func withGuardShared<T>(_ path: String, _ body: (Environment) throws -> T) throws -> T {
        StandardDescriptors.ensureOpen()
        let fd = Glibc.open(guardPath(forKeyStore: path), O_RDWR | O_CREAT | O_CLOEXEC, Environment.fileMode)
        guard fd >= 0 else {
            throw LogError(.storage, "cannot open \(guardPath(forKeyStore: path)): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        try flockRetrying(fd, LOCK_SH, path: path)
        defer { flock(fd, LOCK_UN) }
        return try body(try Environment(path: path, maxDatabases: 4, initialMapSize: 16 << 20))
    }

    /// Checks that the key store of the store in `directory` opens and that every row reads:
    /// the secret (32 bytes), each resident's key (16-byte pseudonym, 32-byte key) and each
    /// erasure carried out (16-byte pseudonym, 8-byte position). Writes nothing, not even a
    /// new secret (opening a `KeyStore` would make one if it were missing).
    ///
    /// - Throws: `.notFound` when there is no `keys.mdb`; `.corrupt` when it does not open
    ///   as LMDB, is cut short or empty, or a row is not what it should be.
    public static func verify(directory: String) throws -> KeyStoreVerifyReport {
        let path = KeyStore.path(in: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw LogError(.notFound, "there is no key store \(path): every resident's sealed details and CPR look-ups are lost with it; restore keys.mdb from the backup the log came from")
        }
        return try withGuardShared(path) { env in
            try env.read { txn in
                func open(_ name: String) throws -> Database? { try txn.openExistingDatabase(name) }
                guard let meta = try open("meta"), let secret = try txn.get(meta, Array("secret".utf8)) else {
                    throw LogError.corrupt("\(path) holds no store secret: the file was replaced or damaged; restore keys.mdb from a backup")
                }
                guard secret.count == 32 else {
                    throw LogError.corrupt("the store secret in \(path) is \(secret.count) bytes, not 32; restore keys.mdb from a backup")
                }
                var keys = 0, erasures = 0
                if let db = try open("resident_keys") {
                    try txn.forEach(db) { k, v in
                        guard k.count == 16, v.count == 32 else {
                            throw LogError.corrupt("\(path) has a resident key row of \(k.count)+\(v.count) bytes, not 16+32; restore keys.mdb from a backup")
                        }
                        keys += 1
                        return true
                    }
                }
                if let db = try open("erasures") {
                    try txn.forEach(db) { k, v in
                        guard k.count == 16, v.count == 8 else {
                            throw LogError.corrupt("\(path) has an erasure row of \(k.count)+\(v.count) bytes, not 16+8; restore keys.mdb from a backup")
                        }
                        erasures += 1
                        return true
                    }
                }
                return KeyStoreVerifyReport(residentKeys: keys, erasuresCarriedOut: erasures)
            }
        }
    }

    // MARK: - Compaction

    /// Finishes an interrupted scrub if no other process holds the key store right now;
    /// otherwise leaves the mark for the next open or destruction.
    private func finishInterruptedScrub() throws {
        try handles.withLock { h in
            guard flock(guardDescriptor, LOCK_EX | LOCK_NB) == 0 else { return }
            defer { flock(guardDescriptor, LOCK_UN) }
            try refreshIfReplaced(&h)
            let pending = try h.env.read { txn in try txn.get(h.meta, KeyStore.scrubPending) != nil }
            if pending { try compact(&h) }
        }
    }

    /// Rewrites the file with live pages only and swaps it in. Called with the guard held
    /// exclusively, so no other process is inside an operation on the old file.
    private func compact(_ h: inout Handles) throws {
        let copy = path + ".compact"
        unlink(copy)  // a leftover from an interrupted run holds no destroyed key (it was compacted after the delete)
        try h.env.copy(to: copy, compact: true)
        try KeyStore.syncFile(copy)
        guard rename(copy, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(copy)
            throw LogError(.storage, "cannot replace \(path) with its compacted copy: \(reason); the key is deleted but its old pages are not yet scrubbed: run the erasure again")
        }
        // The old lock table describes the old file; the reopened environment makes a new one.
        unlink(path + "-lock")
        KeyStore.syncDirectory(of: path)
        h = try KeyStore.openHandles(path, durable: durable)
        try h.env.write { txn in _ = try txn.delete(h.meta, KeyStore.scrubPending) }
    }

    // MARK: - Guarding operations across processes

    private func withKeys<T: Sendable>(exclusive: Bool = false, _ body: (inout Handles) throws -> T) throws -> T {
        try handles.withLock { h in
            try KeyStore.flockRetrying(guardDescriptor, exclusive ? LOCK_EX : LOCK_SH, path: path)
            defer { flock(guardDescriptor, LOCK_UN) }
            try refreshIfReplaced(&h)
            return try body(&h)
        }
    }

    /// Reopens the environment if another process swapped `keys.mdb` for a compacted copy.
    private func refreshIfReplaced(_ h: inout Handles) throws {
        let current: FileIdentity
        do {
            current = try FileIdentity(path: path)
        } catch {
            throw LogError(.notFound, "the key store \(path) has disappeared; restore it from a backup")
        }
        if current != h.file { h = try KeyStore.openHandles(path, durable: durable) }
    }

    private static func flockRetrying(_ fd: Int32, _ operation: Int32, path: String) throws {
        while flock(fd, operation) != 0 {
            guard errno == EINTR else {
                throw LogError(.storage, "cannot lock \(guardPath(forKeyStore: path)): \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LogError(.storage, "cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LogError(.storage, "cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// Makes the rename durable; a failure here only risks the rename being undone by a
    /// crash, after which the pending mark makes the next open compact again.
    private static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = Glibc.open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    private func residentKey(_ resident: Pseudonym, create: Bool) throws -> SymmetricKey? {
        let bytes: [UInt8]? = try withKeys { h in
            let k = resident.bytes
            if let existing = try h.env.read({ txn in try txn.get(h.keys, k).map { Array($0) } }) { return existing }
            guard create else { return nil }
            let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            return try h.env.write { txn in
                if let raced = try txn.get(h.keys, k) { return Array(raced) }
                try txn.put(h.keys, k, fresh)
                return fresh
            }
        }
        return bytes.map { SymmetricKey(data: $0) }
    }
}

/// What `KeyStore.verify` read.
public struct KeyStoreVerifyReport: Sendable, Hashable {
    /// Residents with a key.
    public var residentKeys: Int
    /// Erasures carried out that the key store remembers (`KeyStore.destroyKeys(erasedAt:)`).
    public var erasuresCarriedOut: Int
}

/// Device and inode of a file: what stays the same for one file and changes when a
/// new file is renamed over its path.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    init(path: String) throws {
        var s = stat()
        guard stat(path, &s) == 0 else {
            throw LogError(.storage, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        device = UInt64(s.st_dev)
        inode = UInt64(s.st_ino)
    }
}
