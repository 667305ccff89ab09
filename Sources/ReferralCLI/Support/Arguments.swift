import ArgumentParser
import Foundation
import ReferralEvents

// Parsing of argument values shared by the commands. Each throws a `ValidationError`
// whose text ArgumentParser appends to "The value 'x' is invalid for '--flag'", so a bad
// date exits 64 with the usage text.

/// Why an argument value was refused.
struct ArgumentValueError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Parse {
    /// `2024-03-01` or `01.03.2024`, a day that exists.
    static func date(_ text: String) throws -> CalendarDate {
        guard let d = CalendarDate(parsing: text.trimmingCharacters(in: .whitespaces)) else {
            if let year = yearOutOfRange(text) { throw ArgumentValueError(Self.yearMessage(year)) }
            throw ArgumentValueError(looksLikeDate(text)
                ? "no such day; give a real date as YYYY-MM-DD or DD.MM.YYYY"
                : "not a date; use YYYY-MM-DD (ISO 8601) or DD.MM.YYYY")
        }
        return d
    }

    /// A date (midnight UTC) or an ISO 8601 date-time with a zone, e.g. `2024-03-01T09:30:00Z`.
    static func instant(_ text: String) throws -> Timestamp {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let t = Timestamp(parsing: trimmed) else {
            if let year = yearOutOfRange(text) { throw ArgumentValueError(Self.yearMessage(year)) }
            // A local date-time (seconds or not) is no one instant: say what to add.
            if let local = [trimmed, trimmed + ":00"].first(where: { Timestamp(parsing: $0 + "Z") != nil }) {
                throw ArgumentValueError("a date-time needs its zone, or it is not one instant: add Z for UTC (\(local)Z) or Danish time's offset (\(local)+01:00 in winter, +02:00 in summer)")
            }
            throw ArgumentValueError(looksLikeDate(text)
                ? "no such day or time; give a real date (YYYY-MM-DD or DD.MM.YYYY) or a date-time such as 2024-03-01T09:30:00Z"
                : "not a date or time; use YYYY-MM-DD, DD.MM.YYYY or an ISO 8601 date-time such as 2024-03-01T09:30:00Z")
        }
        return t
    }

    /// Like `instant`, but a bare date means the last millisecond of that day, so
    /// `--until 31.03.2024` includes the 31st.
    static func endOfPeriod(_ text: String) throws -> Timestamp {
        let t = try instant(text)
        guard CalendarDate(parsing: text.trimmingCharacters(in: .whitespaces)) != nil else { return t }
        return Timestamp(millisecondsSinceEpoch: t.millisecondsSinceEpoch + 86_400_000 - 1)
    }

    /// `7.5` or `7,5` (the Danish way): decimal digits with at most two after the point or
    /// comma, since hours are kept in hundredths; more than 0. Anything else (`0x10`, `1e2`,
    /// `1.005`, `inf`) is refused rather than read as something the user did not write.
    static func hours(_ text: String) throws -> Hours {
        let t = text.trimmingCharacters(in: .whitespaces)
        let form = "write hours as a decimal number with at most two decimals, e.g. 7.5 or 7,5"
        if t.hasPrefix("-"), Double(t.dropFirst().replacingOccurrences(of: ",", with: ".")) != nil {
            throw ArgumentValueError("hours must be more than 0; hours are never subtracted: retract the wrong entry (`referral retract EVENT-ID`) and record the right one")
        }
        let parts = t.split(separator: t.contains(",") ? "," : ".", omittingEmptySubsequences: false)
        let digits = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        guard (1...2).contains(parts.count), digits(parts[0]), parts.count == 1 || digits(parts[1]) else {
            throw ArgumentValueError("not a number of hours; \(form)")
        }
        guard parts.count == 1 || parts[1].count <= 2 else {
            throw ArgumentValueError("more than two decimals; hours are recorded to the hundredth: \(form)")
        }
        guard let v = Double(parts.joined(separator: ".")), let h = Hours(v) else {
            throw ArgumentValueError("too many hours; \(form)")
        }
        guard h.hundredths > 0 else { throw ArgumentValueError("hours must be more than 0") }
        return h
    }

    /// A count such as `--inactive-days 30`: decimal digits only. Used with
    /// `parsing: .unconditional`, so `--suppress -1` reaches here (ArgumentParser would
    /// otherwise take `-1` for a flag and report a missing value) and is refused for what
    /// it is.
    static func wholeNumber<T: FixedWidthInteger>(_ text: String) throws -> T {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        if t.hasPrefix("-"), digits(t.dropFirst()) {
            throw ArgumentValueError("must be a non-negative whole number (0, 1, 2, …), not negative")
        }
        guard digits(t[...]) else { throw ArgumentValueError("not a whole number; give a non-negative whole number such as 30") }
        guard let n = T(t) else { throw ArgumentValueError("too large for a count") }
        return n
    }

    /// An ISO week `2024-W10` (or `2024W10`): its Monday.
    static func isoWeek(_ text: String) throws -> CalendarDate {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let parts = t.split(separator: "W", omittingEmptySubsequences: false)
        guard parts.count == 2, var yearText = parts.first, let week = Int(parts[1]), parts[1].count == 2 || parts[1].count == 1 else {
            throw ArgumentValueError("not an ISO week; write it as YYYY-Www, e.g. 2024-W10")
        }
        if yearText.hasSuffix("-") { yearText = yearText.dropLast() }
        guard yearText.count == 4, let year = Int(yearText) else {
            throw ArgumentValueError("not an ISO week; write it as YYYY-Www, e.g. 2024-W10")
        }
        guard let monday = CalendarDate(isoYear: year, week: week) else {
            throw ArgumentValueError("\(year) has no ISO week \(week)")
        }
        return monday
    }

    /// A case, agreement, consent, referral or placement id: 1–64 letters, digits, `-`,
    /// `_` or `.`.
    static func identifier(_ text: String, what: String) throws -> String {
        guard !text.isEmpty, text.utf8.count <= 64,
              text.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
        else {
            throw ArgumentValueError("not a \(what) id; use 1 to 64 letters, digits, '-', '_' or '.'")
        }
        return text
    }

    static func caseID(_ text: String) throws -> String { try identifier(text, what: "case") }
    static func agreementID(_ text: String) throws -> String { try identifier(text, what: "agreement") }

    /// An event id (a UUID).
    static func eventID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
            throw ArgumentValueError("not an event id; event ids are UUIDs such as 5C0B7E2A-3F4D-4E21-9A57-1B2C3D4E5F60 (see `referral log`)")
        }
        return id
    }

    /// A resident pseudonym: 32 hex digits.
    static func pseudonym(_ text: String) throws -> Pseudonym {
        guard let p = Pseudonym(hex: text.trimmingCharacters(in: .whitespaces)) else {
            throw ArgumentValueError("not a pseudonym; pseudonyms are 32 hex digits (or give --cpr and let the store make it)")
        }
        return p
    }

    /// The year of a date written in either form, if it lies outside what the log keeps
    /// (1900–2199): "no such day" would be wrong for 31.12.9999.
    private static func yearOutOfRange(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard looksLikeDate(t) else { return nil }
        let b = Array(t.utf8)
        let digits = b[4] == UInt8(ascii: "-") ? b[0..<4] : b[6..<min(b.count, 10)]
        guard digits.count == 4, let year = Int(String(decoding: digits, as: UTF8.self)), !(1900...2199).contains(year) else { return nil }
        return year
    }

    private static func yearMessage(_ year: Int) -> String {
        "the year \(year) is outside 1900–2199, the years the log records; check the year"
    }

    private static func looksLikeDate(_ text: String) -> Bool {
        let b = Array(text.utf8)
        return b.count >= 10 && ((b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-")) || (b[2] == UInt8(ascii: ".") && b[5] == UInt8(ascii: ".")))
    }
}

// The closed vocabularies of the event catalogue, as argument values with completion.
extension OrganisationKind: ExpressibleByArgument {}
extension Sector: ExpressibleByArgument {}
extension Gender: ExpressibleByArgument {}
extension AgeBand: ExpressibleByArgument {}
extension ConsentForm: ExpressibleByArgument {}
extension ConsentPurpose: ExpressibleByArgument {}
extension ReferralKind: ExpressibleByArgument {}
extension ContactKind: ExpressibleByArgument {}
extension PlacementKind: ExpressibleByArgument {}
extension PlacementOutcome: ExpressibleByArgument {}
extension OutcomeStatus: ExpressibleByArgument {}
