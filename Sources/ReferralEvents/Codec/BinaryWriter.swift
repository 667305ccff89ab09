import Foundation

/// Appends little-endian integers, varints and length-prefixed strings to a byte buffer.
///
/// The stored form of events (see `docs/storage-format.md`) is built with this.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer for the next record, keeping its storage (at least `capacity`).
    mutating func reset(capacity: Int) {
        bytes.removeAll(keepingCapacity: true)
        if bytes.capacity < capacity { bytes.reserveCapacity(capacity) }
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func u16(_ v: UInt16) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    /// Unsigned LEB128.
    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func raw(_ b: some Collection<UInt8>) { bytes.append(contentsOf: b) }

    /// Varint byte length, then UTF-8.
    public mutating func string(_ s: String) {
        // A native string's bytes are read in place; `var s = s` for `withUTF8` retained and
        // released the string (cold in the cache) for every field of every record.
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { buf in
            varint(UInt64(buf.count))
            bytes.append(contentsOf: buf)
        }
        if done != nil { return }
        var s = s
        s.withUTF8 { buf in
            varint(UInt64(buf.count))
            bytes.append(contentsOf: buf)
        }
    }

    /// UTF-8 without a length prefix (the record header holds the lengths).
    mutating func utf8(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) != nil { return }
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func uuid(_ u: UUID) {
        withUnsafeBytes(of: u.uuid) { bytes.append(contentsOf: $0) }
    }

    public mutating func date(_ d: CalendarDate) { i32(d.daysSinceEpoch) }
    public mutating func hours(_ h: Hours) { i32(h.hundredths) }
    public mutating func pseudonym(_ p: Pseudonym) {
        withUnsafeBytes(of: p.high.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: p.low.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// A closed vocabulary, stored as the case's index in `allCases` (the order is frozen
    /// per schema version).
    public mutating func enumCase<E: CaseIterable & Equatable>(_ e: E) {
        let index = E.allCases.firstIndex(of: e).map { E.allCases.distance(from: E.allCases.startIndex, to: $0) } ?? 0
        bytes.append(UInt8(index))
    }

    public mutating func optional<T>(_ v: T?, _ write: (inout BinaryWriter, T) -> Void) {
        if let v {
            bytes.append(1)
            write(&self, v)
        } else {
            bytes.append(0)
        }
    }

    public mutating func array<T>(_ items: [T], _ write: (inout BinaryWriter, T) -> Void) {
        varint(UInt64(items.count))
        for item in items { write(&self, item) }
    }

    /// Appends `count` zero bytes and lets `fill` write them in place: a fixed-size header in
    /// one append instead of one per field.
    mutating func fixed(_ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = bytes.count
        // From a buffer of zeros (one copy): appending `repeatElement` went element by element.
        if count <= Self.zeros.count {
            Self.zeros.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
        } else {
            bytes.append(contentsOf: repeatElement(0, count: count))
        }
        bytes.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start..<(start + count)])) }
    }

    private static let zeros = [UInt8](repeating: 0, count: 128)

    mutating func patchU32(at offset: Int, _ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { src in
            for i in 0..<4 { bytes[offset + i] = src[i] }
        }
    }
}
