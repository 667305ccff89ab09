import CLMDB
import Foundation

/// Drops the pages of an environment's memory map that a long scan has already read, so a
/// replay of the whole log holds a bounded window of the file in memory instead of all of it.
///
/// Every page of `log.mdb` a read touches stays mapped into the process, and Linux counts
/// those clean, file-backed pages as resident: a replay of a 4 GB log would otherwise end
/// with 4 GB of RSS. After every few MiB of records, `madvise(MADV_DONTNEED)` unmaps the
/// pages the records came from.
///
/// That is safe with LMDB's semantics. Without `MDB_WRITEMAP` the map is read-only
/// (`PROT_READ`, `MAP_SHARED`): no page in it is ever dirty, so dropping one loses nothing,
/// and touching it again re-faults the same bytes from the page cache (or the file). A read
/// transaction sees pages that no writer may reuse until the transaction ends, so a record
/// read again after its page was dropped is the same record; pointers into the map stay
/// valid, only their translation is dropped. Ranges are clamped to the map, so no other
/// memory (LMDB's own dirty pages in a write transaction live on the heap) is ever touched.
struct MapPageReleaser {
    /// The kernel maps a faulting page's cached neighbours too (fault-around, 64 KiB by
    /// default), so what a scan makes resident is whole blocks of this size.
    static let blockShift: UInt = 16
    /// Blocks entered between releases: one scan keeps at most about this many × 64 KiB of
    /// the file mapped (64 MiB).
    ///
    /// Smaller is not free: the event tree's leaf pages are scattered over the file, so
    /// after a release nearly every leaf the scan enters faults again (about 1 µs of CPU an
    /// event at 10M events with this window; 256 blocks cost more and saved little).
    static let window = 512

    private let env: Environment
    /// Units (blocks entered, or index look-ups) since the last release.
    private var units = 0
    private var lastBlock = UInt.max
    /// An address in the map read by the scan (to find the map by).
    private var lastAddress: UInt = 0
    /// Resident file-backed pages of the process at the start or the last release.
    private var residentAtRelease: Int
    /// The map's bounds, found at the first release (the map cannot move while the scan's
    /// transaction is open); nil when they could not be found, and then nothing is released.
    private var region: (start: UInt, end: UInt)?
    private var looked = false

    /// Units between releases (`window` unless given).
    private let limit: Int

    /// Call inside the read transaction of the scan.
    init(_ env: Environment, window: Int = MapPageReleaser.window) {
        self.env = env
        limit = max(1, window)
        residentAtRelease = Self.residentFilePages()
    }

    /// Records that `record` (a value pointing into the map) has been read and will not be
    /// needed again by this scan.
    @inline(__always)
    mutating func passed(_ record: UnsafeRawBufferPointer) {
        guard let base = record.baseAddress else { return }
        let block = UInt(bitPattern: base) >> Self.blockShift
        guard block != lastBlock else { return }
        lastBlock = block
        step(near: UInt(bitPattern: base))
    }

    /// Records one look-up in an index of the map (`address` is anywhere in the map): a scan
    /// of look-ups maps a page (and its neighbours) each, in no order the blocks would show.
    mutating func lookedUp(near address: UInt) {
        step(near: address)
    }

    /// Counts one unit and releases the map after `limit` of them, or sooner once the
    /// process's resident file pages grew by `limit` × 64 KiB: a fault may map more than a
    /// 64 KiB block (a large folio of the page cache, for a log written or read sequentially,
    /// is mapped whole, up to 2 MiB at once), so they are read every 8 units (one `pread`;
    /// read every 64, a page cache of large folios let 144 MiB of the log stay mapped).
    @inline(__always)
    private mutating func step(near address: UInt) {
        lastAddress = address
        units += 1
        guard units >= limit || (units & 7 == 0 && Self.residentFilePages() - residentAtRelease >= limit * 16) else { return }
        release()
    }

    private mutating func release() {
        units = 0
        if !looked {
            looked = true
            region = env.mapRegion(containing: lastAddress)
        }
        if let region { Environment.release(region) }
        residentAtRelease = Self.residentFilePages()
    }

    /// Releases what the scan mapped since its last release, the scan being over: a short
    /// scan (under 64 units, nothing released yet) leaves its few pages mapped rather than
    /// pay for finding the map.
    mutating func finish() {
        guard lastAddress != 0, looked ? units > 0 : units >= 64 else { return }
        release()
    }
}

extension Environment {
    /// Unmaps every page of the map from this process (they stay in the page cache).
    ///
    /// The event tree's leaf pages are spread over the whole file (appends reuse freed
    /// pages), so the pages a scan has passed are not one range, and dropping each passed
    /// block was one system call each; dropping the whole map is one. Other readers in the
    /// process re-fault the few pages they are on.
    static func release(_ region: (start: UInt, end: UInt)) {
        guard region.start < region.end, let p = UnsafeMutableRawPointer(bitPattern: region.start) else { return }
        // Advice only: a failure leaves the pages mapped, which is what happened before.
        _ = madvise(p, Int(region.end - region.start), MADV_DONTNEED)
    }

    /// The bounds of the map, given an address inside it (a value read in a transaction
    /// that is still open); nil with `MDB_WRITEMAP` (never set by this package: its pages
    /// could be dirty) or if the kernel does not list it as a read-only shared mapping of
    /// this environment's file. LMDB reports the map's address only with `MDB_FIXEDMAP`.
    func mapRegion(containing address: UInt) -> (start: UInt, end: UInt)? {
        var flags: UInt32 = 0
        mdb_env_get_flags(handle, &flags)
        guard flags & UInt32(MDB_WRITEMAP) == 0 else { return nil }
        return MapPageReleaser.sharedReadOnlyMapping(containing: address, path: path)
    }
}

extension MapPageReleaser {
    /// `/proc/self/statm`, opened once for the process (a read is then one system call).
    private static let statm: Int32 = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)

    /// The process's resident file-backed (and shared) pages, from `/proc/self/statm`;
    /// `Int.max` if it cannot be read (then only the block count triggers releases).
    static func residentFilePages() -> Int {
        guard statm >= 0 else { return Int.max }
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &buffer) { b -> Int in
            // A /proc file read again from offset 0 gives the current figures.
            let n = pread(statm, b.baseAddress, b.count, 0)
            guard n > 0 else { return Int.max }
            // size resident shared text lib data dt: the third field.
            var field = 0, value = 0
            for byte in b.prefix(n) {
                if byte == 0x20 {
                    if field == 2 { return value }
                    field += 1
                    value = 0
                } else if byte >= 0x30 && byte <= 0x39 {
                    value = value * 10 + Int(byte - 0x30)
                }
            }
            return field == 2 ? value : Int.max
        }
    }

    /// The bounds of the mapping holding `address`, if it is a read-only shared mapping of
    /// the file `path` (LMDB's map): the only memory this type may ever drop. LMDB reports
    /// the map's address only with `MDB_FIXEDMAP`, so the kernel is asked instead.
    static func sharedReadOnlyMapping(containing address: UInt, path: String) -> (start: UInt, end: UInt)? {
        guard let maps = readWholeFile("/proc/self/maps") else { return nil }
        let file = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16),
                  lo <= address, address < hi else { continue }
            let mapped = fields[5].trimmingCharacters(in: .whitespaces)
            guard fields[1] == "r--s", mapped == file || mapped == path else { return nil }
            return (lo, hi)
        }
        return nil
    }
}

/// A /proc file read to its end. `String(contentsOfFile:)` may stop short of the end of a
/// /proc file (they report a size of 0): a process with many mappings (a large fold's
/// blocks) then seemed not to have the log mapped at all, and nothing was released.
func readWholeFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue } else { return nil } }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
