import Foundation

/// Encodes an `Encodable` value straight into a `JSONValue`, the tree export writes.
///
/// Export had Foundation's `JSONEncoder` write each payload as text and `JSONParser` read
/// it back into a tree: a quarter of an export's CPU. This encoder builds the tree: members
/// in the order they are encoded, integers as `String(value)`, no special dates or data
/// (the payloads have none; their dates encode themselves as strings). Floating-point
/// numbers are written as Swift prints them (`7.0`, where `JSONEncoder` writes `7`): the
/// only ones, hours, are normalised on export (`ValueShape.normalised`).
enum JSONValueEncoder {
    /// `value` as a JSON tree.
    static func encode(_ value: some Encodable) throws -> JSONValue {
        let node = Node()
        try value.encode(to: NodeEncoder(node: node, codingPath: []))
        return node.value
    }

    /// One value being built; containers add children to it.
    final class Node {
        enum Content {
            case unset
            case leaf(JSONValue)
            case object([(String, Node)])
            case array([Node])
        }

        var content: Content = .unset

        var value: JSONValue {
            switch content {
            case .unset: return .object(JSONObject())  // a type that encoded nothing: {}, as JSONEncoder writes
            case .leaf(let v): return v
            case .object(let members): return .object(JSONObject(members.map { ($0.0, $0.1.value) }))
            case .array(let items): return .array(items.map(\.value))
            }
        }

        func add(_ key: String, _ child: Node) {
            if case .object(var members) = content {
                content = .unset  // one reference to the array while it grows
                members.append((key, child))
                content = .object(members)
            } else {
                content = .object([(key, child)])
            }
        }

        func append(_ child: Node) {
            if case .array(var items) = content {
                content = .unset
                items.append(child)
                content = .array(items)
            } else {
                content = .array([child])
            }
        }

        var count: Int {
            if case .array(let items) = content { return items.count }
            return 0
        }
    }

    /// The leaf a value of a basic type is, or nil for a type that encodes itself. The
    /// metatype is compared before casting: a failed cast per type tried cost more.
    static func leaf<T: Encodable>(_ value: T) -> JSONValue? {
        if T.self == String.self { return .string(value as! String) }
        if T.self == Bool.self { return .bool(value as! Bool) }
        if T.self == Int.self { return .integer(value as! Int) }
        if T.self == Int64.self { return .integer(value as! Int64) }
        if T.self == Int32.self { return .integer(value as! Int32) }
        if T.self == Int16.self { return .integer(value as! Int16) }
        if T.self == Int8.self { return .integer(value as! Int8) }
        if T.self == UInt.self { return .integer(value as! UInt) }
        if T.self == UInt64.self { return .integer(value as! UInt64) }
        if T.self == UInt32.self { return .integer(value as! UInt32) }
        if T.self == UInt16.self { return .integer(value as! UInt16) }
        if T.self == UInt8.self { return .integer(value as! UInt8) }
        if T.self == Double.self { return .number(String(value as! Double)) }
        if T.self == Float.self { return .number(String(value as! Float)) }
        return nil
    }

    /// Encodes `value` into a new node.
    static func node(for value: some Encodable, at path: [any CodingKey]) throws -> Node {
        let node = Node()
        if let leaf = leaf(value) {
            node.content = .leaf(leaf)
        } else {
            try value.encode(to: NodeEncoder(node: node, codingPath: path))
        }
        return node
    }

    struct NodeEncoder: Encoder {
        let node: Node
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if case .object = node.content {} else { node.content = .object([]) }
            return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if case .array = node.content {} else { node.content = .array([]) }
            return Unkeyed(node: node, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            Single(node: node, codingPath: codingPath)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) {
            let child = Node()
            child.content = .leaf(.null)
            node.add(key.stringValue, child)
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            node.add(key.stringValue, try JSONValueEncoder.node(for: value, at: codingPath + [key]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            node.add(key.stringValue, child)
            return NodeEncoder(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Node()
            node.add(key.stringValue, child)
            return NodeEncoder(node: child, codingPath: codingPath + [key]).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            let child = Node()
            node.add("super", child)
            return NodeEncoder(node: child, codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let child = Node()
            node.add(key.stringValue, child)
            return NodeEncoder(node: child, codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var count: Int { node.count }

        mutating func encodeNil() {
            let child = Node()
            child.content = .leaf(.null)
            node.append(child)
        }

        mutating func encode<T: Encodable>(_ value: T) throws {
            node.append(try JSONValueEncoder.node(for: value, at: codingPath))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            node.append(child)
            return NodeEncoder(node: child, codingPath: codingPath).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Node()
            node.append(child)
            return NodeEncoder(node: child, codingPath: codingPath).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            let child = Node()
            node.append(child)
            return NodeEncoder(node: child, codingPath: codingPath)
        }
    }

    struct Single: SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]

        mutating func encodeNil() { node.content = .leaf(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            if let leaf = JSONValueEncoder.leaf(value) {
                node.content = .leaf(leaf)
            } else {
                try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
            }
        }
    }
}
