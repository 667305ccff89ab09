import Foundation
import Synchronization

/// Temporary files to remove if a signal ends the process before they are put in place
/// (Ctrl-C, `kill`, a closed terminal): the `FILE.<pid>.partial` that `FileOutput` writes.
/// git removes its lock files the same way. The signal then ends the process as it would
/// have; a signal the process was started ignoring (`nohup`) stays ignored.
enum PartialFiles {
    private static let capacity = 8
    /// The paths as C strings, read by the signal handler, which calls nothing but `unlink`
    /// and `raise`.
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    /// Whether the handlers are installed; held while a slot changes.
    private static let installed = Mutex(false)

    /// Removes `path` if a signal ends the process before `unregister(_:)`.
    static func register(_ path: String) -> Int? {
        installed.withLock { installed in
            if !installed {
                installHandlers()
                installed = true
            }
            for i in 0..<capacity where slots[i] == nil {
                slots[i] = strdup(path)
                return i
            }
            return nil
        }
    }

    /// The file is in place (or removed): a signal leaves it alone now.
    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        installed.withLock { _ in
            let path = slots[slot]
            slots[slot] = nil
            free(path)
        }
    }

    private static func installHandlers() {
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            var previous = sigaction()
            guard sigaction(signal, nil, &previous) == 0,
                  unsafeBitCast(previous.__sigaction_handler.sa_handler, to: Int.self) != 1 /* SIG_IGN */ else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in PartialFiles.removeAll(thenRaise: signal) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
            sigaction(signal, &action, nil)
        }
    }

    private static func removeAll(thenRaise signal: Int32) {
        for i in 0..<capacity {
            if let path = slots[i] { unlink(path) }
        }
        raise(signal)  // SA_RESETHAND put the default action back: the process ends as asked
    }
}
