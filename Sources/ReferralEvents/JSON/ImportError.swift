/// Why a CloudEvents JSON text could not be imported: which line, which field, which rule.
///
/// `message` reads like `line 3: data.kind: 'foo' is not one of jobcenter-contact,
/// work-placement, …`. `field` is a path into the event (`time`, `data.hoursPerWeek`,
/// `data.parties[1]`), empty when the whole line is at fault (not JSON, not UTF-8).
/// `line` is set by the JSON Lines reader and nil for a single event.
public struct ImportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line in a JSON Lines input, or nil for a single event.
    public var line: Int?
    /// The path of the offending field, e.g. `data.startDate`; empty for the whole line.
    public var field: String
    /// What is wrong and, where it helps, what to do instead.
    public var rule: String

    public init(line: Int? = nil, field: String, rule: String) {
        self.line = line
        self.field = field
        self.rule = rule
    }

    /// `line 3: data.kind: 'foo' is not one of …`.
    public var message: String {
        LogError.clipped((line.map { "line \($0): " } ?? "") + (field.isEmpty ? rule : "\(field): \(rule)"))
    }

    public var description: String { message }

    /// The same failure as the log reports it: code `.invalidInput`, this message.
    public var logError: LogError {
        LogError(.invalidInput, message)
    }
}
