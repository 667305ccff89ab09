// The `streams` database: each stream's positions in version order, in chunks, and beside
// them each case's rule row (docs/lmdb-layout.md).
//
// A key per event (stream ‖ version → position) made this the biggest tree of the log, and
// a batch that touches hundreds of cases dirtied most of its pages at every commit. A chunk
// holds up to `chunkSize` consecutive versions of one stream as varint-packed positions, so
// a case's whole history is usually one short row, the tree is several times smaller, and a
// stream's head version is read from its last chunk (no separate heads tree to update).

/// Reads and writes the chunked stream index.
enum StreamIndex {
    /// Versions a chunk holds. Chunk k of a stream holds versions `k·size + 1 … (k+1)·size`,
    /// and every chunk but a stream's last is full, so the chunk of any version is known
    /// without a search.
    static let chunkSize: UInt64 = 64

    /// The first version of the chunk that holds `version` (versions start at 1).
    @inline(__always)
    static func chunkStart(_ version: UInt64) -> UInt64 {
        (version - 1) / chunkSize * chunkSize + 1
    }

    /// `stream ‖ 0x00 ‖ BE u64 first version of the chunk`.
    static func key(_ stream: StreamID, _ firstVersion: UInt64) -> [UInt8] {
        var key = prefix(stream)
        withUnsafeBytes(of: firstVersion.bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    /// `stream ‖ 0x00`: the key of a case's rule row (`CaseRow`), which sorts just before the
    /// stream's first chunk. An append changes both rows of most cases it touches; stored
    /// side by side they are nearly always on one leaf page, which a commit then copies once
    /// instead of one leaf in each of two trees (layout 3).
    static func caseRowKey(_ stream: StreamID) -> [UInt8] { prefix(stream) }

    /// Whether a `streams` key is a case's rule row rather than a chunk. A chunk's key ends
    /// with its first version, 64·k + 1, whose last byte is never zero.
    @inline(__always)
    static func isCaseRow(_ key: UnsafeRawBufferPointer) -> Bool { key.last == 0 }

    /// `stream ‖ 0x00`: the start of every key of the stream. Stream ids never contain a zero
    /// byte, so one stream's keys never run into another's.
    static func prefix(_ stream: StreamID) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(stream.rawValue.utf8.count + 9)
        key.append(contentsOf: stream.rawValue.utf8)
        key.append(0)
        return key
    }

    /// The positions of a chunk: the first as a LEB128 varint, each next one as the varint
    /// of its distance from the one before (positions grow with versions).
    static func encode(_ positions: [UInt64]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(positions.count * 3 + 4)
        var previous: UInt64 = 0
        for p in positions {
            var v = p &- previous
            previous = p
            while v >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        return out
    }

    /// Decodes a chunk's positions; nil if the bytes are not a well-formed chunk.
    static func decode(_ value: UnsafeRawBufferPointer) -> [UInt64]? {
        var out: [UInt64] = []
        out.reserveCapacity(value.count)
        let ok = forEachPosition(value) { out.append($0); return true }
        return ok ? out : nil
    }

    /// The number of positions in a chunk (every varint ends with a byte below 0x80).
    static func count(_ value: UnsafeRawBufferPointer) -> Int {
        var n = 0
        for b in value where b < 0x80 { n += 1 }
        return n
    }

    /// The position at `index` of a chunk, nil if the chunk is shorter or malformed.
    static func position(_ value: UnsafeRawBufferPointer, at index: Int) -> UInt64? {
        var i = 0
        var found: UInt64?
        _ = forEachPosition(value) { p in
            if i == index { found = p; return false }
            i += 1
            return true
        }
        return found
    }

    /// Calls `body` with each position until it returns false; false if the bytes are
    /// malformed (a varint running off the end or past 64 bits, a position not increasing).
    @discardableResult
    static func forEachPosition(_ value: UnsafeRawBufferPointer, _ body: (UInt64) -> Bool) -> Bool {
        var position: UInt64 = 0
        var i = 0, first = true
        while i < value.count {
            var delta: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < value.count, shift < 64 else { return false }
                let b = value[i]
                i += 1
                delta |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            guard first || delta > 0 else { return false }
            first = false
            let (sum, overflow) = position.addingReportingOverflow(delta)
            guard !overflow else { return false }
            position = sum
            if !body(position) { return true }
        }
        return true
    }

    /// Splits a chunk's key into the stream's bytes and the chunk's first version; nil if it
    /// is not a well-formed chunk key (a case row's key is not one: check `isCaseRow` first).
    static func parse(_ key: UnsafeRawBufferPointer) -> (stream: UnsafeRawBufferPointer, firstVersion: UInt64)? {
        guard key.count >= 10, key[key.count - 9] == 0 else { return nil }
        let stream = UnsafeRawBufferPointer(rebasing: key[..<(key.count - 9)])
        return (stream, readBigEndian(UnsafeRawBufferPointer(rebasing: key[(key.count - 8)...])))
    }
}

/// The last chunk of a stream, as an append extends it: kept in its stored form, so that
/// adding a position is appending one varint (no decoding and re-encoding of the chunk).
struct StreamTail {
    /// The version of the chunk's first position (the chunk's key).
    var firstVersion: UInt64 = 1
    /// The chunk's positions, encoded as stored.
    var bytes: [UInt8] = []
    /// How many positions `bytes` holds.
    var count = 0
    /// The last position in `bytes` (0 when empty), which the next one is a distance from.
    var lastPosition: UInt64 = 0
    /// Whether `bytes` differs from the stored chunk.
    var changed = false

    /// The stream's last version, 0 for a stream with no events.
    var version: UInt64 { firstVersion + UInt64(count) - 1 }

    var isFull: Bool { UInt64(count) == StreamIndex.chunkSize }

    /// Adds the next version's position (greater than the last one).
    mutating func append(_ position: UInt64) {
        var v = position - lastPosition
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
        lastPosition = position
        count += 1
        changed = true
    }

    /// The empty chunk that follows this (full) one; its first position is stored whole.
    var next: StreamTail { StreamTail(firstVersion: firstVersion + StreamIndex.chunkSize) }
}

extension Transaction {
    /// The stream's last version, 0 if it has no events.
    func streamVersion(_ db: Database, _ stream: StreamID) throws -> UInt64 {
        var version: UInt64 = 0
        let prefix = StreamIndex.prefix(stream)
        var from = prefix
        from.append(contentsOf: repeatElement(0xFF, count: 8))
        try forEach(db, from: from, reverse: true) { key, value in
            guard key.count == prefix.count + 8, key.starts(with: prefix) else { return false }
            let first = readBigEndian(UnsafeRawBufferPointer(rebasing: key[prefix.count...]))
            let n = StreamIndex.count(value)
            guard n > 0 else { throw LogError.corrupt("the stream index of '\(stream)' has an empty entry") }
            version = first + UInt64(n) - 1
            return false
        }
        return version
    }

    /// Visits the stream's (version, position) pairs from `fromVersion` in version order,
    /// until `body` returns false.
    func forEachStreamPosition(_ db: Database, _ stream: StreamID, fromVersion: UInt64 = 1,
                               _ body: (UInt64, UInt64) throws -> Bool) throws {
        let prefix = StreamIndex.prefix(stream)
        let from = max(fromVersion, 1)
        try forEach(db, from: StreamIndex.key(stream, StreamIndex.chunkStart(from))) { key, value in
            guard key.count == prefix.count + 8, key.starts(with: prefix) else { return false }
            var version = readBigEndian(UnsafeRawBufferPointer(rebasing: key[prefix.count...]))
            guard let positions = StreamIndex.decode(value) else {
                throw LogError.corrupt("the stream index of '\(stream)' has a malformed entry at version \(version)")
            }
            for p in positions {
                if version >= from { guard try body(version, p) else { return false } }
                version += 1
            }
            return true
        }
    }

}

/// Reads and writes streams' last chunks for one append: one cursor for all the batch's
/// streams and one key buffer, instead of a cursor and two key arrays a stream (opening
/// cursors and building keys cost more than the B-tree searches themselves).
struct StreamTails {
    let txn: Transaction
    let db: Database
    private let cursor: Cursor
    private var key: [UInt8] = []

    init(_ txn: Transaction, _ db: Database) throws {
        self.txn = txn
        self.db = db
        cursor = try txn.cursor(db)
        key.reserveCapacity(128)
    }

    /// Closes the cursor; call before the transaction ends.
    func close() { cursor.close() }

    /// Sets `key` to `stream ‖ 0x00 ‖ BE u64 version`.
    private mutating func setKey(_ stream: StreamID, _ version: UInt64) {
        key.removeAll(keepingCapacity: true)
        if stream.rawValue.utf8.withContiguousStorageIfAvailable({ key.append(contentsOf: $0) }) == nil {
            key.append(contentsOf: stream.rawValue.utf8)
        }
        key.append(0)
        withUnsafeBytes(of: version.bigEndian) { key.append(contentsOf: $0) }
    }

    /// The stream's last chunk (an empty tail for a stream not in the log) and, when that is
    /// its first chunk, the key just before it:
    /// the case's rule row if it has one (layout 3). That is one step of the cursor, where
    /// the rules would otherwise search the tree for the row again. `caseRow` is nil when
    /// not known (the stream has no chunk, or more than one), `.some(nil)` when there is
    /// no row.
    mutating func tailAndCaseRow(_ stream: StreamID) throws -> (tail: StreamTail, caseRow: CaseRow??) {
        var tail = StreamTail()
        setKey(stream, .max)
        let prefixCount = key.count - 8
        let found = try key.withUnsafeBytes { from in
            try cursor.last(atOrBefore: from).flatMap { k, v in
                k.count == from.count && k[..<prefixCount].elementsEqual(from[..<prefixCount]) ? (k, v) : nil
            }
        }
        guard let (k, value) = found else { return (tail, nil) }
        var count = 0, last: UInt64 = 0
        let wellFormed = StreamIndex.forEachPosition(value) { p in
            count += 1
            last = p
            return true
        }
        guard wellFormed, count > 0 else {
            throw LogError.corrupt("the stream index of '\(stream)' has a malformed entry")
        }
        tail.firstVersion = readBigEndian(UnsafeRawBufferPointer(rebasing: k[prefixCount...]))
        tail.bytes.reserveCapacity(value.count + 16)
        tail.bytes.append(contentsOf: value)
        tail.count = count
        tail.lastPosition = last
        guard tail.firstVersion == 1 else { return (tail, nil) }
        // The row's key is the chunk's without its 8-byte version.
        let row = try cursor.previous().flatMap { k, v in
            k.count == prefixCount && k.elementsEqual(key[..<prefixCount]) ? try CaseRow(stored: v) : nil
        }
        return (tail, .some(row))
    }

    /// Writes `tail` as the stream's chunk at `tail.firstVersion`.
    mutating func put(_ stream: StreamID, _ tail: StreamTail) throws {
        setKey(stream, tail.firstVersion)
        try key.withUnsafeBytes { k in
            try tail.bytes.withUnsafeBytes { try txn.put(db, k, $0) }
        }
    }
}
