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
    /// Three scans in key order, one per tree (`verifyInKeyOrder`), compare each index
    /// with the log as a whole; only when they find something wrong is every event looked up
    /// in its indexes (`verifyByLookUp`) to name the first bad position. Both give the same
    /// verdict and, for a log that is not sound, the same report (see docs/verify.md).
    ///
    /// - Parameters:
    ///   - expectedHead: a head kept outside the store (`referral verify --head FILE`); a log
    ///     that is shorter (truncated, rolled back) or whose event at that position has
    ///     another hash is reported.
    ///   - progress: called every 100,000 events with the number checked and whether the
    ///     log is being read again, each event looked up, to find the first bad position
    ///     (the scans found something wrong: the count starts over).
    /// - Returns: a report; `failure` names the first bad position. Throws only when the
    ///   store cannot be read at all.
    public func verify(expectedHead: LogHead? = nil,
                       progress: ((_ checked: UInt64, _ locating: Bool) -> Void)? = nil) throws -> VerifyReport {
        let scanned = try verifyInKeyOrder(expectedHead: expectedHead, progress: progress.map { p in { p($0, false) } })
        if scanned.final { return scanned.report }
        return try verifyByLookUp(expectedHead: expectedHead, progress: progress.map { p in { p($0, true) } })
    }

    /// `verify`'s check in three sequential scans: the log, then the id index, then the
    /// stream index.
    ///
    /// Looking each event up in both indexes (`verifyByLookUp`) reads their pages in no
    /// order: on a 10M-event log that took 42 s and left 3.3 GB of the file mapped, and
    /// releasing the pages made it slower still (the look-ups faulted them in again). Here
    /// each index is instead compared with the log as a multiset: every (id, position) pair
    /// of the log and of the id index, and every (stream, version, position) of the log and
    /// of the stream index, is hashed with this process's random `Hasher` seed and the hashes
    /// summed; the sums and counts of the log and its index are equal exactly when they hold
    /// the same entries, but for a chance of about 2⁻⁶⁴. Stream versions need no table of
    /// streams either: the stream index's scan checks that each stream's chunks start at
    /// version 1, follow each other without a gap and hold ascending positions, so an index
    /// equal to the log means every stream's versions in the log run 1, 2, 3… in log order.
    /// With `lowMemoryReplay` every scan releases the pages it has passed.
    ///
    /// Returns the report and whether it is `verify`'s: a report that is not valid says only
    /// that something is wrong, its position may not be the first bad one, unless only the
    /// head file disagrees with a sound log.
    func verifyInKeyOrder(expectedHead: LogHead?, progress: ((UInt64) -> Void)?) throws -> (report: VerifyReport, final: Bool) {
        try env.read { txn in
            var expectedPosition: UInt64 = 1
            var previousHash = [UInt8](repeating: 0, count: 32)
            var lastRecordedAt = Timestamp(millisecondsSinceEpoch: .min)
            var logIDs = EntrySum(), logStreams = EntrySum()
            var failure: LogError?
            var headHashAtExpected: String?

            func fail(_ position: UInt64, _ message: String) -> Bool {
                failure = LogError.corrupt("position \(position): \(message)", position: position)
                return false
            }

            var pages = lowMemoryReplay ? MapPageReleaser(env) : nil
            try txn.forEach(events) { key, value in
                let pos = readBigEndian(key)
                guard key.count == 8, pos == expectedPosition else { return fail(expectedPosition, "not the next position") }
                let view: EventView
                do { view = try EventView(checking: value) } catch { return fail(pos, "unreadable record") }
                guard view.position == pos, view.hashIsValid,
                      memcmp(view.previousHashBytes.baseAddress!, previousHash, 32) == 0,
                      view.recordedAt >= lastRecordedAt else { return fail(pos, "a bad record") }
                do { _ = try view.decode() } catch { return fail(pos, "the payload does not decode") }
                let (idHigh, idLow) = Self.idWords(view.idBytes)
                logIDs.add(idHigh, idLow, pos)
                logStreams.add(Self.streamHash(view.streamBytes), view.version, pos)
                previousHash.withUnsafeMutableBytes { $0.copyMemory(from: view.hashBytes) }
                lastRecordedAt = view.recordedAt
                if let expectedHead, expectedHead.position == pos { headHashAtExpected = hexString(previousHash) }
                pages?.passed(value)
                if pos % 100_000 == 0 { progress?(pos) }
                expectedPosition += 1
                return true
            }
            pages?.finish()
            let checked = expectedPosition - 1
            if failure == nil {
                var indexIDs = EntrySum()
                var pages = lowMemoryReplay ? MapPageReleaser(env) : nil
                try txn.forEach(eventIDs) { key, value in
                    guard key.count == 16, value.count == 8 else { return fail(checked + 1, "a malformed id index entry") }
                    let (high, low) = Self.idWords(key)
                    indexIDs.add(high, low, readBigEndian(value))
                    pages?.passed(value)
                    return true
                }
                pages?.finish()
                if failure == nil, indexIDs != logIDs { _ = fail(checked + 1, "the id index disagrees with the log") }
            }
            if failure == nil {
                var indexStreams = EntrySum()
                var pages = lowMemoryReplay ? MapPageReleaser(env) : nil
                // The chunks of one stream are consecutive keys: the first holds version 1,
                // each next one follows a full one, and positions grow across them too.
                var stream: [UInt8] = [], streamHash: UInt64 = 0
                var nextVersion: UInt64 = 1, lastPosition: UInt64 = 0, lastWasFull = true
                try txn.forEach(streams) { key, value in
                    if StreamIndex.isCaseRow(key) { return true }
                    guard let (streamBytes, first) = StreamIndex.parse(key) else { return fail(checked + 1, "a malformed stream index key") }
                    if !streamBytes.elementsEqual(stream) {
                        stream.removeAll(keepingCapacity: true)
                        stream.append(contentsOf: streamBytes)
                        streamHash = Self.streamHash(streamBytes)
                        nextVersion = 1
                        lastPosition = 0
                        lastWasFull = true
                    }
                    guard first == nextVersion, lastWasFull else { return fail(checked + 1, "a stream index chunk out of place") }
                    var version = first
                    var ascending = true
                    let wellFormed = StreamIndex.forEachPosition(value) { position in
                        guard position > lastPosition else { ascending = false; return false }
                        indexStreams.add(streamHash, version, position)
                        lastPosition = position
                        version += 1
                        return true
                    }
                    let n = version - first
                    guard wellFormed, ascending, n >= 1, n <= StreamIndex.chunkSize else { return fail(checked + 1, "a malformed stream index entry") }
                    nextVersion = version
                    lastWasFull = n == StreamIndex.chunkSize
                    pages?.passed(value)
                    return true
                }
                pages?.finish()
                if failure == nil, indexStreams != logStreams { _ = fail(checked + 1, "the stream index disagrees with the log") }
            }
            let head = LogHead(position: checked, hash: hexString(previousHash), recordedAt: checked == 0 ? nil : lastRecordedAt)
            // A sound log and sound indexes, but rules boundaries that are not: the look-ups
            // would find nothing else first.
            if failure == nil, let damaged = try rulesBoundariesFailure(txn, head: checked) {
                return (VerifyReport(eventsChecked: checked, head: head, failure: damaged), true)
            }
            // A sound log and sound indexes that do not reach the head file: the look-ups
            // would find nothing else first, and report just this.
            if failure == nil, let expectedHead, let mismatch = Self.headFailure(expectedHead, checked: checked, hashThere: headHashAtExpected) {
                return (VerifyReport(eventsChecked: checked, head: head, failure: mismatch), true)
            }
            return (VerifyReport(eventsChecked: checked, head: head, failure: failure), failure == nil)
        }
    }

    /// What a log that is sound through `checked` says against a head file (nil: it matches);
    /// `hashThere` is the hash of the head's position, if the log reaches it.
    static func headFailure(_ expectedHead: LogHead, checked: UInt64, hashThere: String?) -> LogError? {
        if checked < expectedHead.position {
            return LogError.corrupt("the log ends at position \(checked) but the head file records position \(expectedHead.position): events were truncated or the store was rolled back", position: checked + 1)
        }
        if expectedHead.position > 0, hashThere != expectedHead.hash.lowercased() {
            return LogError.corrupt("position \(expectedHead.position) has hash \(hashThere ?? "?") but the head file records \(expectedHead.hash): the log was rewritten", position: expectedHead.position)
        }
        return nil
    }

    /// The order-free sum of a set of index entries' hashes, and their count.
    struct EntrySum: Equatable {
        private var sum: UInt64 = 0
        private var count: UInt64 = 0

        @inline(__always)
        mutating func add(_ a: UInt64, _ b: UInt64, _ c: UInt64) {
            var h = Hasher()
            h.combine(a)
            h.combine(b)
            h.combine(c)
            sum &+= UInt64(bitPattern: Int64(h.finalize()))
            count += 1
        }
    }

    @inline(__always)
    static func streamHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = Hasher()
        h.combine(bytes: bytes)
        return UInt64(bitPattern: Int64(h.finalize()))
    }

    /// A 16-byte id as two words.
    @inline(__always)
    static func idWords(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// `verify`'s check event by event: each event is looked up in the id and stream
    /// indexes as it is read, so the first bad position is the one reported.
    func verifyByLookUp(expectedHead: LogHead?, progress: ((UInt64) -> Void)?) throws -> VerifyReport {
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
                    _ = try view.decodeRecord()
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
                    if StreamIndex.isCaseRow(key) { return true }
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
                failure = Self.headFailure(expectedHead, checked: checked, hashThere: headHashAtExpected)
            }
            return VerifyReport(eventsChecked: checked, head: head, failure: failure)
        }
    }

    /// What is wrong with the layout and the rules boundaries in `meta`, if anything: each
    /// boundary present, 8 bytes, and within 1…`head` + 1. A boundary moved later would let
    /// the events appended before it skip its rule, one moved earlier would judge events
    /// accepted before it by a rule they predate (then `verifyRules` refuses one of them).
    func rulesBoundariesFailure(_ txn: Transaction, head: UInt64) throws -> LogError? {
        let boundaries: RulesBoundaries
        do { boundaries = try rulesBoundaries(txn) } catch let error as LogError where error.code == .corrupt || error.code == .unsupportedFormat {
            return error
        }
        for (key, at) in [(Self.datedRulesFromKey, boundaries.datedRules), (Self.closeLapseFromKey, boundaries.closeLapse)] where at > head + 1 {
            return LogError.corrupt("the rules boundary `\(String(decoding: key, as: UTF8.self))` in `meta` is \(at), past the head position + 1 (\(head + 1)): events appended before it would skip its rule")
        }
        return nil
    }

    /// Writes a consistent, compacted copy of the log, the key store and the access log
    /// into `destination` (a new or empty directory), safe while writers run. Restore by
    /// pointing `--store` at the copy (or moving it into place while nothing uses the store).
    ///
    /// The files are written into a hidden directory (`.partial-PID` inside `destination`
    /// when it exists, an empty directory or a mount point; `.NAME.partial-PID` beside it
    /// when it does not), made durable, and only then moved into place, `log.mdb` last, so
    /// a backup that fails (a full disk) or is killed half-way never leaves `destination`
    /// holding a log that `verify` would call sound without its keys. A failure removes the
    /// hidden directory; a `kill -9` leaves it for the user to delete.
    public func backup(to destination: String) throws {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: destination + "/log.mdb") else {
            throw LogError(.invalidInput, "\(destination) already holds a store; back up into a new directory")
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            try backupInside(destination)
            return
        }
        let target = URL(fileURLWithPath: destination).standardizedFileURL.path
        let parent = (target as NSString).deletingLastPathComponent
        let staging = parent + "/." + (target as NSString).lastPathComponent + ".partial-\(getpid())"
        do {
            try FileSystem.makePrivateDirectories(staging)  // and the destination's parents
        } catch {
            throw LogError(.storage, "cannot create \(destination): \(error)")
        }
        do {
            try writeBackupFiles(into: staging)
            // An empty directory at `target` is replaced; anything else in it fails the rename.
            guard rename(staging, target) == 0 else {
                throw LogError(.storage, "cannot move the backup into \(destination): \(String(cString: strerror(errno)))")
            }
            try Self.syncDirectory(parent)
        } catch {
            Self.removeBackupFiles(in: staging)
            throw error
        }
    }

    /// The files a backup holds, `log.mdb` last: without it a directory is no store.
    private static let backupFiles = ["keys.mdb", "access.mdb", "log.mdb"]

    /// Copies the log, the key store and the access log (if there is one) into `staging`,
    /// and makes its entries durable.
    private func writeBackupFiles(into staging: String) throws {
        try env.copy(to: EventStore.logPath(in: staging), compact: true)
        try KeyStore.backup(directory: directory, to: KeyStore.path(in: staging))
        if FileManager.default.fileExists(atPath: AccessLog.path(in: directory)) {
            try AccessLog(directory: directory).copy(to: AccessLog.path(in: staging))
        }
        try Self.syncDirectory(staging)
    }

    /// Removes what `writeBackupFiles` wrote into `staging`, and `staging`.
    private static func removeBackupFiles(in staging: String) {
        for name in backupFiles { unlink(staging + "/" + name) }
        rmdir(staging)
    }

    /// `backup` into an existing (empty) directory, possibly a mount point of another disk:
    /// written into `destination/.partial-PID` on that disk, then each file renamed into
    /// `destination`, `log.mdb` last (without it the directory is no store).
    private func backupInside(_ destination: String) throws {
        let staging = destination + "/.partial-\(getpid())"
        do {
            try FileSystem.makePrivateDirectories(staging)
        } catch {
            throw LogError(.storage, "cannot create \(staging) to write the backup into: \(error)")
        }
        var moved: [String] = []
        do {
            try writeBackupFiles(into: staging)
            for name in Self.backupFiles where FileManager.default.fileExists(atPath: staging + "/" + name) {
                guard rename(staging + "/" + name, destination + "/" + name) == 0 else {
                    throw LogError(.storage, "cannot move the backup's \(name) into \(destination): \(String(cString: strerror(errno)))")
                }
                moved.append(name)
            }
            try Self.syncDirectory(destination)
            rmdir(staging)
        } catch {
            for name in moved { unlink(destination + "/" + name) }
            Self.removeBackupFiles(in: staging)
            throw error
        }
    }

    /// Makes a directory's entries durable (files renamed or created in it).
    private static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 || errno == EINVAL else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw LogError(.storage, "cannot sync the directory \(path): \(reason)")
        }
        close(fd)
    }
}
