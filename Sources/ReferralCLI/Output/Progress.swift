import Foundation

/// Progress of a long run on standard error: a bar redrawn in place on a terminal, plain
/// lines otherwise (so logs and CI output stay readable).
final class Progress {
    let label: String
    /// What is counted, for the plain lines: `events`, `MB`.
    let unit: String
    private let terminal: Bool
    private let started = Date()
    private var lastLine = Date.distantPast
    private var drawn = false

    init(label: String, unit: String = "events", terminal: Bool = Console.err.isTerminal) {
        self.label = label
        self.unit = unit
        self.terminal = terminal
    }

    /// Reports `done` of `total` (events, or the `unit` given), with an optional note (a rate, a phase); redraws at
    /// most ten times a second on a terminal, and every two seconds otherwise.
    func update(_ done: UInt64, of total: UInt64, note: String = "") {
        let now = Date()
        let suffix = note.isEmpty ? "" : "  " + note
        if terminal {
            guard now.timeIntervalSince(lastLine) >= 0.1 else { return }
            lastLine = now
            let unitText = unit == "events" ? "" : " " + unit
            Console.err.write("\r\u{1B}[K" + Self.bar(done: done, total: total, width: 30) + " \(label) \(done)/\(total)\(unitText)" + suffix)
            drawn = true
        } else {
            guard now.timeIntervalSince(lastLine) >= 2 else { return }
            lastLine = now
            Console.err.line("\(label) \(done) of \(total) \(unit)" + suffix)
        }
    }

    /// Clears the bar.
    func finish() {
        if drawn { Console.err.write("\r\u{1B}[K") }
        drawn = false
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(started) }

    /// `[#########.....................]`
    static func bar(done: UInt64, total: UInt64, width: Int) -> String {
        let filled = total == 0 ? width : Int(min(1, Double(done) / Double(total)) * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    /// `12,345 events/s`, with thousands separated for reading.
    static func rate(_ eventsPerSecond: Double) -> String {
        guard eventsPerSecond.isFinite, eventsPerSecond > 0 else { return "- events/s" }
        return grouped(Int64(eventsPerSecond.rounded())) + " events/s"
    }

    /// `1,234,567`.
    static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
