import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
            let line = bytes[start..<end]
            start = end + 1
            switch parse(line, number: lineNumber) {
            case nil: if end == bytes.count { return result }
            case .success(let entry)?: result.events.append(entry)
            case .failure(let error)?: result.errors.append(error)
            }
        }
        return result
    }

    /// One line (without its `\n`) as an event, or its error; nil for a blank line.
    static func parse(_ bytes: ArraySlice<UInt8>, number: Int) -> Swift.Result<Entry, ImportError>? {
        var line = bytes
        if line.last == 0x0D { line.removeLast() }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        do {
            return .success(Entry(line: number, event: try ProposedEvent.fromCloudEventJSON(bytes: Array(line))))
        } catch {
            var e = error
            e.line = number
            return .failure(e)
        }
    }

    /// Reads JSON Lines from a file or a pipe a block at a time, so that an input of any size
    /// is read in little memory: the lines of `read(_:maxErrors:)`, one at a time.
    ///
    /// ```swift
    /// let reader = try CloudEventLines.Reader(path: "events.jsonl")
    /// while let next = try reader.next() {
    ///     switch next { case .success(let entry): use(entry.event); case .failure(let error): print(error.message) }
    /// }
    /// ```
    public final class Reader {
        private let fd: Int32
        private let ownsDescriptor: Bool
        private var buffer: [UInt8] = []
        private var start = 0
        /// Bytes dropped from the front of `buffer` so far.
        private var dropped = 0
        private var atEnd = false
        private var lineNumber = 0
        private var bomChecked = false
        private let blockSize: Int

        /// Reads `path`, `blockSize` bytes at a time; throws `ImportError` when it cannot be opened.
        public init(path: String, blockSize: Int = 1 << 20) throws(ImportError) {
            self.blockSize = max(blockSize, 1)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw ImportError(field: "", rule: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            self.fd = fd
            ownsDescriptor = true
        }

        /// Reads an open descriptor (standard input: 0), which it leaves open.
        public init(fileDescriptor: Int32, blockSize: Int = 1 << 20) {
            self.blockSize = max(blockSize, 1)
            fd = fileDescriptor
            ownsDescriptor = false
        }

        deinit { if ownsDescriptor { close(fd) } }

        /// Bytes of the input read through the last line returned: for a progress report.
        public var offset: Int { dropped + start }

        /// The next non-blank line, as an event or as its error (with its line number); nil
        /// at the end of the input. Throws `ImportError` when the input cannot be read.
        public func next() throws(ImportError) -> Swift.Result<Entry, ImportError>? {
            while true {
                guard let (line, number) = try nextLine() else { return nil }
                if let parsed = CloudEventLines.parse(line, number: number) { return parsed }
            }
        }

        private func nextLine() throws(ImportError) -> (ArraySlice<UInt8>, Int)? {
            while true {
                if let newline = buffer[start...].firstIndex(of: 0x0A) {
                    defer { start = newline + 1 }
                    lineNumber += 1
                    return (buffer[start..<newline], lineNumber)
                }
                if atEnd {
                    guard start < buffer.count else { return nil }
                    defer { start = buffer.count }
                    lineNumber += 1
                    return (buffer[start...], lineNumber)  // the last line, without its \n
                }
                try fill()
            }
        }

        /// Drops the lines already read and appends the next block of the input.
        private func fill() throws(ImportError) {
            buffer.removeSubrange(0..<start)
            dropped += start
            start = 0
            let old = buffer.count
            buffer.reserveCapacity(old + blockSize)
            var n = 0
            buffer.append(contentsOf: repeatElement(0, count: blockSize))
            while true {
                n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + old, blockSize) }
                if n >= 0 || errno != EINTR { break }
            }
            guard n >= 0 else {
                buffer.removeSubrange(old...)
                throw ImportError(field: "", rule: "cannot read the input: \(String(cString: strerror(errno)))")
            }
            buffer.removeSubrange((old + n)...)
            if n == 0 { atEnd = true }
            // A byte order mark at the very start is skipped (the first read may be short).
            if !bomChecked, buffer.count >= 3 || atEnd {
                bomChecked = true
                if lineNumber == 0, buffer.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
            }
        }
    }
}
