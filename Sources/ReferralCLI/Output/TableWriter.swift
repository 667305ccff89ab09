import ReferralEvents

/// Writes a table row by row in one of the output formats.
///
/// CSV and JSON stream straight through. The aligned table needs column widths, so it
/// holds the first `widthSample` rows, sizes the columns on them, and streams the rest at
/// those widths (a longer value later just pushes its row out): `referral log` of a
/// million events then needs no more memory than a thousand rows.
struct TableWriter {
    let sink: any TextSink
    let format: OutputFormat
    let columns: [Column]
    var widthSample = 1000

    private var held: [[String]] = []
    private var numeric: [Bool]
    private var widths: [Int]?
    private var rowCount = 0

    init(sink: any TextSink, format: OutputFormat, columns: [Column]) {
        self.sink = sink
        self.format = format
        self.columns = columns
        numeric = Array(repeating: false, count: columns.count)
        switch format {
        case .csv:
            sink.write(CSV.line(columns.map(\.key), separator: ","))
        case .excelCSV:
            sink.write("\u{FEFF}" + CSV.line(columns.map(\.title), separator: ";"))
        case .json:
            sink.write("[")
        case .table:
            break
        }
    }

    mutating func row(_ cells: [Cell]) {
        precondition(cells.count == columns.count, "a row has \(cells.count) cells for \(columns.count) columns")
        defer { rowCount += 1 }
        switch format {
        case .csv:
            sink.write(CSV.line(cells.map { CellText.machine($0) }, separator: ","))
        case .excelCSV:
            sink.write(CSV.line(cells.map { CellText.excel($0) }, separator: ";"))
        case .json:
            sink.write((rowCount == 0 ? "\n" : ",\n") + JSONText.object(zip(columns, cells).map { ($0.key, CellText.json($1)) }))
        case .table:
            for (i, c) in cells.enumerated() where c.isNumeric { numeric[i] = true }
            let texts = cells.map { CellText.human($0) }
            if let widths {
                sink.write(Self.aligned(texts, widths: widths, numeric: numeric))
            } else {
                held.append(texts)
                if held.count >= widthSample { flushHeld() }
            }
        }
    }

    /// Ends the table (closes the JSON array, prints held rows).
    mutating func finish() {
        switch format {
        case .json:
            sink.write(rowCount == 0 ? "]\n" : "\n]\n")
        case .table:
            if widths == nil { flushHeld() }
        case .csv, .excelCSV:
            break
        }
    }

    private mutating func flushHeld() {
        var w = columns.map { $0.title.count }
        for row in held {
            for (i, t) in row.enumerated() { w[i] = max(w[i], t.count) }
        }
        widths = w
        sink.write(Self.aligned(columns.map(\.title), widths: w, numeric: numeric))
        for row in held { sink.write(Self.aligned(row, widths: w, numeric: numeric)) }
        held = []
    }

    /// One line: columns two spaces apart, numbers right-aligned, no trailing spaces.
    static func aligned(_ texts: [String], widths: [Int], numeric: [Bool]) -> String {
        var line = ""
        for (i, t) in texts.enumerated() {
            let padding = String(repeating: " ", count: max(0, widths[i] - t.count))
            if i > 0 { line += "  " }
            if numeric[i] {
                line += padding + t
            } else {
                line += t
                if i < texts.count - 1 { line += padding }
            }
        }
        while line.last == " " { line.removeLast() }
        return line + "\n"
    }
}

/// How each cell reads in each format.
enum CellText {
    /// For people: `01.03.2024`, `01.03.2024 09:30` (UTC), decimal point.
    static func human(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): s.replacingOccurrences(of: "\n", with: " ")
        case .integer(let n): String(n)
        case .decimal(let v, let places): DecimalText.format(v, places: places, separator: ".")
        case .date(let d): d.danish
        case .timestamp(let t): humanTimestamp(t)
        case .json(let j): j
        case .empty: ""
        }
    }

    /// For RFC 4180 CSV and machines: ISO 8601, decimal point.
    static func machine(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): s
        case .integer(let n): String(n)
        case .decimal(let v, let places): DecimalText.format(v, places: places, separator: ".")
        case .date(let d): d.iso8601
        case .timestamp(let t): t.iso8601
        case .json(let j): j
        case .empty: ""
        }
    }

    /// For Danish Excel: decimal comma, `01.03.2024`, `01.03.2024 09:30:00`.
    static func excel(_ cell: Cell) -> String {
        switch cell {
        case .decimal(let v, let places): DecimalText.format(v, places: places, separator: ",")
        case .date(let d): d.danish
        case .timestamp(let t): t.date.danish + " " + String(t.iso8601.dropFirst(11).prefix(8))
        default: machine(cell)
        }
    }

    /// A JSON value: numbers as numbers, dates and instants as ISO 8601 strings, empty as null.
    static func json(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): JSONText.string(s)
        case .integer(let n): String(n)
        case .decimal(let v, let places): v.isFinite ? DecimalText.format(v, places: places, separator: ".") : "null"
        case .date(let d): JSONText.string(d.iso8601)
        case .timestamp(let t): JSONText.string(t.iso8601)
        case .json(let j): j
        case .empty: "null"
        }
    }

    /// `01.03.2024 09:30`, in UTC like everything the log stores.
    static func humanTimestamp(_ t: Timestamp) -> String {
        t.date.danish + " " + String(t.iso8601.dropFirst(11).prefix(5))
    }
}

/// Fixed-point formatting without locale surprises.
enum DecimalText {
    /// `format(1234.5, places: 2, separator: ",")` is `1234,50`. Not-a-number shows as empty.
    static func format(_ value: Double, places: Int, separator: String) -> String {
        guard value.isFinite else { return "" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let n = Int64(scaled)
        let negative = value < 0 && n != 0
        let unit = Int64(scale)
        let whole = n / unit, fraction = n % unit
        var text = (negative ? "-" : "") + String(whole)
        if places > 0 {
            let f = String(fraction)
            text += separator + String(repeating: "0", count: places - f.count) + f
        }
        return text
    }
}
