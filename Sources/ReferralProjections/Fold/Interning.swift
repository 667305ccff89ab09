import ReferralEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// FNV-1a over bytes: a stable 64-bit hash (the same in every process and build), used
/// for in-case ids of referrals, placements and consents and for the interner's buckets.
@inline(__always)
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

/// Something that turns identifier bytes (organisation, area, liaison, target group,
/// agreement ids) into small dense integers, so folds compare and store 4 bytes instead
/// of strings. In memory for a full fold, in LMDB for catch-up.
protocol NameTable {
    mutating func id(_ bytes: UnsafeRawBufferPointer) throws -> UInt32
}

/// Interns byte strings to dense ids 0, 1, 2, … in first-seen order.
///
/// Open addressing over one byte arena: a lookup of a name already seen allocates
/// nothing, which is what keeps the full fold free of per-event allocation.
struct ByteInterner: NameTable {
    private var arena: [UInt8] = []
    /// Entry i spans `starts[i] ..< starts[i + 1]` in the arena.
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// 0 for an empty slot, else entry index + 1.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 256) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [Int32](repeating: 0, count: n)
        mask = n - 1
    }

    var count: Int { hashes.count }

    /// The id of `bytes`, adding it if new.
    mutating func id(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let h = fnv1a(bytes)
        if let found = find(bytes, hash: h) { return found }
        let id = UInt32(hashes.count)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        hashes.append(h)
        if hashes.count * 2 > slots.count { grow() } else { place(Int32(id) + 1, hash: h) }
        return id
    }

    /// The id of `bytes` if it was interned.
    func find(_ bytes: UnsafeRawBufferPointer) -> UInt32? { find(bytes, hash: fnv1a(bytes)) }

    private func find(_ bytes: UnsafeRawBufferPointer, hash h: UInt64) -> UInt32? {
        var i = Int(truncatingIfNeeded: h) & mask
        return arena.withUnsafeBytes { a in
            while true {
                let s = Int(slots[i])
                if s == 0 { return nil }
                let e = s - 1
                if hashes[e] == h {
                    let start = starts[e], len = starts[e + 1] - start
                    if len == bytes.count && (len == 0 || memcmp(a.baseAddress! + start, bytes.baseAddress!, len) == 0) {
                        return UInt32(e)
                    }
                }
                i = (i + 1) & mask
            }
        }
    }

    private mutating func place(_ entry: Int32, hash h: UInt64) {
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = entry
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for (e, h) in hashes.enumerated() { place(Int32(e) + 1, hash: h) }
    }

    /// The bytes interned as `id`.
    func bytes(_ id: UInt32) -> ArraySlice<UInt8> { arena[starts[Int(id)]..<starts[Int(id) + 1]] }
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
