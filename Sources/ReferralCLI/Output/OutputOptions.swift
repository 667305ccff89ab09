import ArgumentParser

/// `--json`, `--csv`, `--excel-csv` (or the default aligned table), shared by every read
/// command.
struct OutputOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Output format (default: an aligned table, dates as DD.MM.YYYY)."))
    var format: OutputFormat = .table

    /// Starts a streamed table on standard output.
    func writer(_ columns: [Column]) -> TableWriter {
        TableWriter(sink: Console.out, format: format, columns: columns)
    }

    /// Prints a table held in memory.
    func print(_ table: Table) {
        table.write(to: Console.out, as: format)
    }
}

extension OutputFormat: EnumerableFlag {
    static func name(for value: OutputFormat) -> NameSpecification {
        switch value {
        case .table: .customLong("table")
        case .json: .customLong("json")
        case .csv: .customLong("csv")
        case .excelCSV: .customLong("excel-csv")
        }
    }

    static func help(for value: OutputFormat) -> ArgumentHelp? {
        switch value {
        case .table: "Aligned columns for people (the default)."
        case .json: "A JSON array of objects."
        case .csv: "RFC 4180 CSV: comma, CRLF, ISO 8601 dates; text exactly as recorded."
        case .excelCSV: "CSV for Danish Excel: semicolon, UTF-8 BOM, CRLF, decimal comma, DD.MM.YYYY; ' before text Excel would take for a formula."
        }
    }
}
