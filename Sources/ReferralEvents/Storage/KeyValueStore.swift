import Foundation

/// A small LMDB key-value file with named databases, for state that is rebuilt from the
/// log (the projections keep theirs in `<store>/projections.mdb`).
///
/// Every named database is opened when the store opens, so handles never change while it
/// lives. Reads and writes are scoped by `read { }` and `write { }`: a write commits when
/// its closure returns and aborts when it throws, so everything written in one closure
/// lands together or not at all. That is what lets a projection keep its state and its
/// checkpoint in step. Keys sort as bytes (memcmp order, shorter first).
///
/// ```swift
/// let kv = try KeyValueStore(path: dir + "/projections.mdb", databases: ["meta", "rows"])
/// try kv.write { txn in try txn.put(kv["rows"], key, value) }
/// ```
public final class KeyValueStore: Sendable {
    /// The file's path.
    public let path: String
    let env: Environment
    private let handles: [String: KeyValueDatabase]

    /// Opens (creating if needed) the file at `path` with the named databases.
    ///
    /// - Parameters:
    ///   - databases: every database the caller will use; all are created if missing.
    ///   - durable: fsync every commit. Rebuildable state may turn it off: LMDB still never
    ///     tears a transaction, a crash can only lose the last commits, which a catch-up
    ///     replays again.
    public init(path: String, databases: [String], durable: Bool = false, initialMapSize: Int = 32 << 20) throws {
        self.path = path
        env = try Environment(path: path, maxDatabases: UInt32(databases.count + 2), initialMapSize: initialMapSize, durable: durable)
        var handles: [String: KeyValueDatabase] = [:]
        for name in databases {
            handles[name] = KeyValueDatabase(name: name, db: try env.openDatabase(name))
        }
        self.handles = handles
    }

    /// The database opened under `name`; a name not given to `init` is a programming error.
    public subscript(name: String) -> KeyValueDatabase {
        guard let h = handles[name] else { preconditionFailure("database '\(name)' was not opened with this KeyValueStore") }
        return h
    }

    /// Runs `body` in a read-only snapshot; values it reads are valid only inside `body`.
    public func read<T>(_ body: (KeyValueTransaction) throws -> T) throws -> T {
        try env.read { try body(KeyValueTransaction(txn: $0)) }
    }

    /// Runs `body` in the single write transaction and commits if it returns.
    ///
    /// If the map fills up, the map is grown and `body` runs again from the start, so it
    /// must not have effects outside the transaction that a second run would repeat.
    public func write<T>(_ body: (KeyValueTransaction) throws -> T) throws -> T {
        try env.write { try body(KeyValueTransaction(txn: $0)) }
    }

    /// Flushes non-durable commits to disk.
    public func sync() throws { try env.sync() }
}

/// A handle on one named database of a `KeyValueStore`.
public struct KeyValueDatabase: Sendable, Hashable {
    /// The name it was opened under.
    public let name: String
    let db: Database

    public static func == (a: KeyValueDatabase, b: KeyValueDatabase) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }
}

/// One transaction of a `KeyValueStore`, valid only inside the closure that received it.
///
/// Buffers it hands out point into the map and are valid only until the closure returns;
/// copy out what must live longer.
public struct KeyValueTransaction {
    let txn: Transaction

    /// A copy of the value under `key`, nil if absent.
    public func get(_ db: KeyValueDatabase, _ key: [UInt8]) throws -> [UInt8]? {
        try txn.get(db.db, key).map { Array($0) }
    }

    /// The value under `key` without copying, nil if absent; valid only inside the transaction.
    public func value(_ db: KeyValueDatabase, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        try txn.get(db.db, key)
    }

    /// Writes `value` under `key`. `append` is a fast path for keys given in ascending order
    /// after the database's last key (bulk loads); LMDB refuses it otherwise.
    public func put(_ db: KeyValueDatabase, _ key: [UInt8], _ value: [UInt8], append: Bool = false) throws {
        try txn.put(db.db, key, value, append: append)
    }

    /// Deletes `key`; false if it was not there.
    @discardableResult
    public func delete(_ db: KeyValueDatabase, _ key: [UInt8]) throws -> Bool {
        try txn.delete(db.db, key)
    }

    /// Removes every entry of `db` (the database itself stays).
    public func clear(_ db: KeyValueDatabase) throws { try txn.clear(db.db) }

    /// The number of entries in `db`.
    public func count(_ db: KeyValueDatabase) throws -> Int { try txn.count(db.db) }

    /// Visits entries in key order from the first key ≥ `from` (or the first key) until
    /// `body` returns false. Key and value are valid only inside `body`.
    public func forEach(_ db: KeyValueDatabase, from: [UInt8]? = nil,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try txn.forEach(db.db, from: from, body)
    }
}
