import CLMDB
import Foundation

// The only file (with its extensions in this folder) that talks to LMDB's C API.
// No MDB_* type leaves the Storage folder.

/// Routes an LMDB result code into `LogError`.
@inline(__always)
func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
    guard rc != MDB_SUCCESS else { return }
    throw lmdbError(rc, what())
}

func lmdbError(_ rc: Int32, _ what: String) -> LogError {
    let text = String(cString: mdb_strerror(rc))
    var advice = ""
    switch rc {
    case ENOSPC: advice = "; the disk is full: free space and retry (nothing was written)"
    case EACCES, EROFS:
        // LMDB writes its lock file even to read, so a copy on read-only media or without
        // write permission (a backup handed to a board) cannot be read where it is.
        advice = rc == EROFS ? "; the store is on a read-only file system" : "; check the store's file permissions"
        advice += " (even reading writes the store's lock file: to read a copy you may not change, copy its directory somewhere you can write, e.g. cp -r, and give that with --store)"
    case EFBIG: advice = "; a file size limit (ulimit -f) was reached (nothing was written)"
    case MDB_READERS_FULL: advice = "; too many readers: close other processes using the store"
    case MDB_INVALID, MDB_VERSION_MISMATCH: advice = "; the file is not an LMDB store this build can read"
    default: break
    }
    // Pages that are not what their tree says are damage, not a failure to read or write.
    let damaged = rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID
    var e = LogError(damaged ? .corrupt : .storage, "\(what) failed: \(text) (code \(rc))\(advice)")
    e.resultCode = rc
    return e
}

/// A handle on one named LMDB database inside an environment.
struct Database: Sendable {
    let dbi: MDB_dbi
}

/// An LMDB environment (one `.mdb` file and its lock file) with one owner.
///
/// Closed in `deinit`. Transactions are scoped by `read { }` and `write { }`, which abort
/// on throw. `MDB_NOTLS` lets a read transaction be used from whatever thread a Swift task
/// runs on. A full map is grown and the write retried; a map grown by another process is
/// adopted when the next transaction begins.
final class Environment: @unchecked Sendable {
    let handle: OpaquePointer
    let path: String
    /// Held shared by every transaction in this process, exclusively to resize the map,
    /// which LMDB allows only while no transaction of this process is active.
    private let resizeLock: UnsafeMutablePointer<pthread_rwlock_t>
    /// A descriptor of the lock file, through which its blocks were reserved; closed only
    /// after LMDB's environment (closing any descriptor of a file drops every POSIX lock
    /// the process holds on it, LMDB's reader locks included), -1 if there is none.
    private let lockFileDescriptor: Int32

    /// The mode of every file the store creates: owner only (docs/data-protection.md).
    static let fileMode: mode_t = 0o600

    /// Opens (creating if needed) the environment in the single file `path` (`MDB_NOSUBDIR`).
    init(path: String, maxDatabases: UInt32 = 16, initialMapSize: Int = 64 << 20, durable: Bool = true,
         readOnly: Bool = false) throws {
        StandardDescriptors.ensureOpen()  // never let the store's files become stdout or stderr
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "creating the LMDB environment")
        guard let env else { throw LogError(.storage, "mdb_env_create returned no environment") }
        var flags = UInt32(MDB_NOSUBDIR | MDB_NOTLS)
        if !durable { flags |= UInt32(MDB_NOSYNC) }
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        var lockFD: Int32 = -1
        do {
            try Self.checkNotEmptied(path)
            try check(mdb_env_set_maxdbs(env, maxDatabases), "setting the number of databases")
            try check(mdb_env_set_maxreaders(env, 254), "setting the number of readers")
            try check(mdb_env_set_mapsize(env, initialMapSize), "setting the map size")
            // LMDB creates the file and its lock file with this mode (the umask may only
            // narrow it): residents' keys and the log are for the store's owner alone.
            if !readOnly {
                lockFD = open(path + "-lock", O_RDWR | O_CREAT | O_CLOEXEC, Environment.fileMode)
                try Self.reserve(lockFD, path + "-lock", bytes: Self.lockFileBytes)
            }
            try check(mdb_env_open(env, path, flags, Environment.fileMode), "opening the store file \(path)")
            try Self.checkNotCutShort(env, path)
            if !readOnly {
                // LMDB may have made the lock file longer than the first reservation.
                try Self.reserve(lockFD, path + "-lock", bytes: 0)
                // Reader slots left by processes that were killed (`kill -9`, a crash) stay
                // taken while any other process has the file open, pinning old snapshots so
                // the file grows, until every slot is gone and each command fails with
                // MDB_READERS_FULL. LMDB frees them when asked.
                var dead: Int32 = 0
                _ = mdb_reader_check(env, &dead)
            }
        } catch {
            mdb_env_close(env)  // a half-opened environment is closed before throwing
            if lockFD >= 0 { close(lockFD) }
            throw error
        }
        lockFileDescriptor = lockFD
        handle = env
        self.path = path
        resizeLock = .allocate(capacity: 1)
        pthread_rwlock_init(resizeLock, nil)
    }

    /// The size LMDB gives the lock file for 254 readers: 64 bytes a reader slot after two
    /// 64-byte cache lines of header, the first slot within the header's struct (LMDB 0.9's
    /// `MDB_txninfo`). A file of exactly that size is taken as it is.
    static let lockFileBytes: off_t = 16_384

    /// Makes sure the disk holds every block of the lock file (open as `fd`), at least
    /// `bytes` of it. LMDB maps the lock file and writes its reader table through the map;
    /// on a full disk a write to a block not yet allocated faults (SIGBUS), a crash instead
    /// of an error. Allocated first, a full disk is an error here, and nothing is changed.
    /// Where the lock file cannot be opened for writing (`fd` -1: read-only media, another
    /// user's store), LMDB's own open reports it.
    private static func reserve(_ fd: Int32, _ path: String, bytes: off_t) throws {
        guard fd >= 0 else { return }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return }
        let length = max(info.st_size, bytes)
        guard length > 0 else { return }
        let rc = posix_fallocate(fd, 0, length)
        guard rc == ENOSPC || rc == EDQUOT else { return }  // EOPNOTSUPP and the like: as before
        var disk = statvfs()
        let free = statvfs(path, &disk) == 0 ? UInt64(disk.f_bavail) * UInt64(disk.f_frsize) : 0
        throw LogError(.storage, "the disk is full (\(free) bytes free): \(path) cannot be made; free space and retry (nothing was changed)")
    }

    /// LMDB takes a file of 0 bytes for a new environment and starts it afresh: a log (or
    /// key store) emptied by accident would be opened as an empty one, and `verify` would
    /// call it sound. A file LMDB writes always holds its two meta pages, so an existing
    /// empty one is refused as damaged. Another process may be creating it right now (the
    /// access log and the projections are made on first use): LMDB writes the meta pages
    /// within microseconds of creating the file, so an empty file is looked at again for up
    /// to 100 ms before it is called damaged.
    private static func checkNotEmptied(_ path: String) throws {
        for _ in 0..<20 {
            var file = stat()
            guard stat(path, &file) == 0, file.st_size == 0 else { return }
            usleep(5_000)
        }
        throw LogError(.corrupt, "\(path) is empty (0 bytes): what it held was lost, and an empty file is not taken for a new store")
    }

    /// LMDB maps the file and trusts its meta page, so a file cut short (a copy that ran out
    /// of disk, an interrupted transfer) would fault (SIGBUS, a crash) at the first page read
    /// past its end. Such a file is refused when opened, saying what is missing.
    private static func checkNotCutShort(_ env: OpaquePointer, _ path: String) throws {
        var info = MDB_envinfo()
        var pages = MDB_stat()
        var file = stat()
        guard mdb_env_info(env, &info) == MDB_SUCCESS, mdb_env_stat(env, &pages) == MDB_SUCCESS,
              stat(path, &file) == 0 else { return }
        let needed = (info.me_last_pgno + 1) * Int(pages.ms_psize)
        guard Int(file.st_size) >= needed else {
            throw LogError(.corrupt, "\(path) is cut short: it holds \(file.st_size) bytes, but its last committed page ends at byte \(needed), so it was not written or copied in full")
        }
    }

    deinit {
        mdb_env_close(handle)
        if lockFileDescriptor >= 0 { close(lockFileDescriptor) }
        pthread_rwlock_destroy(resizeLock)
        resizeLock.deallocate()
    }

    /// The current map size in bytes.
    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Runs `body` in a read-only transaction; pointers it reads are valid only inside `body`.
    func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        var checkedReaders = false
        while true {
            pthread_rwlock_rdlock(resizeLock)
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(resizeLock)
                try adoptNewMapSize()
                continue
            }
            if rc == MDB_READERS_FULL, !checkedReaders {
                // Slots of processes killed since this one opened the file: free them and
                // try once more before calling the table full.
                pthread_rwlock_unlock(resizeLock)
                checkedReaders = true
                var dead: Int32 = 0
                if mdb_reader_check(handle, &dead) == MDB_SUCCESS, dead > 0 { continue }
                pthread_rwlock_rdlock(resizeLock)
            }
            defer { pthread_rwlock_unlock(resizeLock) }
            try check(rc, "starting a read transaction")
            guard let txn else { throw LogError(.storage, "mdb_txn_begin returned no transaction") }
            defer { mdb_txn_abort(txn) }
            return try body(Transaction(handle: txn))
        }
    }

    /// Runs `body` in the single write transaction and commits; aborts if `body` throws.
    ///
    /// If the map is full, the transaction is aborted, the map doubled and `body` run
    /// again from the start, so `body` must not have side effects outside the transaction.
    func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            let txn = try beginWrite()
            let result: T
            do {
                result = try body(Transaction(handle: txn))
            } catch let error as LogError where error.resultCode == MDB_MAP_FULL {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(resizeLock)
                try grow()
                continue
            } catch {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(resizeLock)
                throw error
            }
            // mdb_txn_commit frees the transaction whether or not it succeeds (a full disk
            // fails here), so a failed commit must not be aborted again.
            let crc = mdb_txn_commit(txn)
            pthread_rwlock_unlock(resizeLock)
            if crc == MDB_MAP_FULL {
                try grow()
                continue
            }
            guard crc == MDB_SUCCESS else { throw commitError(crc) }
            return result
        }
    }

    /// Begins the write transaction (adopting a map another process has grown) and returns
    /// it with the resize lock held for reading: the caller commits or aborts it, then
    /// unlocks.
    private func beginWrite() throws -> OpaquePointer {
        while true {
            pthread_rwlock_rdlock(resizeLock)
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, 0, &txn)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(resizeLock)
                try adoptNewMapSize()
                continue
            }
            guard rc == MDB_SUCCESS, let txn else {
                pthread_rwlock_unlock(resizeLock)
                throw lmdbError(rc, "starting a write transaction")
            }
            return txn
        }
    }

    /// Runs `body` in the write transaction and always aborts it: nothing `body` writes is
    /// kept. For work that needs scratch rows beside the store's (`verifyRules`). It holds
    /// the write lock, so appends wait meanwhile. A full map is grown and `body` run again.
    func writeAndAbort<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            let txn = try beginWrite()
            let result = Result { try body(Transaction(handle: txn)) }
            mdb_txn_abort(txn)
            pthread_rwlock_unlock(resizeLock)
            if case .failure(let error as LogError) = result, error.resultCode == MDB_MAP_FULL {
                try grow()
                continue
            }
            return try result.get()
        }
    }

    /// LMDB reports a page write cut short by a full disk as EIO; say what it really is.
    private func commitError(_ rc: Int32) -> LogError {
        var fs = statvfs()
        if rc == EIO || rc == ENOSPC, statvfs(path, &fs) == 0 {
            let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
            if free < 1 << 20 {
                var e = LogError(.storage, "committing to \(path) failed: the disk is full (\(free) bytes free); free space and retry (nothing was written)")
                e.resultCode = ENOSPC
                return e
            }
        }
        return lmdbError(rc, "committing to \(path)")
    }

    /// Doubles the map (at least +64 MiB). LMDB keeps the file sparse, so this costs no disk.
    func grow() throws {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        let current = mapSize
        var wanted = max(current * 2, current + (64 << 20))
        if let ceiling = Self.mapCeiling {
            wanted = min(wanted, ceiling)
            guard wanted > current else {
                throw LogError(.storage, "the store \(path) needs a map larger than \(current >> 20) MiB, and this process may use only \(ceiling >> 20) MiB for it (ulimit -v); raise the limit and retry (nothing was written)")
            }
        }
        try check(mdb_env_set_mapsize(handle, wanted), "growing the map of \(path)")
    }

    /// The largest map to ask for under a limit on address space (`ulimit -v`): half of it,
    /// in whole MiB; nil without a limit. LMDB unmaps the old map before mapping the new
    /// one, so a mapping refused for want of address space would leave the store with none.
    static var mapCeiling: Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur / 2) & ~((1 << 20) - 1)
    }

    /// Grows the map, if needed, so that `bytes` fit past the last used page.
    func reserveMap(free bytes: Int) throws {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        var info = MDB_envinfo()
        var stat = MDB_stat()
        try check(mdb_env_info(handle, &info), "reading the map size of \(path)")
        try check(mdb_env_stat(handle, &stat), "reading the page size of \(path)")
        let used = (info.me_last_pgno + 1) * Int(stat.ms_psize)
        let (sum, overflow) = used.addingReportingOverflow(bytes + (1 << 20) - 1)
        guard !overflow else { throw LogError(.invalidInput, "cannot reserve \(bytes) bytes in \(path)") }
        let wanted = min(sum & ~((1 << 20) - 1), Self.mapCeiling ?? .max)  // whole MiB
        if info.me_mapsize >= wanted { return }
        try check(mdb_env_set_mapsize(handle, wanted), "growing the map of \(path)")
    }

    private func adoptNewMapSize() throws {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        try check(mdb_env_set_mapsize(handle, 0), "adopting the map size another process set")
    }

    /// Opens (creating) a named database; call once per process before use.
    func openDatabase(_ name: String, create: Bool = true) throws -> Database {
        try write { try $0.openDatabase(name, create: create) }
    }

    /// Flushes to disk (after non-durable writes).
    func sync() throws {
        try check(mdb_env_sync(handle, 1), "syncing \(path)")
    }

    /// Writes a compacted copy of the environment to `destination` (a file path), safe while
    /// writers run: the copy is one consistent snapshot.
    ///
    /// The file is created here, owner-only (`fileMode`), rather than by `mdb_env_copy2`,
    /// which creates it 0666 less the umask: a copy of `keys.mdb` must never be readable by
    /// other users, not even for the moment before a `chmod`. It is synced before return.
    func copy(to destination: String, compact: Bool = true) throws {
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, Environment.fileMode)
        guard fd >= 0 else {
            throw LogError(.storage, "cannot create \(destination) to copy \(path) into: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        try check(mdb_env_copyfd2(handle, fd, compact ? UInt32(MDB_CP_COMPACT) : 0), "copying \(path) to \(destination)")
        guard fsync(fd) == 0 else {
            throw LogError(.storage, "cannot sync the copy \(destination): \(String(cString: strerror(errno)))")
        }
    }
}

/// One LMDB transaction, valid only inside the `read` or `write` closure that made it.
struct Transaction {
    let handle: OpaquePointer

    /// Opens a named database (creating it if asked, in a write transaction); if the
    /// transaction is aborted the handle is closed with it.
    func openDatabase(_ name: String, create: Bool = true) throws -> Database {
        var dbi = MDB_dbi()
        try check(mdb_dbi_open(handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi), "opening database '\(name)'")
        return Database(dbi: dbi)
    }

    /// Opens a named database that may not exist (nil then), creating nothing: for checks
    /// that must not write.
    func openExistingDatabase(_ name: String) throws -> Database? {
        var dbi = MDB_dbi()
        let rc = mdb_dbi_open(handle, name, 0, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "opening database '\(name)'")
        return Database(dbi: dbi)
    }

    /// The value under `key`, pointing into the map; nil if absent.
    func get(_ db: Database, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    func get(_ db: Database, _ key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get(db, $0) }
    }

    func put(_ db: Database, _ key: [UInt8], _ value: [UInt8], append: Bool = false, noOverwrite: Bool = false) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(db, k, v, append: append, noOverwrite: noOverwrite) }
        }
    }

    /// `put` from bytes the caller already has (a stack value, a record), without making arrays.
    func put(_ db: Database, _ k: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer, append: Bool = false, noOverwrite: Bool = false) throws {
        var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
        var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
        var flags: UInt32 = 0
        if append { flags |= UInt32(MDB_APPEND) }
        if noOverwrite { flags |= UInt32(MDB_NOOVERWRITE) }
        try check(mdb_put(handle, db.dbi, &kv, &vv, flags), "writing")
    }

    /// Deletes `key`; returns false if it was not there.
    @discardableResult
    func delete(_ db: Database, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in
            var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(handle, db.dbi, &kv, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "deleting")
            return true
        }
    }

    /// Removes every entry of `db` (keeps the database).
    func clear(_ db: Database) throws {
        try check(mdb_drop(handle, db.dbi, 0), "clearing a database")
    }

    /// The number of entries in `db`.
    func count(_ db: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat), "reading database statistics")
        return stat.ms_entries
    }

    /// Visits entries in key order from the first key ≥ `from` (or the first), until `body`
    /// returns false. Only `MDB_NOTFOUND` ends the walk; any other failure throws.
    func forEach(_ db: Database, from: [UInt8]? = nil, reverse: Bool = false,
                 _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "opening a cursor")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        var rc: Int32
        if let from {
            rc = from.withUnsafeBytes { f in
                k = MDB_val(mv_size: f.count, mv_data: UnsafeMutableRawPointer(mutating: f.baseAddress))
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
            if reverse {
                if rc == MDB_NOTFOUND {
                    rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
                } else if rc == MDB_SUCCESS {
                    let exact = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size).elementsEqual(from)
                    if !exact { rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV) }
                }
            }
        } else {
            rc = mdb_cursor_get(cursor, &k, &v, reverse ? MDB_LAST : MDB_FIRST)
        }
        let step = reverse ? MDB_PREV : MDB_NEXT
        while rc == MDB_SUCCESS {
            let key = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)
            let value = UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
            guard try body(key, value) else { return }
            rc = mdb_cursor_get(cursor, &k, &v, step)
        }
        if rc != MDB_NOTFOUND { try check(rc, "iterating") }
    }

    /// Opens a cursor on `db` for many look-ups in this transaction (one open instead of one
    /// per look-up). Close it before the transaction ends.
    func cursor(_ db: Database) throws -> Cursor {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "opening a cursor")
        guard let cursor else { throw LogError(.storage, "mdb_cursor_open returned no cursor") }
        return Cursor(handle: cursor)
    }

    /// The last entry of `db`, if any.
    func last(_ db: Database) throws -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        var result: (UnsafeRawBufferPointer, UnsafeRawBufferPointer)?
        try forEach(db, reverse: true) { k, v in
            result = (k, v)
            return false
        }
        return result
    }
}

/// A cursor kept open across look-ups within one transaction (`Transaction.cursor`).
struct Cursor {
    let handle: OpaquePointer

    func close() { mdb_cursor_close(handle) }

    /// `put` through the cursor. With `append`, a cursor already at the tree's end (after its
    /// last append) goes straight to the last leaf instead of searching from the root.
    func put(_ k: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer, append: Bool = false, noOverwrite: Bool = false) throws {
        var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
        var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
        var flags: UInt32 = 0
        if append { flags |= UInt32(MDB_APPEND) }
        if noOverwrite { flags |= UInt32(MDB_NOOVERWRITE) }
        try check(mdb_cursor_put(handle, &kv, &vv, flags), "writing")
    }

    /// The entry before the cursor's, if any; pointers valid until the next write.
    func previous() throws -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        var k = MDB_val(), v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, MDB_PREV)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// The entry with the greatest key ≤ `key`, if any; pointers valid until the next write.
    func last(atOrBefore key: UnsafeRawBufferPointer) throws -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        var rc = mdb_cursor_get(handle, &k, &v, MDB_SET_RANGE)
        if rc == MDB_NOTFOUND {
            rc = mdb_cursor_get(handle, &k, &v, MDB_LAST)
        } else if rc == MDB_SUCCESS {
            let exact = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size).elementsEqual(key)
            if !exact { rc = mdb_cursor_get(handle, &k, &v, MDB_PREV) }
        }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}

/// 8-byte big-endian key, so that LMDB's byte order is numeric order.
@inline(__always)
func bigEndianKey(_ v: UInt64) -> [UInt8] {
    withUnsafeBytes(of: v.bigEndian) { Array($0) }
}

@inline(__always)
func readBigEndian(_ b: UnsafeRawBufferPointer) -> UInt64 {
    b.count >= 8 ? UInt64(bigEndian: b.loadUnaligned(as: UInt64.self)) : 0
}
