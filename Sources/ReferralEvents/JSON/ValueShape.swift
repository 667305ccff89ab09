import Foundation

/// The JSON form of one value at the CloudEvents edge.
///
/// One description serves three ends: import checks values against it and names the
/// rule broken, export normalises values by it (lowercase UUIDs, hours to the
/// hundredth), and the JSON Schema files in `Schemas/` are generated from it, so the
/// Swift importer and the schemas cannot drift apart.
indirect enum ValueShape: Sendable, Hashable {
    /// Any string (free text such as a reason; may be empty).
    case text
    /// A non-empty string: an organisation, area, liaison, case or agreement id.
    case identifier
    /// A non-empty URI reference (RFC 3986 characters only).
    case uriReference
    /// `YYYY-MM-DD`, a real day in 1900–2199.
    case date
    /// RFC 3339 date-time, e.g. `2024-03-01T09:30:00.000Z`.
    case dateTime
    /// A number of hours, at least 0, kept to the hundredth.
    case hours
    case bool
    /// `8-4-4-4-12` hex digits, either case on import, lowercase on export.
    case uuid
    /// 32 lowercase hex digits.
    case pseudonym
    /// A SHA-256 digest as 64 lowercase hex digits.
    case digest
    /// Standard base64 (RFC 4648, padded) of at least 28 bytes: nonce, ciphertext, tag.
    case sealed
    /// One of a closed vocabulary's raw values.
    case vocabulary([String])
    /// An integer from a fixed set, e.g. months after close: 1, 3, 6, 12.
    case integer(allowed: [Int])
    /// A positive integer within CloudEvents' Integer range (1 … 2³¹−1).
    case counter
    /// Exactly this string.
    case constant(String)
    /// Exactly this integer.
    case constantInteger(Int)
    /// A CloudEvents `type` of this project: `dk.referral.<name>.v<version>`.
    case eventTypeName
    /// A URI reference whose last segment is this schema file name.
    case schemaReference(String)
    /// An array of values of one shape.
    case list(ValueShape, minItems: Int)
    /// The `data` object of one event type: exactly its payload fields.
    case payload(EventType)
    /// Any JSON object (the `data` of the generic envelope schema).
    case anyObject

    /// The closed vocabulary `E` as its raw values, in declaration order.
    static func vocabulary<E: CaseIterable & RawRepresentable>(of _: E.Type) -> ValueShape where E.RawValue == String {
        .vocabulary(E.allCases.map(\.rawValue))
    }

    /// How error messages name what was expected.
    var expected: String {
        switch self {
        case .text, .identifier, .vocabulary, .constant: "a string"
        case .uriReference, .schemaReference: "a URI reference string"
        case .date: "a date string such as 2024-03-01"
        case .dateTime: "an RFC 3339 date-time string such as 2024-03-01T09:30:00Z"
        case .hours: "a number"
        case .bool: "true or false"
        case .uuid: "a UUID string"
        case .pseudonym: "a pseudonym string (32 hex digits)"
        case .digest: "a hex string (64 digits)"
        case .sealed: "a base64 string"
        case .integer, .counter, .constantInteger: "an integer"
        case .eventTypeName: "an event type string such as dk.referral.case-opened.v1"
        case .list: "an array"
        case .payload, .anyObject: "an object"
        }
    }
}

/// One named member of an object: an envelope attribute or a payload field.
struct FieldShape: Sendable, Hashable {
    var name: String
    var shape: ValueShape
    var required: Bool
    /// Shown as the field's `description` in the JSON Schema.
    var summary: String?

    init(_ name: String, _ shape: ValueShape, required: Bool = true, _ summary: String? = nil) {
        self.name = name
        self.shape = shape
        self.required = required
        self.summary = summary
    }

    /// An optional field: absent when unset (never `null`).
    static func optional(_ name: String, _ shape: ValueShape, _ summary: String? = nil) -> FieldShape {
        FieldShape(name, shape, required: false, summary)
    }
}

// MARK: - Checking

extension ValueShape {
    /// Checks `value`, throwing an `ImportError` for `path` that names the rule broken.
    func check(_ value: JSONValue, at path: String) throws(ImportError) {
        func fail(_ rule: String) -> ImportError { ImportError(field: path, rule: rule) }
        func mismatch() -> ImportError { fail("expected \(expected), found \(value.kindDescription)") }

        switch self {
        case .bool:
            guard case .bool = value else { throw mismatch() }
        case .hours:
            guard case .number(let literal) = value else { throw mismatch() }
            guard let v = Double(literal), v.isFinite else { throw fail("\(literal) is not a finite number") }
            guard v >= 0 else { throw fail("\(literal) is negative; hours are never below 0") }
            guard v < ValueShape.hoursLimit else { throw fail("\(literal) is too large; hours must be below \(Int(ValueShape.hoursLimit))") }
            let scaled = v * 100
            guard abs(scaled - scaled.rounded()) < 1e-6 else {
                throw fail("\(literal) has more than two decimals; hours are kept to the hundredth (e.g. 7.25)")
            }
        case .integer(let allowed):
            let n = try integer(value, at: path)
            guard allowed.contains(n) else { throw fail("\(n) is not one of \(allowed.map(String.init).joined(separator: ", "))") }
        case .counter:
            let n = try integer(value, at: path)
            guard n >= 1, n <= Int(Int32.max) else { throw fail("\(literalText(value) ?? String(n)) is out of range; expected an integer from 1 to \(Int32.max)") }
        case .constantInteger(let expectedValue):
            let n = try integer(value, at: path)
            guard n == expectedValue else { throw fail("\(n) does not match; expected \(expectedValue)") }
        case .list(let element, let minItems):
            guard case .array(let items) = value else { throw mismatch() }
            guard items.count >= minItems else {
                throw fail("has \(items.count) items; at least \(minItems) \(minItems == 1 ? "is" : "are") needed")
            }
            for (k, item) in items.enumerated() { try element.check(item, at: "\(path)[\(k)]") }
        case .payload(let type):
            guard let shape = PayloadShape.forType(type) else {
                throw fail("event type \(type) has no JSON form in this build")
            }
            _ = try checkObject(value, fields: shape.fields, at: path, what: "a \(type.name) v\(type.schemaVersion) event's data")
        case .anyObject:
            guard case .object = value else { throw mismatch() }
        default:
            guard case .string(let s) = value else { throw mismatch() }
            try checkString(s, at: path)
        }
    }

    static let hoursLimit = 1_000_000.0

    private func literalText(_ value: JSONValue) -> String? {
        if case .number(let literal) = value { return literal }
        return nil
    }

    private func integer(_ value: JSONValue, at path: String) throws(ImportError) -> Int {
        guard case .number(let literal) = value else {
            throw ImportError(field: path, rule: "expected \(expected), found \(value.kindDescription)")
        }
        if let n = Int(literal) { return n }
        // JSON Schema counts 3.0 and 3e0 as integers too.
        if let d = Double(literal), d.isFinite, d == d.rounded() {
            // Too large for Int: clamp, so the range checks say "out of range".
            return abs(d) < 9e15 ? Int(d) : (d > 0 ? Int.max : Int.min)
        }
        throw ImportError(field: path, rule: "expected an integer, found \(literal)")
    }

    private func checkString(_ s: String, at path: String) throws(ImportError) {
        func fail(_ rule: String) -> ImportError { ImportError(field: path, rule: rule) }
        switch self {
        case .text:
            break
        case .identifier:
            guard !s.isEmpty else { throw fail("must not be empty") }
        case .uriReference:
            guard !s.isEmpty else { throw fail("must not be empty") }
            guard ValueShape.isURIReference(s) else {
                throw fail("'\(s)' is not a URI reference; use RFC 3986 characters only (no spaces; percent-encode the rest)")
            }
        case .schemaReference(let file):
            guard !s.isEmpty, ValueShape.isURIReference(s) else { throw fail("'\(s)' is not a URI reference") }
            guard s == file || s.hasSuffix("/" + file) else {
                throw fail("'\(s)' does not name this event type's schema; expected a URI ending in '\(file)', e.g. 'Schemas/\(file)'")
            }
        case .date:
            try ValueShape.checkDate(s, at: path)
        case .dateTime:
            try ValueShape.checkDateTime(s, at: path)
        case .uuid:
            guard ValueShape.isUUID(s) else {
                throw fail("'\(s)' is not a UUID; expected 8-4-4-4-12 hex digits such as 0b9e3c9e-5f0a-4c1e-9d3b-2f6a1e7c8d90")
            }
        case .pseudonym:
            guard s.utf8.count == 32, ValueShape.allBytes(of: s, ValueShape.isLowerHex) else {
                throw fail("'\(s)' is not a pseudonym; expected 32 lowercase hex digits")
            }
        case .digest:
            guard s.utf8.count == 64, ValueShape.allBytes(of: s, ValueShape.isLowerHex) else {
                throw fail("'\(s.prefix(80))' is not a SHA-256 digest; expected 64 lowercase hex digits")
            }
        case .sealed:
            guard let bytes = Base64.decode(s) else {
                throw fail("is not base64 (RFC 4648 standard alphabet, padded with '=')")
            }
            guard bytes.count >= 28 else {
                throw fail("holds \(bytes.count) bytes; sealed data has at least 28 (12-byte nonce, ciphertext, 16-byte tag)")
            }
        case .vocabulary(let values):
            guard values.contains(s) else { throw fail("'\(s)' is not one of \(values.joined(separator: ", "))") }
        case .constant(let c):
            guard s == c else { throw fail("'\(s)' is not supported; expected '\(c)'") }
        case .eventTypeName:
            guard ValueShape.isEventTypeName(s) else {
                throw fail("'\(s)' is not an event type of this project; expected dk.referral.<name>.v<version>")
            }
        case .bool, .hours, .integer, .counter, .constantInteger, .list, .payload, .anyObject:
            break
        }
    }

    static func checkDate(_ s: String, at path: String) throws(ImportError) {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2)
        else { throw ImportError(field: path, rule: "'\(s)' is not a date in the form YYYY-MM-DD") }
        guard (1900...2199).contains(y) else { throw ImportError(field: path, rule: "'\(s)' is outside the years 1900–2199") }
        guard CalendarDate(year: y, month: m, day: d) != nil else { throw ImportError(field: path, rule: "'\(s)' is not a real date") }
    }

    static func checkDateTime(_ s: String, at path: String) throws(ImportError) {
        // Nearly every one is well formed: then no more is asked than a parse.
        if s.utf8.count >= 20, Timestamp(parsing: s) != nil {
            let b = s.utf8
            let t = b[b.index(b.startIndex, offsetBy: 10)]
            if t == UInt8(ascii: "T") || t == UInt8(ascii: "t"), let year = Int(s.prefix(4)), (1900...2199).contains(year) { return }
        }
        let b = Array(s.utf8)
        let example = "an RFC 3339 date-time such as 2024-03-01T09:30:00Z"
        if b.count >= 10 {
            let datePart = String(decoding: b[0..<10], as: UTF8.self)
            do {
                try checkDate(datePart, at: path)
            } catch {
                if b.count == 10 || b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
                   b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), digits(b, 0, 4) != nil {
                    throw ImportError(field: path, rule: error.rule.replacingOccurrences(of: "'\(datePart)'", with: "'\(s)'"))
                }
                throw ImportError(field: path, rule: "'\(s)' is not \(example)")
            }
            if b.count == 10 {
                throw ImportError(field: path, rule: "'\(s)' is a date without a time; expected \(example)")
            }
        }
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), Timestamp(parsing: s) != nil else {
            throw ImportError(field: path, rule: "'\(s)' is not \(example)")
        }
    }

    static func isLowerHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...102).contains(c) }

    static func isUUID(_ s: String) -> Bool { UUID(hexString: s) != nil }

    /// RFC 3986 characters: unreserved, reserved and `%` followed by two hex digits.
    static func isURIReference(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var k = 0
        while k < b.count {
            let c = b[k]
            if c == UInt8(ascii: "%") {
                guard k + 2 < b.count, hexValue(b[k + 1]) != nil, hexValue(b[k + 2]) != nil else { return false }
                k += 3
                continue
            }
            guard c < 0x80, uriCharacters[Int(c)] else { return false }
            k += 1
        }
        return true
    }

    /// Which ASCII bytes may appear in a URI reference (a table: a set hashed every byte).
    static let uriCharacters: [Bool] = {
        var table = [Bool](repeating: false, count: 128)
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=".utf8 { table[Int(c)] = true }
        return table
    }()

    /// Whether every UTF-8 byte of `s` passes `test`: over the contiguous bytes of a native
    /// string, where iterating the generic `UTF8View` cost several times more.
    static func allBytes(of s: String, _ test: (UInt8) -> Bool) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(test) } ?? s.utf8.allSatisfy(test)
    }

    /// The same pattern as `eventTypePattern`, by hand: `dk.referral.` then names of
    /// lowercase letters and digits joined by single hyphens, `.v` and a version from 1.
    static func isEventTypeName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        let prefix = Array("dk.referral.".utf8)
        guard b.count > prefix.count, b.starts(with: prefix), let dot = b.lastIndex(of: UInt8(ascii: ".")), dot >= prefix.count
        else { return false }  // "dk.referral." alone: the only dot is the prefix's
        let name = b[prefix.count..<dot]
        let version = b[(dot + 1)...]
        guard version.first == UInt8(ascii: "v"), version.count >= 2 else { return false }
        let number = version.dropFirst()
        guard number.first != UInt8(ascii: "0"), number.allSatisfy({ (48...57).contains($0) }) else { return false }
        let parts = name.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { (97...122).contains($0) || (48...57).contains($0) } }
    }
}

// MARK: - Objects

/// Checks that `value` is an object with exactly `fields`: no unknown members, every
/// required one present, none `null`, each of its shape. `what` names the object in
/// hints, e.g. "a case-opened v1 event's data".
func checkObject(_ value: JSONValue, fields: [FieldShape], at path: String,
                 what: @autoclosure () -> String) throws(ImportError) -> JSONObject {
    guard case .object(let object) = value else {
        throw ImportError(field: path, rule: "expected an object, found \(value.kindDescription)")
    }
    func sub(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
    // A scan of the fields, not a set: an event has about fifteen, where hashing every
    // name cost more than comparing.
    for key in object.keys where !fields.contains(where: { $0.name.utf8.count == key.utf8.count && $0.name == key }) {
        let hint = fields.first { $0.name.lowercased() == key.lowercased() }.map { "; did you mean '\($0.name)'?" }
            ?? "; \(what()) has \(fields.map(\.name).joined(separator: ", "))"
        throw ImportError(field: sub(key), rule: "unknown field\(hint)")
    }
    for field in fields {
        guard let v = object[field.name] else {
            if field.required { throw ImportError(field: sub(field.name), rule: "required but missing") }
            continue
        }
        if case .null = v {
            throw ImportError(field: sub(field.name), rule: field.required
                ? "must not be null; expected \(field.shape.expected)"
                : "null is not allowed; leave the field out when it has no value")
        }
        try field.shape.check(v, at: sub(field.name))
    }
    return object
}

// MARK: - Normalising on export

extension ValueShape {
    /// The canonical exported form of a value already known to fit this shape.
    func normalised(_ value: JSONValue) -> JSONValue {
        switch (self, value) {
        case (.uuid, .string(let s)):
            return .string(s.lowercased())
        case (.hours, .number(let literal)):
            guard let d = Double(literal), let h = Hours(d) else { return value }
            return .number(h.description)
        case (.list(let element, _), .array(let items)):
            return .array(items.map(element.normalised))
        case (.payload(let type), .object(var object)):
            for field in PayloadShape.forType(type)?.fields ?? [] {
                if let v = object[field.name] { object[field.name] = field.shape.normalised(v) }
            }
            return .object(object)
        default:
            return value
        }
    }
}
