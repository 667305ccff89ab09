/// A calendar date without a time of day (placement start, consent valid until).
///
/// Stored as days since 1970-01-01, so dates compare and subtract as integers.
/// Only real dates can be made: `CalendarDate(year: 2023, month: 2, day: 29)` is nil.
/// Exchanged as ISO 8601 (`2024-03-01`); shown as `01.03.2024`, the Danish way.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int32

    public init(daysSinceEpoch: Int32) { self.daysSinceEpoch = daysSinceEpoch }

    /// A date from its parts, or nil if no such day exists (or the year is outside 1900–2199).
    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2199).contains(year), (1...12).contains(month),
              (1...CalendarDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        daysSinceEpoch = Int32(era * 146_097 + doe - 719_468)
    }

    /// Year, month and day.
    public var components: (year: Int, month: Int, day: Int) {
        let z = Int(daysSinceEpoch) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public var year: Int { components.year }
    public var month: Int { components.month }

    /// ISO weekday, Monday = 1 … Sunday = 7.
    public var weekday: Int {
        let w = (Int(daysSinceEpoch) + 3) % 7  // 1970-01-01 was a Thursday
        return (w < 0 ? w + 7 : w) + 1
    }

    /// The ISO 8601 week: (week-based year, week number 1–53).
    public var isoWeek: (year: Int, week: Int) {
        let thursday = CalendarDate(daysSinceEpoch: Int32(clamping: Int(daysSinceEpoch) - weekday + 4))
        let y = thursday.year
        let jan1 = CalendarDate(year: y, month: 1, day: 1) ?? thursday
        return (y, Int(thursday.daysSinceEpoch - jan1.daysSinceEpoch) / 7 + 1)
    }

    /// The Monday of ISO week `week` in week-based year `year`.
    public init?(isoYear year: Int, week: Int) {
        guard (1...53).contains(week), let jan4 = CalendarDate(year: year, month: 1, day: 4) else { return nil }
        let monday = jan4.daysSinceEpoch - Int32(jan4.weekday - 1) + Int32((week - 1) * 7)
        let date = CalendarDate(daysSinceEpoch: monday)
        guard date.isoWeek.year == year else { return nil }
        self = date
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    /// Clamps at the ends of the representable range (millions of years away) rather than trapping.
    public func adding(days: Int) -> CalendarDate {
        CalendarDate(daysSinceEpoch: Int32(clamping: Int(daysSinceEpoch) &+ days))
    }

    /// The same day `months` later, clamped to the month's last day.
    public func adding(months: Int) -> CalendarDate {
        let (y, m, d) = components
        let total = y * 12 + (m - 1) + months
        let ny = total / 12, nm = total % 12 + 1
        return CalendarDate(year: ny, month: nm, day: min(d, CalendarDate.daysIn(month: nm, year: ny))) ?? self
    }

    /// `2024-03-01`.
    public var iso8601: String {
        let (y, m, d) = components
        guard (0...9999).contains(y) else { return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))" }
        return String(unsafeUninitializedCapacity: 10) { out in
            var w = DigitWriter(out: out)
            w.put(y, 4, "-"); w.put(m, 2, "-"); w.put(d, 2, nil)
            return w.at
        }
    }

    /// `01.03.2024`, as Danish users read dates.
    public var danish: String {
        let (y, m, d) = components
        return "\(pad(d, 2)).\(pad(m, 2)).\(pad(y, 4))"
    }

    public var description: String { iso8601 }

    /// Parses `2024-03-01` (ISO 8601) or `01.03.2024` (DD.MM.YYYY); nil for anything else
    /// or for a day that does not exist.
    public init?(parsing text: String) {
        let b = Array(text.utf8)
        guard b.count == 10 else { return nil }
        if b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
           let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2) {
            self.init(year: y, month: m, day: d)
        } else if b[2] == UInt8(ascii: "."), b[5] == UInt8(ascii: "."),
                  let d = digits(b, 0, 2), let m = digits(b, 3, 2), let y = digits(b, 6, 4) {
            self.init(year: y, month: m, day: d)
        } else {
            return nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let d = CalendarDate(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not a real date in the form YYYY-MM-DD")
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso8601)
    }
}
