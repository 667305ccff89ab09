import Foundation

/// Reads what `BinaryWriter` wrote, straight from a buffer (an LMDB page during replay).
///
/// Every read is bounds-checked and throws `LogError.corrupt` instead of trapping, so a
/// damaged or hostile record is an error, never a crash. The buffer must outlive the
/// reader; strings and arrays are copied out.
public struct BinaryReader {
    public let buffer: UnsafeRawBufferPointer
    public var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var remaining: Int { buffer.count - offset }

    @inline(__always)
    mutating func need(_ n: Int) throws {
        guard n >= 0, n <= buffer.count - offset else {
            throw LogError.corrupt("record ends early: needed \(n) more bytes at offset \(offset) of \(buffer.count)")
        }
    }

    public mutating func u8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return buffer[offset]
    }

    public mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw LogError.corrupt("invalid boolean byte \(b)")
        }
    }

    public mutating func u16() throws -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    public mutating func u32() throws -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    public mutating func u64() throws -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    public mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }
    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    @inlinable
    public mutating func varint() throws -> UInt64 {
        // One byte (under 128): nearly every count, length and index. Inlined, without the
        // loop and its checks: rule rows and records are walked a varint at a time, and the
        // call was a tenth of a large append's appending thread.
        if offset < buffer.count {
            let b = buffer.load(fromByteOffset: offset, as: UInt8.self)
            if b < 0x80 {
                offset += 1
                return UInt64(b)
            }
        }
        return try longVarint()
    }

    @usableFromInline
    mutating func longVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            if shift == 63 && b > 1 { throw LogError.corrupt("varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw LogError.corrupt("varint too long") }
        }
    }

    public mutating func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
        try need(n)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + n)])
    }

    /// UTF-8 of known length; invalid UTF-8 is an error, not silently repaired.
    public mutating func utf8(count n: Int) throws -> String {
        let raw = try bytes(n)
        // ASCII (nearly every id, and most texts) is valid UTF-8 as it stands, and one pass
        // over the bytes shows it: `String(validating:as:)` looked up generic metadata for
        // every string, about a thousand instructions, most of decoding a record.
        if Self.isASCII(raw) { return String(decoding: raw, as: UTF8.self) }
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw LogError.corrupt("string at offset \(offset - n) is not valid UTF-8")
        }
        return s
    }

    /// Whether every byte is below 0x80, eight at a time.
    @inline(__always)
    static func isASCII(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= b.count {
            if b.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < b.count {
            if b[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    public mutating func string() throws -> String {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw LogError.corrupt("string length \(n) exceeds the record") }
        return try utf8(count: Int(n))
    }

    /// A string this code wrote itself into derived data (rule rows), decoded without
    /// validating its UTF-8 again: invalid bytes would become U+FFFD, not a crash. Never for
    /// event records, which may come from a damaged or hostile file and are validated.
    mutating func trustedString() throws -> String {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw LogError.corrupt("string length \(n) exceeds the record") }
        return String(decoding: try bytes(Int(n)), as: UTF8.self)
    }

    public mutating func uuid() throws -> UUID {
        let b = try bytes(16)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    public mutating func date() throws -> CalendarDate { CalendarDate(daysSinceEpoch: try i32()) }
    public mutating func hours() throws -> Hours { Hours(hundredths: try i32()) }

    public mutating func pseudonym() throws -> Pseudonym {
        try need(16)
        let h = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let l = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        offset += 16
        return Pseudonym(high: h, low: l)
    }

    public mutating func enumCase<E: CaseIterable>(_: E.Type) throws -> E {
        let i = Int(try u8())
        guard i < E.allCases.count else { throw LogError.corrupt("unknown \(E.self) code \(i)") }
        return E.allCases[E.allCases.index(E.allCases.startIndex, offsetBy: i)]
    }

    public mutating func optional<T>(_ read: (inout BinaryReader) throws -> T) throws -> T? {
        switch try u8() {
        case 0: return nil
        case 1: return try read(&self)
        case let b: throw LogError.corrupt("invalid optional marker \(b)")
        }
    }

    public mutating func array<T>(_ read: (inout BinaryReader) throws -> T) throws -> [T] {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw LogError.corrupt("array count \(n) exceeds the record") }
        var out: [T] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n { out.append(try read(&self)) }
        return out
    }
}
