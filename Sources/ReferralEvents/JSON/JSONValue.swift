import Foundation

// A small, strict JSON model for the CloudEvents edge.
//
// Foundation's JSONSerialization loses what import needs to report precisely: it
// accepts duplicate keys, turns `true` into a number on some platforms and forgets
// how a number was written. This parser follows RFC 8259 exactly, keeps object members
// in order and numbers as written, and says where the text went wrong.

/// A parsed JSON value. Numbers keep their literal text so integers and hours are read
/// exactly.
enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number as written, e.g. `7.5` or `1e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// How the value's JSON type is named in error messages: "a string", "an object".
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// An integer number, e.g. `JSONValue.integer(42)`.
    static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }
}

/// A JSON object whose members keep the order they were written or built in.
struct JSONObject: Sendable, Hashable {
    struct Member: Sendable, Hashable {
        var key: String
        var value: JSONValue
    }

    var members: [Member] = []

    init(_ members: [(String, JSONValue)] = []) {
        self.members = members.map { Member(key: $0.0, value: $0.1) }
    }

    var keys: [String] { members.map(\.key) }

    subscript(key: String) -> JSONValue? {
        // Lengths first: comparing two different names of one length is the slow path of
        // String's ==, and most names differ in length.
        get { members.first { $0.key.utf8.count == key.utf8.count && $0.key == key }?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }
}

// MARK: - Parsing

/// Why a text is not JSON, and where (`column` counts characters from 1).
struct JSONSyntaxError: Error, Sendable, Hashable {
    var column: Int
    var message: String
}

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Rejects invalid UTF-8, duplicate object keys, lone surrogates in `\u` escapes,
/// control characters in strings, nesting deeper than `maxDepth` and anything after the
/// value but whitespace.
struct JSONParser {
    static let maxDepth = 32

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0
    /// Where the parser is (members' names, elements' indexes), for error messages only:
    /// the path's text is made when an error needs it, not for every member.
    private var path: [PathPart] = []

    private enum PathPart {
        case key(String)
        case index(Int)
    }

    /// The path so far, as in `data.purposes[1]`.
    private var pathText: String {
        var out = ""
        for part in path {
            switch part {
            case .key(let k): out += out.isEmpty ? k : "." + k
            case .index(let n): out += "[\(n)]"
            }
        }
        return out
    }

    /// Parses one complete JSON text.
    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        if let bad = firstInvalidUTF8(bytes) {
            throw JSONSyntaxError(column: column(of: bad, in: bytes), message: "not valid UTF-8 (byte 0x\(hexString([bytes[bad]])) at byte offset \(bad)); save the file as UTF-8")
        }
        var p = JSONParser(bytes: bytes)
        p.skipWhitespace()
        guard p.i < bytes.count else { throw p.error("the line is empty; expected a JSON object") }
        let value = try p.value()
        p.skipWhitespace()
        guard p.i == bytes.count else { throw p.error("unexpected text after the JSON value; put one event per line") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(column: JSONParser.column(of: i, in: bytes), message: message)
    }

    /// The 1-based character column of byte `offset`.
    static func column(of offset: Int, in bytes: [UInt8]) -> Int {
        var n = 1
        for b in bytes[..<min(offset, bytes.count)] where b & 0xC0 != 0x80 { n += 1 }
        return n
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    private var found: String {
        guard i < bytes.count else { return "the end of the line" }
        let b = bytes[i]
        return b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(hexString([b]))"
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of the line; the JSON value is incomplete") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return .object(try object())
        case UInt8(ascii: "["): return .array(try array())
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "'"): throw error("strings must be in double quotes, not single quotes")
        default: throw error("expected a JSON value, found \(found)")
        }
    }

    private mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else {
            throw error("expected a JSON value, found \(found)")
        }
        i += w.count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= JSONParser.maxDepth else { throw error("nested more than \(JSONParser.maxDepth) levels deep") }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONObject {
        try enter()
        i += 1
        var result = JSONObject()
        // Repeated names are looked for among the members so far; a set only for large
        // objects (an event's have about fifteen, where hashing cost more than comparing).
        var seen: Set<String>?
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return result }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw error("expected a member name in double quotes, found \(found)")
            }
            let keyStart = i
            let key = try string()
            path.append(.key(key))
            let repeated: Bool
            if seen == nil, result.members.count >= 16 { seen = Set(result.members.map(\.key)) }
            if seen != nil {
                repeated = !seen!.insert(key).inserted
            } else {
                repeated = result.members.contains { $0.key.utf8.count == key.utf8.count && $0.key == key }
            }
            if repeated {
                i = keyStart
                throw error("'\(pathText)' appears twice; each member may appear once")
            }
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after '\(pathText)', found \(found)") }
            i += 1
            skipWhitespace()
            let v = try value()
            result.members.append(.init(key: key, value: v))
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of the line; an object is not closed with '}'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; path.removeLast(); continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; depth -= 1; path.removeLast(); return result }
            throw error("expected ',' or '}' after '\(pathText)', found \(found)")
        }
    }

    private mutating func array() throws(JSONSyntaxError) -> [JSONValue] {
        try enter()
        i += 1
        var result: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return result }
        while true {
            skipWhitespace()
            path.append(.index(result.count))
            result.append(try value())
            path.removeLast()
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of the line; an array is not closed with ']'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return result }
            throw error("expected ',' or ']' in an array, found \(found)")
        }
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        i += 1
        // Nearly every string has no escape: it is the bytes up to the quote (valid UTF-8,
        // checked before parsing began).
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: bytes[start..<(i - 1)], as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            i += 1
        }
        var out = Array(bytes[start..<i])
        while true {
            guard i < bytes.count else { throw error("unexpected end of the line inside a string; close it with '\"'") }
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                i += 1
                guard i < bytes.count else { throw error("unexpected end of the line after '\\'") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw error("a \\u escape for a high surrogate must be followed by one for a low surrogate")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("\\u escape pairs a high surrogate with a non-low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("a \\u escape holds a lone low surrogate, which is not a character")
                    }
                    guard let s = Unicode.Scalar(scalar) else { throw error("\\u escape is not a Unicode character") }
                    out.append(contentsOf: Array(String(Character(s)).utf8))
                default:
                    i -= 2
                    throw error("'\\\(Character(Unicode.Scalar(e)))' is not a JSON escape; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX")
                }
            case 0x00..<0x20:
                throw error("a control character (0x\(hexString([b]))) must be escaped inside a string")
            default:
                out.append(b)
                i += 1
            }
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("a \\u escape needs four hex digits") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = hexValue(bytes[i + k]) else { throw error("a \\u escape needs four hex digits") }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }

    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = i
        func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw error("a number needs a digit after '-'") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw error("numbers may not have leading zeros") }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw error("a number needs digits after the decimal point (JSON uses '.', never ',')") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw error("a number needs digits in its exponent") }
            while isDigit(i) { i += 1 }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// The offset of the first byte that is not part of well-formed UTF-8, or nil.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var k = 0
        while k < b.count {
            let c = b[k]
            if c < 0x80 { k += 1; continue }
            let n: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: n = 1
            case 0xE0: n = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: n = 2
            case 0xED: n = 2; upper = 0x9F
            case 0xF0: n = 3; lower = 0x90
            case 0xF1...0xF3: n = 3
            case 0xF4: n = 3; upper = 0x8F
            default: return k
            }
            for j in 1...n {
                guard k + j < b.count else { return k }
                let cc = b[k + j]
                let lo: UInt8 = j == 1 ? lower : 0x80, hi: UInt8 = j == 1 ? upper : 0xBF
                guard cc >= lo, cc <= hi else { return k }
            }
            k += n + 1
        }
        return nil
    }
}

// MARK: - Writing

extension JSONValue {
    /// Compact JSON on one line. With `sortKeys`, object members are written in byte
    /// order of their keys, so equal values always give equal text.
    func compact(sortKeys: Bool) -> String {
        var out = ""
        write(to: &out, sortKeys: sortKeys, indent: nil, level: 0)
        return out
    }

    /// Pretty JSON with two-space indentation, members in their own order; arrays of
    /// plain values stay on one line.
    func pretty() -> String {
        var out = ""
        write(to: &out, sortKeys: false, indent: "  ", level: 0)
        return out + "\n"
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    private func write(to out: inout String, sortKeys: Bool, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            if indent == nil || items.allSatisfy(\.isScalar) {
                out += "["
                for (k, item) in items.enumerated() {
                    if k > 0 { out += indent == nil ? "," : ", " }
                    item.write(to: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
                }
                out += "]"
            } else if let indent {
                out += "["
                for (k, item) in items.enumerated() {
                    out += (k > 0 ? ",\n" : "\n") + String(repeating: indent, count: level + 1)
                    item.write(to: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
                }
                out += "\n" + String(repeating: indent, count: level) + "]"
            }
        case .object(let object):
            if object.members.isEmpty { out += "{}"; return }
            let members = sortKeys
                ? object.members.sorted { JSONValue.utf8Precedes($0.key, $1.key) }
                : object.members
            out += "{"
            for (k, m) in members.enumerated() {
                if let indent {
                    out += (k > 0 ? ",\n" : "\n") + String(repeating: indent, count: level + 1)
                } else if k > 0 {
                    out += ","
                }
                JSONValue.writeString(m.key, to: &out)
                out += indent == nil ? ":" : ": "
                m.value.write(to: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "}"
        }
    }

    /// Whether `a` sorts before `b` by their UTF-8 bytes: over the contiguous bytes of
    /// native strings (`memcmp`), where the generic `UTF8View` comparison was a tenth of an
    /// export's CPU.
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c != 0 ? c < 0 : x.count < y.count
            }
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        // Nearly every string needs no escape, and is appended whole: a scalar at a time
        // was two thirds of an export's CPU. 0xE2 leads U+2028 and U+2029 (and other
        // characters, which then take the slow path).
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }
        } ?? false
        if plain {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}":
                // U+2028/2029 are valid JSON but break JavaScript line handling; escape them.
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
