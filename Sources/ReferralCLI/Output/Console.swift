import Foundation
import Synchronization

/// A buffered text stream to standard output or standard error.
///
/// Output is buffered (a `log` of a million events would otherwise make a million write
/// calls) and flushed when the buffer fills and before the process exits. Standard error is
/// flushed at every line so messages and progress appear at once.
final class Console: Sendable {
    static let out = Console(fileDescriptor: 1, flushEachLine: false)
    static let err = Console(fileDescriptor: 2, flushEachLine: true)

    private let fileDescriptor: Int32
    private let flushEachLine: Bool
    private let buffer = Mutex<[UInt8]>([])
    private let failure = Mutex<Int32?>(nil)

    /// The errno of the first failed write, if any (a full disk, a closed pipe).
    var writeError: Int32? { failure.withLock { $0 } }

    /// Flushes, and says why output was lost, if any was: nil when everything was written
    /// or the reader has gone (`referral log | head`: nobody is left to tell, as in git).
    func lostOutput() -> String? {
        flush()
        guard let code = writeError, code != EPIPE else { return nil }
        return String(cString: strerror(code))
    }

    init(fileDescriptor: Int32, flushEachLine: Bool) {
        self.fileDescriptor = fileDescriptor
        self.flushEachLine = flushEachLine
    }

    /// Whether the stream is a terminal (progress bars only go to terminals).
    var isTerminal: Bool { isatty(fileDescriptor) == 1 }

    func write(_ text: String) {
        let full: Bool = buffer.withLock { b in
            b.append(contentsOf: text.utf8)
            return b.count >= 1 << 16
        }
        if full || flushEachLine { flush() }
    }

    func line(_ text: String) { write(text + "\n") }

    func flush() {
        let bytes: [UInt8] = buffer.withLock { b in
            defer { b.removeAll(keepingCapacity: true) }
            return b
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fileDescriptor, $0.baseAddress, $0.count) }
            if n <= 0 {
                let code = n < 0 ? errno : EIO
                if code == EINTR { continue }
                // Remembered for files, where it matters; on a closed pipe (`referral log |
                // head`) there is nobody left to tell.
                failure.withLock { if $0 == nil { $0 = code } }
                return
            }
            offset += n
        }
    }
}

/// Where a table or report is written: the console, or a string in tests.
protocol TextSink: AnyObject {
    func write(_ text: String)
}

extension Console: TextSink {}

/// Collects output in memory, for tests and for files written whole.
final class StringSink: TextSink {
    private(set) var text = ""
    func write(_ text: String) { self.text += text }
}
