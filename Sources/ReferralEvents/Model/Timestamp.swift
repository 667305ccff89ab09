/// An instant in UTC with millisecond precision.
///
/// Stored as milliseconds since 1970-01-01T00:00:00Z so that the stored form is a
/// fixed 8-byte integer that replay can compare without parsing. Shown and
/// exchanged as ISO 8601, e.g. `2024-03-01T09:30:00.000Z`.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, UTC.
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    /// Midnight UTC at the start of `date`.
    public init(_ date: CalendarDate, hour: Int = 0, minute: Int = 0) {
        millisecondsSinceEpoch = (Int64(date.daysSinceEpoch) * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60) * 1000
    }

    /// The calendar date (UTC) this instant falls on.
    ///
    /// Instants more than about 5.8 million years from 1970 (only a damaged record or hostile
    /// input holds them) clamp to the first or last representable day instead of trapping.
    public var date: CalendarDate {
        CalendarDate(daysSinceEpoch: Int32(clamping: floorDiv(millisecondsSinceEpoch, 86_400_000)))
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSinceEpoch < b.millisecondsSinceEpoch }

    public func adding(days: Int) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + Int64(days) * 86_400_000)
    }

    /// ISO 8601 in UTC with milliseconds: `2024-03-01T09:30:00.000Z`.
    public var iso8601: String {
        let ms = millisecondsSinceEpoch
        let day = floorDiv(ms, 86_400_000)
        let remainder = ms % 86_400_000  // not ms - day * 86_400_000, which overflows near Int64.min
        let msOfDay = remainder < 0 ? remainder + 86_400_000 : remainder
        let d = CalendarDate(daysSinceEpoch: Int32(clamping: day))
        let h = msOfDay / 3_600_000, m = (msOfDay / 60_000) % 60, s = (msOfDay / 1000) % 60, f = msOfDay % 1000
        let (y, mo, da) = d.components
        guard (0...9999).contains(y) else {
            return "\(d.iso8601)T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
        }
        // Written digit by digit into the string's own storage: the interpolation above
        // made a string per part (a tenth of an export's CPU).
        return String(unsafeUninitializedCapacity: 24) { out in
            var w = DigitWriter(out: out)
            w.put(y, 4, "-"); w.put(mo, 2, "-"); w.put(da, 2, "T")
            w.put(h, 2, ":"); w.put(m, 2, ":"); w.put(s, 2, "."); w.put(f, 3, "Z")
            return w.at
        }
    }

    public var description: String { iso8601 }

    /// Parses RFC 3339 / ISO 8601 date-times (`2024-03-01T09:30:00Z`, with optional
    /// fraction and a `Z` or `±hh:mm` offset) or a bare date (`2024-03-01`,
    /// `01.03.2024`), which means midnight UTC.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        if bytes.count == 10, let date = CalendarDate(parsing: text) {
            self.init(date)
            return
        }
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
              let date = CalendarDate(parsing: String(decoding: bytes[0..<10], as: UTF8.self)),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let h = digits(bytes, 11, 2), let mi = digits(bytes, 14, 2), let s = digits(bytes, 17, 2),
              // No leap second (:60): the log keeps milliseconds of POSIX time, which has
              // none, and JSON Schema's date-time checkers refuse one on most days.
              h < 24, mi < 60, s < 60
        else { return nil }
        var i = 19
        var millis = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            let start = i
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                millis += Int(bytes[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start || i - start > 9 { return nil }
        }
        guard i < bytes.count else { return nil }
        var offsetMinutes = 0
        if bytes[i] == UInt8(ascii: "Z") || bytes[i] == UInt8(ascii: "z") {
            i += 1
        } else if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            let sign = bytes[i] == UInt8(ascii: "+") ? 1 : -1
            guard bytes.count == i + 6, bytes[i + 3] == UInt8(ascii: ":"),
                  let oh = digits(bytes, i + 1, 2), let om = digits(bytes, i + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
            i += 6
        } else {
            return nil
        }
        guard i == bytes.count else { return nil }
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offsetMinutes * 60)
        self.init(millisecondsSinceEpoch: seconds * 1000 + Int64(millis))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let t = Timestamp(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not an ISO 8601 date-time such as 2024-03-01T09:30:00Z")
        }
        self = t
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso8601)
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Writes numbers of fixed width, each followed by a separator, into a string's storage.
struct DigitWriter {
    let out: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    var at = 0

    /// `value` (from 0, below 10^`width`) as `width` decimal digits, then `separator`.
    mutating func put(_ value: some BinaryInteger, _ width: Int, _ separator: Unicode.Scalar?) {
        var v = Int(value)
        for k in stride(from: at + width - 1, through: at, by: -1) {
            out[k] = UInt8(48 + v % 10)
            v /= 10
        }
        at += width
        if let separator {
            out[at] = UInt8(separator.value)
            at += 1
        }
    }
}

func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

func digits(_ bytes: [UInt8], _ at: Int, _ count: Int) -> Int? {
    guard at + count <= bytes.count else { return nil }
    var v = 0
    for i in at..<(at + count) {
        let b = bytes[i]
        guard b >= 48, b <= 57 else { return nil }
        v = v * 10 + Int(b - 48)
    }
    return v
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
