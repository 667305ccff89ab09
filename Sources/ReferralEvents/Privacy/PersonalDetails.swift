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
        guard isCPRNumber(digits: Array(digitsOnly.utf8).map { Int($0 - 48) }) else { return nil }
        return digitsOnly
    }
}
