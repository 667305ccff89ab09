import Foundation
import ReferralEvents
import Testing
@testable import ReferralCLI

/// The output formats, checked against text worked out by hand.
@Suite struct FormattingTests {
    let table = Table([Column("name", "Name"), Column("hours", "Hours"), Column("day", "Day")],
                      rows: [[.text("Ærø, syd"), .decimal(7.5, places: 2), .date(CalendarDate(year: 2024, month: 3, day: 1)!)]])

    @Test func alignedTableRightAlignsNumbersAndShowsDanishDates() {
        // Name is 8 wide ("Ærø, syd"), Hours 5 ("Hours"), two spaces between columns.
        #expect(table.rendered(as: .table) == "Name      Hours  Day\nÆrø, syd   7.50  01.03.2024\n")
    }

    @Test func rfc4180CSV() {
        #expect(table.rendered(as: .csv) == "name,hours,day\r\n\"Ærø, syd\",7.50,2024-03-01\r\n")
    }

    @Test func excelCSVHasBOMSemicolonsCRLFAndDecimalComma() {
        let text = table.rendered(as: .excelCSV)
        #expect(text == "\u{FEFF}Name;Hours;Day\r\nÆrø, syd;7,50;01.03.2024\r\n")
        #expect(Array(text.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF])
    }

    @Test func jsonIsAnArrayOfObjectsInColumnOrder() {
        #expect(table.rendered(as: .json) == "[\n{\"name\":\"Ærø, syd\",\"hours\":7.50,\"day\":\"2024-03-01\"}\n]\n")
        #expect(Table([Column("a")]).rendered(as: .json) == "[]\n")
        let parsed = try? JSONSerialization.jsonObject(with: Data(table.rendered(as: .json).utf8)) as? [[String: Any]]
        #expect(parsed?.first?["hours"] as? Double == 7.5)
    }

    @Test func emptyCellsAndTimestamps() {
        let t = Table([Column("at", "At"), Column("note", "Note")],
                      rows: [[.timestamp(Timestamp(parsing: "2024-03-01T09:30:15.250Z")!), .empty]])
        #expect(t.rendered(as: .table) == "At                Note\n01.03.2024 09:30\n")
        #expect(t.rendered(as: .csv) == "at,note\r\n2024-03-01T09:30:15.250Z,\r\n")
        #expect(t.rendered(as: .excelCSV) == "\u{FEFF}At;Note\r\n01.03.2024 09:30:15;\r\n")
        #expect(t.rendered(as: .json) == "[\n{\"at\":\"2024-03-01T09:30:15.250Z\",\"note\":null}\n]\n")
    }

    @Test(arguments: [
        ("plain", ",", "plain"),
        ("a,b", ",", "\"a,b\""),
        ("a,b", ";", "a,b"),
        ("a;b", ";", "\"a;b\""),
        ("say \"hi\"", ",", "\"say \"\"hi\"\"\""),
        ("two\nlines", ",", "\"two\nlines\""),
        ("cr\rhere", ";", "\"cr\rhere\""),
        (" padded", ",", "\" padded\""),
        ("", ",", ""),
    ])
    func csvFieldQuoting(_ value: String, _ separator: String, _ expected: String) {
        #expect(CSV.field(value, separator: Character(separator)) == expected)
    }

    @Test func jsonStringEscaping() {
        #expect(JSONText.string("a\"b\\c\n\t\u{1}/ø") == "\"a\\\"b\\\\c\\n\\t\\u0001/ø\"")
        #expect(JSONText.object([("k", "1"), ("a", "\"x\"")]) == "{\"k\":1,\"a\":\"x\"}")
    }

    @Test(arguments: [
        (1234.5, 2, ",", "1234,50"),
        (-3.14159, 3, ".", "-3.142"),
        (-0.004, 2, ".", "0.00"),
        (2.5, 0, ".", "3"),
        (0.05, 1, ",", "0,1"),
        (100, 1, ".", "100.0"),
    ])
    func decimals(_ value: Double, _ places: Int, _ separator: String, _ expected: String) {
        #expect(DecimalText.format(value, places: places, separator: separator) == expected)
    }

    @Test func notANumberIsEmptyOrNull() {
        let t = Table([Column("rate")], rows: [[.decimal(.nan, places: 1)]])
        #expect(t.rendered(as: .csv) == "rate\r\n\r\n")
        #expect(t.rendered(as: .json) == "[\n{\"rate\":null}\n]\n")
    }

    @Test func aStreamedTableIsSizedOnItsFirstRows() {
        let sink = StringSink()
        var w = TableWriter(sink: sink, format: .table, columns: [Column("k"), Column("v")])
        w.widthSample = 2
        for (k, v) in [("a", 1), ("bb", 2), ("cccc", 3)] { w.row([.text(k), .int(v)]) }
        w.finish()
        // k is sized 2 wide on the first two rows; the third row's longer key pushes it out.
        #expect(sink.text == "k   v\na   1\nbb  2\ncccc  3\n")
    }

    @Test func anEmptyTableShowsItsHeader() {
        #expect(Table([Column("a", "A"), Column("b", "B")]).rendered(as: .table) == "A  B\n")
        #expect(Table([Column("a", "A"), Column("b", "B")]).rendered(as: .csv) == "a,b\r\n")
    }

    @Test func progressBar() {
        #expect(Progress.bar(done: 5, total: 10, width: 10) == "[#####.....]")
        #expect(Progress.bar(done: 0, total: 0, width: 4) == "[####]")
        #expect(Progress.bar(done: 20, total: 10, width: 4) == "[####]")
        #expect(Progress.grouped(1_234_567) == "1,234,567")
        #expect(Progress.grouped(999) == "999")
        #expect(Progress.rate(12_345.4) == "12,345 events/s")
    }

    @Test func payloadSummaryHidesSealedData() {
        let opened = EventPayload.caseOpened(CaseOpened(resident: Pseudonym(high: 0, low: 1), areaId: "a1", organisationId: "o1", liaisonId: "l1",
                                                        targetGroup: "jobparat", ageBand: .from18to24, gender: .female,
                                                        personalData: SealedData(combined: Array(repeating: 7, count: 40))))
        #expect(PayloadText.summary(opened) == "resident=00000000000000000000000000000001 areaId=a1 organisationId=o1 liaisonId=l1 targetGroup=jobparat ageBand=18-24 gender=female personalData=sealed")
        let consent = EventPayload.consentGiven(ConsentGiven(consentId: "K1", parties: ["a", "b"], purposes: [.referral], form: .oral,
                                                             validUntil: CalendarDate(year: 2024, month: 12, day: 31)))
        #expect(PayloadText.summary(consent) == "consentId=K1 parties=a,b purposes=referral form=oral validUntil=31.12.2024")
        #expect(PayloadText.summary(.caseClosed(CaseClosed(reason: "Got a job"))) == "reason=\"Got a job\"")
        #expect(PayloadText.json(.caseClosed(CaseClosed(reason: "a/b"))) == "{\"reason\":\"a/b\"}")
        // The same text as export's `data`: a retracted event's id in lowercase, as `id` is
        // everywhere else (JSONEncoder wrote Foundation's uppercase).
        let id = UUID(uuidString: "0177CF67-7580-7D1C-95C2-D17690EBD180")!
        #expect(PayloadText.json(.eventRetracted(EventRetracted(retractedEventId: id, reason: "Wrong hours")))
                    == #"{"reason":"Wrong hours","retractedEventId":"0177cf67-7580-7d1c-95c2-d17690ebd180"}"#)
    }

    /// Free text that a spreadsheet would evaluate as a formula gets a leading `'` in
    /// --excel-csv (OWASP); numbers the tool writes stay numbers; --csv stays byte-exact.
    @Test(arguments: [
        ("=HYPERLINK(\"http://evil\",\"click\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\""),
        ("+1+2", "'+1+2"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "\"'\rx\""),
        ("plain = fine", "plain = fine"),
        ("<5", "<5"),
        ("", ""),
    ])
    func excelCSVNeutralisesFormulas(_ value: String, _ expected: String) {
        let t = Table([Column("reason"), Column("hours")], rows: [[.text(value), .decimal(-1.5, places: 1)]])
        #expect(t.rendered(as: .excelCSV) == "\u{FEFF}reason;hours\r\n\(expected);-1,5\r\n")
        #expect(t.rendered(as: .csv) == "reason,hours\r\n" + CSV.field(value, separator: ",") + ",-1.5\r\n")
    }

    @Test func excelCSVKeepsTypedNegativeNumbers() {
        let t = Table([Column("n"), Column("d")], rows: [[.int(-5), .decimal(-1.5, places: 1)]])
        #expect(t.rendered(as: .excelCSV) == "\u{FEFF}n;d\r\n-5;-1,5\r\n")
    }

    /// Control and bidi-override characters in free text are shown, not obeyed, in tables;
    /// machine formats keep the text as it is.
    @Test func tablesShowControlCharactersVisibly() {
        let reason = "\u{1B}[31mRED\u{1B}[0m\tx\u{202E}cba\r\nz\u{7F}\u{9B}"
        let t = Table([Column("r", "R"), Column("n", "N")], rows: [[.text(reason), .int(1)]])
        let shown = "\\u{1B}[31mRED\\u{1B}[0m x\\u{202E}cba z\\u{7F}\\u{9B}"
        #expect(t.rendered(as: .table) == "R" + String(repeating: " ", count: shown.count - 1) + "  N\n" + shown + "  1\n")
        #expect(!t.rendered(as: .table).unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(t.rendered(as: .csv).contains(reason))
        #expect(t.rendered(as: .json).contains("\\u001b[31mRED"))
        #expect(TerminalText.visible("Ærø \u{2066}x\u{2069}") == "Ærø \\u{2066}x\\u{2069}")
        #expect(TerminalText.visible("plain") == "plain")
    }

    /// Docs: in --json every empty cell is null, also text the command left empty.
    @Test func emptyTextIsNullInJSON() {
        let t = Table([Column("a"), Column("b"), Column("c")], rows: [[.text(""), .empty, .text("x")]])
        #expect(t.rendered(as: .json) == "[\n{\"a\":null,\"b\":null,\"c\":\"x\"}\n]\n")
        #expect(t.rendered(as: .csv) == "a,b,c\r\n,,x\r\n")
    }
}

/// The note `verify --rules` ends with when a store's rules boundaries are past position 1.
@Suite struct VerifyBoundariesNoteTests {
    @Test func noNoteForAStoreMadeByThisBuild() {
        #expect(ReferralCommand.Verify.boundariesNote(datedRulesFrom: 1, closeLapseFrom: 1) == nil)
    }

    @Test func aLayout5StoreMovedToLayout6NamesOnlyTheCloseLapseRule() {
        let note = ReferralCommand.Verify.boundariesNote(datedRulesFrom: 1, closeLapseFrom: 126)
        #expect(note?.hasPrefix("note: the events before position 126 are replayed without the close-lapse rule of layout 6 (") == true, "\(note ?? "nil")")
        #expect(note?.contains("dated rules") == false)
    }

    @Test func twoBoundariesAtTwoPositionsAreNamedEach() {
        let note = ReferralCommand.Verify.boundariesNote(datedRulesFrom: 40, closeLapseFrom: 126)
        #expect(note?.hasPrefix("note: the events before position 40 are replayed without the dated rules of layout 5, and before position 126 without the close-lapse rule of layout 6 (") == true, "\(note ?? "nil")")
    }
}
