import Foundation

/// Decodes a `Decodable` value straight from a parsed `JSONValue`.
///
/// An imported event's `data` has been parsed (`JSONParser`) and checked against its shape
/// (`ValueShape`) already; writing it back to text for `JSONDecoder` to parse a second time
/// was a third of an import's CPU. This decoder reads the tree instead, with
/// `JSONDecoder`'s default strategies: keys as written, numbers as written (an integer
/// field takes `3`, `3.0` or `3e0`), no special dates or data.
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, codingPath: [any CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    /// Decodes `type` from `value`.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: JSONValueDecoder(value))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw Self.mismatch(JSONObject.self, value, codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw Self.mismatch([JSONValue].self, value, codingPath) }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    // MARK: - Leaves

    /// `value` as `T`, for the leaf types every container decodes the same way.
    static func leaf<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        switch value {
        case .string(let s) where T.self == String.self:
            return s as! T
        case .bool(let b) where T.self == Bool.self:
            return b as! T
        case .string(let s) where T.self == UUID.self:
            // What UUID's own init(from:) does, without the C library's sscanf.
            guard let u = UUID(hexString: s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "'\(s)' is not a UUID"))
            }
            return u as! T
        case .number(let text):
            if let v = number(T.self, text) { return v }
            if T.self is any Numeric.Type {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(text) does not fit in \(T.self)"))
            }
        default:
            break
        }
        if T.self == String.self || T.self == Bool.self || T.self is any Numeric.Type {
            throw mismatch(T.self, value, path)
        }
        return try T(from: JSONValueDecoder(value, codingPath: path))
    }

    /// A number written as `text` as `T`, if `T` is a number type and it fits; integers
    /// written with a fraction or an exponent are taken when they are whole.
    private static func number<T>(_ type: T.Type, _ text: String) -> T? {
        func integer<I: FixedWidthInteger>(_: I.Type) -> I? {
            if let v = I(text) { return v }
            guard let d = Double(text), d.rounded() == d else { return nil }
            return I(exactly: d)
        }
        switch T.self {
        case is Double.Type: return Double(text) as? T
        case is Float.Type: return Float(text) as? T
        case is Int.Type: return integer(Int.self) as? T
        case is Int8.Type: return integer(Int8.self) as? T
        case is Int16.Type: return integer(Int16.self) as? T
        case is Int32.Type: return integer(Int32.self) as? T
        case is Int64.Type: return integer(Int64.self) as? T
        case is UInt.Type: return integer(UInt.self) as? T
        case is UInt8.Type: return integer(UInt8.self) as? T
        case is UInt16.Type: return integer(UInt16.self) as? T
        case is UInt32.Type: return integer(UInt32.self) as? T
        case is UInt64.Type: return integer(UInt64.self) as? T
        default: return nil
        }
    }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(value.kindDescription)"))
    }

    // MARK: - Containers

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let codingPath: [any CodingKey]

        var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }

        func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

        private func member(_ key: Key) throws -> JSONValue {
            guard let v = object[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member '\(key.stringValue)'"))
            }
            return v
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try member(key) { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONValueDecoder.leaf(T.self, try member(key), codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(try member(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            JSONValueDecoder(object["super"] ?? .null, codingPath: codingPath)
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONValueDecoder(object[key.stringValue] ?? .null, codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(items: [JSONValue], codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        private struct Index: CodingKey {
            var intValue: Int?
            var stringValue: String { "\(intValue ?? 0)" }
            init(_ i: Int) { intValue = i }
            init?(stringValue: String) { return nil }
            init?(intValue: Int) { self.intValue = intValue }
        }

        private mutating func next() throws -> (JSONValue, [any CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "the array has no more elements"))
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [Index(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, case .null = items[currentIndex] else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (v, path) = try next()
            return try JSONValueDecoder.leaf(T.self, v, path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (v, path) = try next()
            return try JSONValueDecoder(v, codingPath: path).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (v, path) = try next()
            return try JSONValueDecoder(v, codingPath: path).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let (v, path) = try next()
            return JSONValueDecoder(v, codingPath: path)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONValueDecoder.leaf(T.self, value, codingPath)
        }
    }
}
