import Foundation

/// JSON Lines of CloudEvents: one event per line, UTF-8, lines ending in `\n` (a `\r`
/// before it is allowed).
///
/// Blank lines are skipped, and so is a byte order mark at the very start. Every other
/// line must be one CloudEvent; each error carries its 1-based line number.
///
/// ```swift
/// let result = CloudEventLines.read(try Data(contentsOf: url))
/// for error in result.errors { print(error.message) }  // "line 3: data.kind: 'foo' is not one of …"
/// ```
public enum CloudEventLines {
    /// One event read from a line.
    public struct Entry: Sendable, Hashable {
        /// The 1-based line it was read from.
        public var line: Int
        public var event: ProposedEvent
    }

    /// Every event that could be read, and an error for every line that could not.
    public struct Result: Sendable, Hashable {
        /// The events of the good lines, in file order.
        public var events: [Entry] = []
        /// One error per bad line, in file order, each with its `line` set.
        public var errors: [ImportError] = []
        /// Whether every line could be read.
        public var isValid: Bool { errors.isEmpty }
    }

    /// Reads every line, collecting the events and the errors (at most `maxErrors`, after
    /// which reading stops).
    public static func read(_ data: Data, maxErrors: Int = 1000) -> Result {
        read(bytes: Array(data), maxErrors: maxErrors)
    }

    /// Reads every line of `text`; see `read(_:maxErrors:)`.
    public static func read(_ text: String, maxErrors: Int = 1000) -> Result {
        read(bytes: Array(text.utf8), maxErrors: maxErrors)
    }

    /// Reads every line, or throws the first line's error: for imports that take all or nothing.
    public static func decode(_ data: Data) throws(ImportError) -> [ProposedEvent] {
        let result = read(data, maxErrors: 1)
        if let first = result.errors.first { throw first }
        return result.events.map(\.event)
    }

    static func read(bytes: [UInt8], maxErrors: Int) -> Result {
        var result = Result()
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        var lineNumber = 0
        while start <= bytes.count, result.errors.count < maxErrors {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            lineNumber += 1
            var line = Array(bytes[start..<end])
            if line.last == 0x0D { line.removeLast() }
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if end == bytes.count { break }
                continue
            }
            do {
                result.events.append(Entry(line: lineNumber, event: try ProposedEvent.fromCloudEventJSON(bytes: line)))
            } catch {
                var e = error
                e.line = lineNumber
                result.errors.append(e)
            }
        }
        return result
    }
}
