/// The id of an organisation in the registry, e.g. `jobcenter-viborg`.
public typealias OrganisationID = String
/// The id of a housing area, e.g. `viborg-ellekonebakken`.
public typealias AreaID = String
/// The id of a liaison (a staff member who records events), e.g. `vib-lis-01`.
public typealias LiaisonID = String
/// The code of a target group (reference data, never a closed enum), e.g. `jobparat`.
public typealias TargetGroupCode = String

/// The id of a stream: `registry`, `case-<case id>`, `agreement-<agreement id>`
/// or `resident-<pseudonym>`.
///
/// The part before the first `-` is the stream's *category*; the domain rules use it
/// to check that each event type lands in the right kind of stream.
public struct StreamID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// The stream that holds reference data.
    public static let registry = StreamID("registry")
    /// The stream of one case.
    public static func `case`(_ caseID: String) -> StreamID { StreamID("case-" + caseID) }
    /// The stream of one shared-hours agreement.
    public static func agreement(_ agreementID: String) -> StreamID { StreamID("agreement-" + agreementID) }
    /// The stream of erasure decisions about one resident.
    public static func resident(_ pseudonym: Pseudonym) -> StreamID { StreamID("resident-" + pseudonym.hex) }

    /// `case` for `case-VIB-0001`, `registry` for `registry`.
    public var category: Substring {
        rawValue.firstIndex(of: "-").map { rawValue[..<$0] } ?? rawValue[...]
    }

    /// The part after the category: the case id for `case-VIB-0001`.
    public var entityID: Substring {
        rawValue.firstIndex(of: "-").map { rawValue[rawValue.index(after: $0)...] } ?? ""
    }

    public var description: String { rawValue }
    public static func < (a: StreamID, b: StreamID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A resident's pseudonym: the first 128 bits of HMAC-SHA256(store secret, CPR number).
///
/// The same CPR number always gives the same pseudonym in one store, so a liaison can
/// find a resident again; without the store's secret the CPR number cannot be
/// recovered from it. Shown as 32 lowercase hex digits.
public struct Pseudonym: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads 16 bytes, big-endian.
    public init(bytes: some Sequence<UInt8>) {
        var h: UInt64 = 0, l: UInt64 = 0, i = 0
        for b in bytes {
            if i < 8 { h = h << 8 | UInt64(b) } else if i < 16 { l = l << 8 | UInt64(b) }
            i += 1
        }
        self.init(high: h, low: l)
    }

    /// Parses 32 hex digits.
    public init?(hex: String) {
        let u = Array(hex.utf8)
        guard u.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for i in stride(from: 0, to: 32, by: 2) {
            guard let hi = hexValue(u[i]), let lo = hexValue(u[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var hex: String { hexString(bytes) }
    public var description: String { hex }
    public static func < (a: Pseudonym, b: Pseudonym) -> Bool { (a.high, a.low) < (b.high, b.low) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let p = Pseudonym(hex: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a pseudonym (32 hex digits)")
        }
        self = p
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// Hours in hundredths, so that 7.5 hours is exact and sums never drift.
public struct Hours: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, AdditiveArithmetic {
    /// Hundredths of an hour.
    public var hundredths: Int32

    public init(hundredths: Int32) { self.hundredths = hundredths }

    /// Rounds to the nearest hundredth; nil for values that are not finite or out of range.
    public init?(_ value: Double) {
        guard value.isFinite, abs(value) < 1_000_000 else { return nil }
        hundredths = Int32((value * 100).rounded())
    }

    public var value: Double { Double(hundredths) / 100 }
    public static let zero = Hours(hundredths: 0)
    public static func + (a: Hours, b: Hours) -> Hours { Hours(hundredths: a.hundredths + b.hundredths) }
    public static func - (a: Hours, b: Hours) -> Hours { Hours(hundredths: a.hundredths - b.hundredths) }
    public static func < (a: Hours, b: Hours) -> Bool { a.hundredths < b.hundredths }

    /// `7.5`, `12`, `0.25`.
    public var description: String {
        let whole = hundredths / 100, frac = abs(hundredths % 100)
        if frac == 0 { return String(whole) }
        let sign = hundredths < 0 && whole == 0 ? "-" : ""
        return frac % 10 == 0 ? "\(sign)\(whole).\(frac / 10)" : "\(sign)\(whole).\(pad(frac, 2))"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let v = try c.decode(Double.self)
        guard let h = Hours(v) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(v) is not a number of hours")
        }
        self = h
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

/// Personal data sealed with one resident's key (AES-256-GCM, `nonce ‖ ciphertext ‖ tag`).
///
/// Only the key store can open it; once the resident's key is destroyed the bytes stay in
/// the log (the hash chain is unchanged) but nobody can read them. Exchanged as base64.
public struct SealedData: Sendable, Hashable, Codable {
    public var combined: [UInt8]

    public init(combined: [UInt8]) { self.combined = combined }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let bytes = Base64.decode(s), bytes.count >= 28 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "sealed data must be base64 of nonce, ciphertext and tag")
        }
        combined = bytes
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Base64.encode(combined))
    }
}

func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 97...102: return c - 87
    case 65...70: return c - 55
    default: return nil
    }
}

/// Lowercase hex of `bytes`.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let table = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(table[Int(b >> 4)])
        out.append(table[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Standard base64 (RFC 4648) without Foundation, for sealed data at the JSON edge.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for s in [18, 12, 6, 0] { out.append(alphabet[Int(n >> UInt32(s) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            var n = UInt32(bytes[i]) << 16
            if rest == 2 { n |= UInt32(bytes[i + 1]) << 8 }
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 4 * 3)
        var i = 0
        while i < u.count {
            var n: UInt32 = 0
            var pads = 0
            for k in 0..<4 {
                let c = u[i + k]
                let v: UInt32
                switch c {
                case 65...90: v = UInt32(c - 65)
                case 97...122: v = UInt32(c - 71)
                case 48...57: v = UInt32(c + 4)
                case 43: v = 62
                case 47: v = 63
                case 61 where i + 4 == u.count && k >= 2: v = 0; pads += 1
                default: return nil
                }
                if pads > 0 && c != 61 { return nil }
                n = n << 6 | v
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if pads < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if pads < 1 { out.append(UInt8(n & 0xFF)) }
            i += 4
        }
        return out
    }
}
