/// CSV lines as RFC 4180 defines them, with the separator as a parameter so the same code
/// writes Danish Excel's semicolon files.
enum CSV {
    /// One record ending in CRLF. A field is quoted when it holds the separator, a double
    /// quote, CR or LF (or starts or ends with a space, which Excel would trim); quotes
    /// inside are doubled.
    static func line(_ fields: [String], separator: Character) -> String {
        fields.map { field($0, separator: separator) }.joined(separator: String(separator)) + "\r\n"
    }

    static func field(_ value: String, separator: Character) -> String {
        let needsQuotes = value.contains { $0 == separator || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
            || value.first == " " || value.last == " "
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// JSON text built by hand, so output is byte-for-byte predictable (key order as given,
/// no escaped slashes, UTF-8 left as is).
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `{"a":1,"b":"x"}` from keys and already-encoded values, in the order given.
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ values: [String]) -> String {
        "[" + values.joined(separator: ",") + "]"
    }
}
