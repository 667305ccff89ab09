import Foundation

/// Progress of a long run on standard error: a bar redrawn in place on a terminal, plain
/// lines otherwise (so logs and CI output stay readable).
final class Progress {
    let total: UInt64
    let label: String
    private let terminal: Bool
    private let started = Date()
    private var lastLine = Date.distantPast
    private var drawn = false

    init(total: UInt64, label: String, terminal: Bool = Console.err.isTerminal) {
        self.total = total
        self.label = label
        self.terminal = terminal
    }

    /// Reports `done` events; redraws at most ten times a second on a terminal, and every
    /// two seconds otherwise.
    func update(_ done: UInt64) {
        let now = Date()
        if terminal {
            guard now.timeIntervalSince(lastLine) >= 0.1 else { return }
            lastLine = now
            Console.err.write("\r" + Self.bar(done: done, total: total, width: 30) + " \(label) \(done)/\(total)")
            drawn = true
        } else {
            guard now.timeIntervalSince(lastLine) >= 2 else { return }
            lastLine = now
            Console.err.line("\(label) \(done) of \(total) events")
        }
    }

    /// Clears the bar.
    func finish() {
        if drawn { Console.err.write("\r\u{1B}[K") }
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(started) }

    /// `[#########.....................]`
    static func bar(done: UInt64, total: UInt64, width: Int) -> String {
        let filled = total == 0 ? width : Int(min(1, Double(done) / Double(total)) * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}
