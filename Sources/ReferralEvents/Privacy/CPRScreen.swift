extension PersonalDetails {
    /// Whether `text` contains something that reads as a CPR number (`DDMMYYSSSS`,
    /// `DDMMYY-SSSS` or `DDMMYY SSSS` with a real birth date, not part of a longer number).
    ///
    /// Free text that the log or the access log keeps (reasons, purposes, legal bases) is
    /// screened with this, so that a CPR number typed into "why" never lands in clear in a
    /// file that cannot be erased.
    public static func containsCPRNumber(_ text: String) -> Bool {
        let u = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i >= 0 && i < u.count && u[i] >= 48 && u[i] <= 57 }
        var i = 0
        while i + 10 <= u.count {
            defer { i += 1 }
            guard !isDigit(i - 1), (i..<i + 6).allSatisfy(isDigit) else { continue }
            for gap in [0, 1] {
                let rest = i + 6 + gap
                if gap == 1, !(rest - 1 < u.count && (u[rest - 1] == UInt8(ascii: "-") || u[rest - 1] == UInt8(ascii: " "))) { continue }
                guard rest + 4 <= u.count, (rest..<rest + 4).allSatisfy(isDigit), !isDigit(rest + 4) else { continue }
                let digits = String(decoding: u[i..<i + 6] + u[rest..<rest + 4], as: UTF8.self)
                if normaliseCPR(digits) != nil { return true }
            }
        }
        return false
    }
}
