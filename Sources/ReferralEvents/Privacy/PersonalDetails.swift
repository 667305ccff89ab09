import Foundation

/// A resident's identifying details. Never stored in clear: they travel in events only
/// as `SealedData`, sealed with that resident's own key.
public struct PersonalDetails: Sendable, Hashable, Codable {
    /// The CPR number, normalised to 10 digits.
    public var cpr: String
    public var name: String
    public var phone: String?
    public var email: String?
    public var address: String?

    public init(cpr: String, name: String, phone: String? = nil, email: String? = nil, address: String? = nil) {
        self.cpr = cpr
        self.name = name
        self.phone = phone
        self.email = email
        self.address = address
    }

    /// `DDMMYY-SSSS` or `DDMMYYSSSS` → 10 digits, or nil if it is not a CPR number with a real
    /// birth date. (The modulus-11 check is not applied: CPR numbers issued since 2007 may fail it.)
    public static func normaliseCPR(_ text: String) -> String? {
        let digitsOnly = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "")
        guard digitsOnly.count == 10, digitsOnly.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let d = Array(digitsOnly.utf8).map { Int($0 - 48) }
        let day = d[0] * 10 + d[1], month = d[2] * 10 + d[3], yy = d[4] * 10 + d[5]
        // Century from the 7th digit, as the CPR office defines it.
        let century: Int
        switch d[6] {
        case 0...3: century = 1900
        case 4, 9: century = yy <= 36 ? 2000 : 1900
        default: century = yy <= 57 ? 2000 : 1800
        }
        // 1800s births are out of range for CalendarDate; treat their day/month only.
        let year = max(century + yy, 1900)
        guard CalendarDate(year: year, month: month, day: day) != nil else { return nil }
        return digitsOnly
    }
}
