import Foundation

extension EventStore {
    /// The last event's position and hash (position 0 for an empty log).
    public func head() throws -> LogHead {
        try env.read { txn in
            guard let (_, value) = try txn.last(events) else { return LogHead(position: 0, hash: Digest.zero.hex, recordedAt: nil) }
            let view = try EventView(checking: value)
            return LogHead(position: view.position, hash: view.hash.hex, recordedAt: view.recordedAt)
        }
    }

    /// Events from position `from` through `through` (inclusive), at most `limit`.
    public func read(from: UInt64 = 1, through: UInt64 = .max, limit: Int = .max) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        try replay(from: from, through: through) { view in
            guard out.count < limit else { return false }
            out.append(try view.decode())
            return true
        }
        return out
    }

    /// The event at `position`, if there is one.
    public func event(at position: UInt64) throws -> RecordedEvent? {
        try env.read { txn in
            try txn.get(events, bigEndianKey(position)).map { try EventView(checking: $0).decode() }
        }
    }

    /// The event with id `id`, if it is in the log.
    public func event(id: UUID) throws -> RecordedEvent? {
        try env.read { txn in
            guard let pos = try txn.get(eventIDs, uuidKey(id)) else { return nil }
            return try txn.get(events, bigEndianKey(readBigEndian(pos))).map { try EventView(checking: $0).decode() }
        }
    }

    /// One stream's events in version order, from `fromVersion` (versions start at 1).
    public func readStream(_ stream: StreamID, fromVersion: UInt64 = 1, limit: Int = .max) throws -> [RecordedEvent] {
        guard Self.couldBeStored(stream) else { return [] }
        return try env.read { txn in
            var out: [RecordedEvent] = []
            try txn.forEachStreamPosition(streams, stream, fromVersion: fromVersion) { _, pos in
                guard out.count < limit else { return false }
                guard let record = try txn.get(events, bigEndianKey(pos)) else {
                    throw LogError.corrupt("stream index of '\(stream)' names position \(pos), which is not in the log", position: pos)
                }
                out.append(try EventView(checking: record).decode())
                return true
            }
            return out
        }
    }

    /// The log positions of `stream`'s events up to `through`, in order, from the stream
    /// index alone (no event is read).
    public func positions(of stream: StreamID, through: UInt64 = .max) throws -> [UInt64] {
        guard Self.couldBeStored(stream) else { return [] }
        return try env.read { txn in
            var out: [UInt64] = []
            try txn.forEachStreamPosition(streams, stream, fromVersion: 1) { _, pos in
                guard pos <= through else { return false }
                out.append(pos)
                return true
            }
            return out
        }
    }

    /// The log positions of the events of all of `streams` up to `through`, in ascending
    /// order, from the stream index alone, in one read transaction.
    ///
    /// With `lowMemoryReplay`, the index pages the look-ups mapped are released every few
    /// hundred streams (each look-up maps a page and its cached neighbours), without the
    /// cost of finding the map again for every release as `releaseMappedPages()` does.
    public func positions(of streams: [StreamID], through: UInt64 = .max) throws -> [UInt64] {
        guard !streams.isEmpty else { return [] }
        return try env.read { txn in
            var pages: MapPageReleaser?
            var anywhere: UInt = 0  // an address in the map, for finding it
            if lowMemoryReplay, let (_, value) = try txn.last(events), let base = value.baseAddress {
                pages = MapPageReleaser(env, window: 256)
                anywhere = UInt(bitPattern: base)
            }
            var out: [UInt64] = []
            for stream in streams where Self.couldBeStored(stream) {
                try txn.forEachStreamPosition(self.streams, stream, fromVersion: 1) { _, pos in
                    guard pos <= through else { return false }
                    out.append(pos)
                    return true
                }
                pages?.lookedUp(near: anywhere)
            }
            pages?.finish()
            out.sort()
            return out
        }
    }

    /// Calls `body` with the event at each of `positions` (ascending), in one read
    /// transaction: `replay` for a scattered set of events (e.g. every event of some streams).
    /// Positions not in the log are skipped. With `lowMemoryReplay`, pages are released as
    /// the reads go, as in `replay`.
    public func replay(positions: [UInt64], _ body: (EventView) throws -> Bool) throws {
        guard !positions.isEmpty else { return }
        try env.read { txn in
            var pages = lowMemoryReplay ? MapPageReleaser(env, window: MapPageReleaser.window / 2) : nil
            defer { pages?.finish() }
            for pos in positions {
                guard let value = try txn.get(events, bigEndianKey(pos)) else { continue }
                let more = try body(try EventView(checking: value))
                pages?.passed(value)
                if !more { return }
            }
        }
    }

    /// The stream's last version, 0 if it does not exist.
    public func streamVersion(_ stream: StreamID) throws -> UInt64 {
        guard Self.couldBeStored(stream) else { return 0 }
        return try env.read { txn in try txn.streamVersion(streams, stream) }
    }

    /// Every stream id with its last version, in id order, optionally only those starting with `prefix`.
    public func streamIDs(prefix: String = "") throws -> [(stream: StreamID, version: UInt64)] {
        guard prefix.utf8.count <= Self.maxIdentifierLength else { return [] }
        return try env.read { txn in
            var out: [(StreamID, UInt64)] = []
            let p = Array(prefix.utf8)
            // Chunks of one stream are adjacent; the last one gives its version.
            try txn.forEach(streams, from: p.isEmpty ? nil : p) { key, value in
                guard key.starts(with: p) else { return false }
                if StreamIndex.isCaseRow(key) { return true }
                guard let (name, first) = StreamIndex.parse(key) else {
                    throw LogError.corrupt("the stream index has a malformed key")
                }
                let version = first + UInt64(StreamIndex.count(value)) - 1
                let stream = StreamID(String(decoding: name, as: UTF8.self))
                if let last = out.last, last.0 == stream {
                    out[out.count - 1].1 = version
                } else {
                    out.append((stream, version))
                }
                return true
            }
            return out
        }
    }

    /// Whether a stream of this name can be in the log at all. Append refuses empty and
    /// over-long stream ids, so asking about one is answered "no such stream" rather than
    /// with LMDB's key-size error.
    static func couldBeStored(_ stream: StreamID) -> Bool {
        !stream.rawValue.isEmpty && stream.rawValue.utf8.count <= maxIdentifierLength
    }

    /// The fast replay path: hands each stored event, in position order, to `body` as a
    /// zero-copy `EventView`, inside one read transaction (one consistent snapshot).
    ///
    /// `body` returns false to stop. The view must not escape `body`. Records are checked
    /// for structure (lengths, known type) but not hashed; `verify()` checks hashes.
    /// With `lowMemoryReplay`, pages of the log already replayed are released as the replay
    /// goes, so a replay of the whole log keeps a window of tens of MiB of the file resident,
    /// not all of it.
    public func replay(from: UInt64 = 1, through: UInt64 = .max, _ body: (EventView) throws -> Bool) throws {
        try replay(from: from, through: through, body, finishing: {})
    }

    /// `replay(from:through:_:)`, then `finish` inside the same read transaction, whether the
    /// replay ended, stopped or threw.
    ///
    /// For a caller that hands views to other threads: they stay valid until the transaction
    /// ends, so `finish` waits for those threads to be done with them.
    public func replay(from: UInt64 = 1, through: UInt64 = .max, _ body: (EventView) throws -> Bool,
                       finishing finish: () -> Void) throws {
        guard from <= through else { return finish() }
        try env.read { txn in
            defer { finish() }
            // A long replay would otherwise leave every page of the log it read mapped
            // (and counted as resident); see `MapPageReleaser`.
            var pages = lowMemoryReplay ? MapPageReleaser(env) : nil
            // The last window would otherwise stay mapped while the caller goes on.
            defer { pages?.finish() }
            try txn.forEach(events, from: bigEndianKey(max(from, 1))) { key, value in
                let pos = readBigEndian(key)
                guard pos <= through else { return false }
                let more = try body(try EventView(checking: value))
                pages?.passed(value)
                return more
            }
        }
    }

    /// Unmaps the log's pages from this process; they stay in the kernel's page cache and
    /// are read again from there when next touched.
    ///
    /// Reads map every page they touch (and its cached neighbours) into the process, and
    /// those pages count as resident memory until unmapped. `replay` releases pages as it
    /// goes; a caller doing many scattered reads (a fold re-reading retracted streams)
    /// calls this now and then to keep its resident memory bounded. Safe at any time: the
    /// map is read-only, so nothing is lost, and open transactions re-fault what they need.
    public func releaseMappedPages() throws {
        try env.read { txn in
            guard let (_, value) = try txn.last(events), let base = value.baseAddress,
                  let region = env.mapRegion(containing: UInt(bitPattern: base)) else { return }
            Environment.release(region)
        }
    }

    /// The last position whose recorded-at is at or before `time` (0 if none): "as known on".
    ///
    /// Recorded-at never decreases along the log, so this is a binary search.
    public func position(asKnownAt time: Timestamp) throws -> UInt64 {
        try env.read { txn in
            guard let (lastKey, _) = try txn.last(events) else { return 0 }
            var lo: UInt64 = 0, hi = readBigEndian(lastKey)  // answer in [lo, hi]
            while lo < hi {
                let mid = lo + (hi - lo + 1) / 2
                guard let record = try txn.get(events, bigEndianKey(mid)) else {
                    throw LogError.corrupt("position \(mid) is missing from the log", position: mid)
                }
                if EventView(unchecked: record).recordedAt <= time { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
    }

    /// Whether `id` has been retracted by an `EventRetracted` event.
    public func isRetracted(_ id: UUID) throws -> Bool {
        try env.read { txn in try txn.get(rules, RuleKey.retracted(uuidKey(id))) != nil }
    }
}
