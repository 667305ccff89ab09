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
    /// For people: `01.03.2024`, `01.03.2024 09:30` (UTC), decimal point. Text is made
    /// harmless for a terminal (`TerminalText.visible`).
    static func human(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): TerminalText.visible(s)
        case .integer(let n): String(n)
        case .decimal(let v, let places): DecimalText.format(v, places: places, separator: ".")
        case .date(let d): d.danish
        case .timestamp(let t): humanTimestamp(t)
        case .json(let j): TerminalText.visible(j)
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

    /// For Danish Excel: decimal comma, `01.03.2024`, `01.03.2024 09:30:00`. Text that
    /// Excel would take for a formula is neutralised (`ExcelText.neutralised`); numbers,
    /// dates and times are typed cells the tool writes itself, and stay numbers.
    static func excel(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): ExcelText.neutralised(s)
        case .decimal(let v, let places): DecimalText.format(v, places: places, separator: ",")
        case .date(let d): d.danish
        case .timestamp(let t): t.date.danish + " " + String(t.iso8601.dropFirst(11).prefix(8))
        default: machine(cell)
        }
    }

    /// A JSON value: numbers as numbers, dates and instants as ISO 8601 strings, empty as
    /// null. Empty text is an empty cell too, so every empty cell is `null` whichever way
    /// the command built it (docs/cli.md, "Output formats").
    static func json(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): s.isEmpty ? "null" : JSONText.string(s)
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

/// Free text made safe to print on a terminal.
enum TerminalText {
    /// `text` with every character that would act on the terminal instead of showing shown
    /// as a visible escape: control characters (C0, DEL, C1: ANSI colour and cursor
    /// sequences start with ESC) and the bidirectional overrides and isolates (U+202A–202E,
    /// U+2066–2069, which reorder the rest of the line) become `\u{1B}`, `\u{202E}`.
    /// Line breaks and tabs become one space each (CRLF one), so a row stays one line and
    /// its columns stay aligned.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            defer { previous = scalar }
            switch scalar {
            case "\n" where previous == "\r":
                continue
            case "\n", "\r", "\t", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}":
                out.append(" ")
            case _ where needsEscape(scalar):
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: true
        default: false
        }
    }
}

/// Text cells made safe for a spreadsheet.
enum ExcelText {
    /// `text`, prefixed with a single quote when Excel (or LibreOffice, Google Sheets) would
    /// otherwise read it as a formula: when it starts with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return (OWASP, "CSV Injection"). A reason such as
    /// `=HYPERLINK("http://evil","click")` then shows as text instead of a live link.
    ///
    /// Only free text goes through here: the numbers the tool writes (`-1,5`, counts, rates)
    /// are typed cells (`Cell.decimal`, `Cell.integer`) and stay numbers. A text cell that
    /// happens to read as a negative number (an id `-5`) is quoted too: in free text, a
    /// leading minus cannot be told apart from the start of `-2+3+cmd|…`.
    static func neutralised(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
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
