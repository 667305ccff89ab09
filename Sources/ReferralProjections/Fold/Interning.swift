import ReferralEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stable 64-bit hash of bytes (the same in every process and build), eight bytes per
/// step: used for in-case ids of referrals, placements and consents (stored in case rows,
/// so it must never change without a new row format) and for the interner's buckets.
@inline(__always)
func idHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let n = bytes.count
    var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
    guard let base = bytes.baseAddress else { return h }
    var i = 0
    while i + 8 <= n {
        h = (h ^ UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        i += 8
    }
    if i < n {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    }
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    return h ^ (h >> 33)
}

/// Something that turns identifier bytes (organisation, area, liaison, target group,
/// agreement ids) into small dense integers, so folds compare and store 4 bytes instead
/// of strings. In memory for a full fold, in LMDB for catch-up.
protocol NameTable {
    mutating func id(_ bytes: UnsafeRawBufferPointer) throws -> UInt32
}

/// Interns byte strings to dense ids 0, 1, 2, … in first-seen order.
///
/// Open addressing over one byte arena, in manually managed buffers: each slot carries
/// the hash, offset and length, so a lookup touches one slot and the arena bytes, and a
/// lookup of a name already seen allocates, retains and releases nothing. That is what
/// keeps the full fold free of per-event allocation. The slot is the top bits of a
/// Fibonacci-multiplied hash.
final class ByteInterner: NameTable {
    /// 16 bytes: the case index of a 10M-event log has two million of them. Only half the
    /// hash is kept (to skip most byte comparisons); growing hashes the bytes again.
    private struct Slot {
        var hash: UInt32
        var start: UInt32
        var length: UInt32
        /// 0 for an empty slot, else id + 1.
        var idPlus1: UInt32
    }

    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCount = 0
    private var arenaCapacity: Int
    private var slots: UnsafeMutablePointer<Slot>
    private var slotCount: Int
    private var shift: UInt64
    /// Entry i spans `starts[i] ..< starts[i + 1]` in the arena (for `bytes(_:)`).
    private var starts: [UInt32] = [0]

    init(capacity: Int = 256) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slotCount = n
        shift = UInt64(64 - n.trailingZeroBitCount)
        slots = Self.allocateSlots(n)
        arenaCapacity = max(64, capacity * 16)
        arena = LargeBlocks.allocate(arenaCapacity).bindMemory(to: UInt8.self, capacity: arenaCapacity)
    }

    private static func allocateSlots(_ n: Int) -> UnsafeMutablePointer<Slot> {
        let p = LargeBlocks.allocate(n * MemoryLayout<Slot>.stride).bindMemory(to: Slot.self, capacity: n)
        p.initialize(repeating: Slot(hash: 0, start: 0, length: 0, idPlus1: 0), count: n)
        return p
    }

    deinit {
        LargeBlocks.free(slots, bytes: slotCount * MemoryLayout<Slot>.stride)
        LargeBlocks.free(arena, bytes: arenaCapacity)
    }

    var count: Int { starts.count - 1 }

    /// Frees the hash table (a quarter to half of the memory): `bytes(_:)` and `withBytes`
    /// still work, `id` and `find` start over empty (ids already handed out would be
    /// handed out again, so call it only once nothing is interned any more).
    func dropLookup() {
        LargeBlocks.free(slots, bytes: slotCount * MemoryLayout<Slot>.stride)
        slotCount = 16
        shift = UInt64(64 - slotCount.trailingZeroBitCount)
        slots = Self.allocateSlots(slotCount)
    }

    /// Bytes held (slots, arena, offsets), for the benchmark's breakdown.
    var bytesHeld: Int { slotCount * MemoryLayout<Slot>.stride + arenaCapacity + starts.capacity * 4 }

    @inline(__always)
    private func slot(_ h: UInt64) -> Int { Int(truncatingIfNeeded: (h &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The id of `bytes`, adding it if new.
    func id(_ bytes: UnsafeRawBufferPointer) -> UInt32 { id(bytes, hash: idHash(bytes)) }

    /// The id of `bytes` whose `idHash` the caller already has.
    func id(_ bytes: UnsafeRawBufferPointer, hash h: UInt64) -> UInt32 {
        var i = slot(h)
        let mask = slotCount - 1
        while true {
            let s = slots[i]
            if s.idPlus1 == 0 { break }
            if s.hash == UInt32(truncatingIfNeeded: h >> 32) && Int(s.length) == bytes.count && equal(arena + Int(s.start), bytes) { return s.idPlus1 - 1 }
            i = (i + 1) & mask
        }
        let id = UInt32(count)
        if arenaCount + bytes.count > arenaCapacity { growArena(arenaCount + bytes.count) }
        if let base = bytes.baseAddress, bytes.count > 0 {
            (arena + arenaCount).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        }
        slots[i] = Slot(hash: UInt32(truncatingIfNeeded: h >> 32), start: UInt32(arenaCount), length: UInt32(bytes.count), idPlus1: id + 1)
        arenaCount += bytes.count
        starts.append(UInt32(arenaCount))
        // Up to three quarters full: linear probing stays short, and the case index of a
        // 10M-event log takes half the memory it would at half full.
        if count * 4 > slotCount * 3 { growSlots() }
        return id
    }

    /// Reads the slot `hash` starts probing at (to have it in the cache).
    @inline(__always)
    func touch(hash h: UInt64) -> UInt32 { slots[slot(h)].idPlus1 }

    /// Reads the first byte of `id`'s bytes (to have them in the cache) and returns it.
    @inline(__always)
    func touchBytes(_ id: UInt32) -> UInt32 {
        let start = Int(starts[Int(id)])
        return start < arenaCount ? UInt32(arena[start]) : 0
    }

    /// The id of `bytes` if it was interned.
    func find(_ bytes: UnsafeRawBufferPointer) -> UInt32? { find(bytes, hash: idHash(bytes)) }

    /// The id of `bytes`, whose `idHash` the caller already has, if it was interned.
    @inline(__always)
    func find(_ bytes: UnsafeRawBufferPointer, hash h: UInt64) -> UInt32? {
        var i = slot(h)
        let mask = slotCount - 1
        while true {
            let s = slots[i]
            if s.idPlus1 == 0 { return nil }
            if s.hash == UInt32(truncatingIfNeeded: h >> 32) && Int(s.length) == bytes.count && equal(arena + Int(s.start), bytes) { return s.idPlus1 - 1 }
            i = (i + 1) & mask
        }
    }

    /// The bytes interned as `id`.
    func bytes(_ id: UInt32) -> [UInt8] {
        let start = Int(starts[Int(id)]), end = Int(starts[Int(id) + 1])
        return Array(UnsafeBufferPointer(start: arena + start, count: end - start))
    }

    /// The bytes of `id` without copying them; valid only inside `body` (no interning meanwhile).
    @inline(__always)
    func withBytes<T>(_ id: UInt32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let start = Int(starts[Int(id)]), end = Int(starts[Int(id) + 1])
        return try body(UnsafeRawBufferPointer(start: arena + start, count: end - start))
    }

    @inline(__always)
    private func equal(_ a: UnsafeMutablePointer<UInt8>, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let base = b.baseAddress else { return true }
        var i = 0
        let n = b.count
        while i + 8 <= n {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != base.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != base.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    private func growArena(_ needed: Int) {
        // By half again, not double: the case index's arena is megabytes.
        var capacity = arenaCapacity + arenaCapacity / 2
        while capacity < needed { capacity += capacity / 2 }
        let bigger = LargeBlocks.allocate(capacity).bindMemory(to: UInt8.self, capacity: capacity)
        bigger.update(from: arena, count: arenaCount)
        LargeBlocks.free(arena, bytes: arenaCapacity)
        arena = bigger
        arenaCapacity = capacity
    }

    private func growSlots() {
        let old = slots, oldCount = slotCount
        slotCount *= 2
        shift -= 1
        slots = Self.allocateSlots(slotCount)
        let mask = slotCount - 1
        for j in 0..<oldCount where old[j].idPlus1 != 0 {
            let o = old[j]
            var i = slot(idHash(UnsafeRawBufferPointer(start: arena + Int(o.start), count: Int(o.length))))
            while slots[i].idPlus1 != 0 { i = (i + 1) & mask }
            slots[i] = old[j]
        }
        LargeBlocks.free(old, bytes: oldCount * MemoryLayout<Slot>.stride)
    }
}

extension BinaryReader {
    /// A length-prefixed string's UTF-8 bytes, without making a String.
    mutating func stringBytes() throws -> UnsafeRawBufferPointer {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw LogError(.corrupt, "string length \(n) exceeds the record") }
        return try bytes(Int(n))
    }

    mutating func skipString() throws { _ = try stringBytes() }

    /// An optional's presence byte.
    mutating func present() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw LogError(.corrupt, "invalid optional marker \(b)")
        }
    }

    /// A count prefix, checked against what is left so a damaged record cannot make a loop run away.
    mutating func count() throws -> Int {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw LogError(.corrupt, "array count \(n) exceeds the record") }
        return Int(n)
    }
}
