import ReferralEvents

/// One value in a table, typed so each output format can show it its own way: dates as
/// `01.03.2024` for people and `2024-03-01` for machines, decimals with a comma for Danish
/// Excel, numbers right-aligned.
enum Cell: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    /// A decimal shown with exactly `places` digits after the separator.
    case decimal(Double, places: Int)
    case date(CalendarDate)
    case timestamp(Timestamp)
    /// A JSON value kept as JSON text: nested in `--json`, shown as text elsewhere.
    case json(String)
    case empty

    static func int(_ value: some BinaryInteger) -> Cell { .integer(Int64(value)) }
    static func optional(_ value: String?) -> Cell { value.map(Cell.text) ?? .empty }
    static func optional(_ value: CalendarDate?) -> Cell { value.map(Cell.date) ?? .empty }

    var isNumeric: Bool {
        switch self {
        case .integer, .decimal: true
        default: false
        }
    }
}

/// A column: the key machines read (JSON keys, CSV header) and the title people read.
struct Column: Sendable, Hashable {
    var key: String
    var title: String

    init(_ key: String, _ title: String? = nil) {
        self.key = key
        self.title = title ?? key
    }
}

/// A whole table in memory, for reports small enough to hold (statistics, caseloads).
/// Large ones (the log) are streamed through a `TableWriter` row by row instead.
struct Table: Sendable, Hashable {
    var columns: [Column]
    var rows: [[Cell]]

    init(_ columns: [Column], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// Writes the table to `sink` in `format`.
    func write(to sink: some TextSink, as format: OutputFormat) {
        var writer = TableWriter(sink: sink, format: format, columns: columns)
        for row in rows { writer.row(row) }
        writer.finish()
    }

    /// The table rendered as text, for tests and files.
    func rendered(as format: OutputFormat) -> String {
        let sink = StringSink()
        write(to: sink, as: format)
        return sink.text
    }
}

/// The output formats every read command offers.
enum OutputFormat: String, Sendable, Hashable, CaseIterable {
    /// Aligned columns for people; dates as DD.MM.YYYY.
    case table
    /// A JSON array of objects, one per row.
    case json
    /// RFC 4180: comma, CRLF, double quotes; ISO 8601 dates; decimal point.
    case csv
    /// For Danish Excel: semicolon, UTF-8 with BOM, CRLF, decimal comma, DD.MM.YYYY dates.
    case excelCSV = "excel-csv"
}
