import CLMDB
import Foundation

// The limit the store is measured against: LMDB through its C API, with nothing of the
// store on top. Lives only in the benchmark; the library's own LMDB code is in
// ReferralEvents/Storage.

/// A bare LMDB environment in one file, for the baseline measurements.
final class RawLMDB {
    let env: OpaquePointer
    let dbi: MDB_dbi

    /// Opens `path` (a file, like the store's `log.mdb`) with the store's flags:
    /// `MDB_NOSUBDIR | MDB_NOTLS`, plus `MDB_NOSYNC` unless `durable`, `MDB_RDONLY` if `readOnly`.
    init(path: String, database: String, durable: Bool = true, readOnly: Bool = false, mapSize: Int = 1 << 34) throws {
        var e: OpaquePointer?
        try raw(mdb_env_create(&e), "mdb_env_create")
        guard let e else { throw BenchError("mdb_env_create gave no environment") }
        var flags = UInt32(MDB_NOSUBDIR | MDB_NOTLS)
        if !durable { flags |= UInt32(MDB_NOSYNC) }
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        do {
            try raw(mdb_env_set_maxdbs(e, 8), "mdb_env_set_maxdbs")
            if !readOnly { try raw(mdb_env_set_mapsize(e, mapSize), "mdb_env_set_mapsize") }
            try raw(mdb_env_open(e, path, flags, 0o640), "mdb_env_open \(path)")
            var txn: OpaquePointer?
            try raw(mdb_txn_begin(e, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "mdb_txn_begin")
            var d = MDB_dbi()
            let rc = mdb_dbi_open(txn, database, readOnly ? 0 : UInt32(MDB_CREATE), &d)
            if rc != MDB_SUCCESS { mdb_txn_abort(txn); try raw(rc, "mdb_dbi_open \(database)") }
            try raw(mdb_txn_commit(txn), "mdb_txn_commit")
            dbi = d
        } catch {
            mdb_env_close(e)
            throw error
        }
        env = e
    }

    deinit { mdb_env_close(env) }

    /// One transaction that puts `value` under the 8-byte big-endian `position` (appending,
    /// as the store does) and commits: with a durable environment, LMDB's fsync'd commit.
    func commitOne(position: UInt64, value: [UInt8]) throws {
        try commit(from: position, values: [value])
    }

    /// Flushes the environment to disk (for one opened without `durable`).
    func sync() throws { try raw(mdb_env_sync(env, 1), "mdb_env_sync") }

    /// One transaction that appends `values` under consecutive positions from `from`.
    func commit(from position: UInt64, values: [[UInt8]]) throws {
        var txn: OpaquePointer?
        try raw(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
        var key = position.bigEndian
        for value in values {
            let rc = withUnsafeMutableBytes(of: &key) { k in
                value.withUnsafeBytes { v in
                    var kv = MDB_val(mv_size: 8, mv_data: k.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                    return mdb_put(txn, dbi, &kv, &vv, UInt32(MDB_APPEND))
                }
            }
            if rc != MDB_SUCCESS {
                mdb_txn_abort(txn)
                try raw(rc, "mdb_put")
            }
            key = (UInt64(bigEndian: key) + 1).bigEndian
        }
        try raw(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    /// Walks the database with a cursor in key order, reading each value's type code
    /// (bytes 2–3 of a stored event) so the pages are really touched. Returns (entries, checksum).
    func scan() throws -> (count: Int, checksum: UInt64) {
        var txn: OpaquePointer?
        try raw(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin")
        defer { mdb_txn_abort(txn) }
        var cursor: OpaquePointer?
        try raw(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        var count = 0
        var sum: UInt64 = 0
        var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while rc == MDB_SUCCESS {
            count += 1
            if v.mv_size >= 4, let p = v.mv_data {
                sum &+= UInt64(p.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) &+ UInt64(v.mv_size)
            }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        guard rc == MDB_NOTFOUND else { try raw(rc, "mdb_cursor_get"); return (count, sum) }
        return (count, sum)
    }
}

private func raw(_ rc: Int32, _ what: String) throws {
    guard rc != MDB_SUCCESS else { return }
    throw BenchError("\(what): \(String(cString: mdb_strerror(rc))) (\(rc))")
}
