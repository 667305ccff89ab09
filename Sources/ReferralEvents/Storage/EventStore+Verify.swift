import Foundation

/// What `verify` found.
public struct VerifyReport: Sendable, Hashable {
    /// Events whose hash, chain link and indexes were checked.
    public var eventsChecked: UInt64
    public var head: LogHead
    /// The first problem found, nil when the log is sound.
    public var failure: LogError?

    public var isValid: Bool { failure == nil }
}

extension EventStore {
    /// Checks the whole log: positions gapless from 1, every record's structure and hash, each
    /// record's link to the previous hash, recorded-at never decreasing, stream versions
    /// contiguous, and the id and stream indexes against the records.
    ///
    /// - Parameters:
    ///   - expectedHead: a head kept outside the store (`referral verify --head FILE`); a log
    ///     that is shorter (truncated, rolled back) or whose event at that position has
    ///     another hash is reported.
    ///   - progress: called every 100,000 events with the number checked.
    /// - Returns: a report; `failure` names the first bad position. Throws only when the
    ///   store cannot be read at all.
    public func verify(expectedHead: LogHead? = nil, progress: ((UInt64) -> Void)? = nil) throws -> VerifyReport {
        try env.read { txn in
            var expectedPosition: UInt64 = 1
            var previousHash = Digest.zero.bytes
            var lastRecordedAt = Timestamp(millisecondsSinceEpoch: .min)
            var streamVersions: [StreamID: UInt64] = [:]
            var failure: LogError?
            var head = LogHead(position: 0, hash: Digest.zero.hex, recordedAt: nil)
            var headHashAtExpected: String?

            func fail(_ position: UInt64, _ message: String) -> Bool {
                failure = LogError.corrupt("position \(position): \(message)", position: position)
                return false
            }

            try txn.forEach(events) { key, value in
                let pos = readBigEndian(key)
                guard key.count == 8, pos == expectedPosition else {
                    return fail(expectedPosition, pos > expectedPosition
                        ? "missing: the log jumps from \(expectedPosition - 1) to \(pos)"
                        : "out of order key \(pos)")
                }
                let view: EventView
                do { view = try EventView(checking: value) } catch {
                    return fail(pos, "unreadable record: \(error)")
                }
                guard view.position == pos else { return fail(pos, "the record says it is position \(view.position)") }
                guard view.hashIsValid else { return fail(pos, "the stored hash does not match the record's bytes (the record was altered)") }
                guard view.previousHashBytes.elementsEqual(previousHash) else {
                    return fail(pos, "the record's previous hash does not match position \(pos - 1)'s hash (events were removed, reordered or replaced)")
                }
                guard view.recordedAt >= lastRecordedAt else { return fail(pos, "recorded-at goes back in time") }
                do {
                    _ = try view.decode()
                } catch {
                    return fail(pos, "the payload does not decode: \(error)")
                }
                let stream = view.stream
                let version = (streamVersions[stream] ?? 0) + 1
                guard view.version == version else {
                    return fail(pos, "stream '\(stream)' jumps to version \(view.version) after \(version - 1)")
                }
                streamVersions[stream] = version
                guard let idPos = try txn.get(eventIDs, uuidKey(view.id)), readBigEndian(idPos) == pos else {
                    return fail(pos, "the id index does not point to this event")
                }
                let chunk = StreamIndex.chunkStart(version)
                guard let entry = try txn.get(streams, StreamIndex.key(stream, chunk)),
                      StreamIndex.position(entry, at: Int(version - chunk)) == pos else {
                    return fail(pos, "the stream index of '\(stream)' version \(version) does not point to this event")
                }
                previousHash = Array(view.hashBytes)
                lastRecordedAt = view.recordedAt
                head = LogHead(position: pos, hash: hexString(previousHash), recordedAt: lastRecordedAt)
                if let expectedHead, expectedHead.position == pos { headHashAtExpected = head.hash }
                if pos % 100_000 == 0 { progress?(pos) }
                expectedPosition += 1
                return true
            }
            let checked = expectedPosition - 1
            if failure == nil {
                // Every event checked above has its own index entries, so surplus entries mean
                // events after the last record were removed: the first bad position is the next one.
                let ids = try txn.count(eventIDs)
                var indexed = 0
                var malformed: String?
                try txn.forEach(streams) { key, value in
                    guard let (_, first) = StreamIndex.parse(key), first >= 1, (first - 1) % StreamIndex.chunkSize == 0,
                          StreamIndex.decode(value) != nil else {
                        malformed = String(decoding: key.prefix(while: { $0 != 0 }), as: UTF8.self)
                        return false
                    }
                    let n = StreamIndex.count(value)
                    guard n >= 1, n <= Int(StreamIndex.chunkSize) else {
                        malformed = String(decoding: key.prefix(while: { $0 != 0 }), as: UTF8.self)
                        return false
                    }
                    indexed += n
                    return true
                }
                if ids != Int(checked) {
                    failure = LogError.corrupt("the id index has \(ids) entries for \(checked) events: events after position \(checked) were removed", position: checked + 1)
                } else if let malformed {
                    failure = LogError.corrupt("the stream index of '\(malformed)' has a malformed entry", position: checked + 1)
                } else if indexed != Int(checked) {
                    failure = LogError.corrupt("the stream index has \(indexed) entries for \(checked) events: events after position \(checked) were removed", position: checked + 1)
                }
            }
            if failure == nil, let expectedHead {
                if checked < expectedHead.position {
                    failure = LogError.corrupt("the log ends at position \(checked) but the head file records position \(expectedHead.position): events were truncated or the store was rolled back", position: checked + 1)
                } else if expectedHead.position > 0, headHashAtExpected != expectedHead.hash.lowercased() {
                    failure = LogError.corrupt("position \(expectedHead.position) has hash \(headHashAtExpected ?? "?") but the head file records \(expectedHead.hash): the log was rewritten", position: expectedHead.position)
                }
            }
            return VerifyReport(eventsChecked: checked, head: head, failure: failure)
        }
    }

    /// Writes a consistent, compacted copy of the log, the key store and the access log
    /// into `destination` (a new directory), safe while writers run. Restore by pointing `--store` at the copy
    /// (or moving it into place while nothing uses the store).
    public func backup(to destination: String) throws {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: destination + "/log.mdb") else {
            throw LogError(.invalidInput, "\(destination) already holds a store; back up into a new directory")
        }
        do {
            try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
        } catch {
            throw LogError(.storage, "cannot create \(destination): \(error.localizedDescription)")
        }
        try env.copy(to: EventStore.logPath(in: destination), compact: true)
        try KeyStore.backup(directory: directory, to: KeyStore.path(in: destination))
        if fm.fileExists(atPath: AccessLog.path(in: directory)) {
            try AccessLog(directory: directory).copy(to: AccessLog.path(in: destination))
        }
    }
}
