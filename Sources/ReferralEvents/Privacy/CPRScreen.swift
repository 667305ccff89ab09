extension PersonalDetails {
    /// Whether `text` contains something that reads as a CPR number (`DDMMYYSSSS`,
    /// `DDMMYY-SSSS` or `DDMMYY SSSS` with a real birth date, not part of a longer number).
    ///
    /// Free text and identifiers that the log or the access log keeps (reasons, purposes,
    /// legal bases, names, ids) are screened with this, so that a CPR number typed into
    /// "why" never lands in clear in a file that cannot be erased. Append screens every
    /// event (`EventPayload.firstFieldHoldingCPRNumber`), so it reads the text's bytes in
    /// place and stops at once when the text has fewer than ten digits, as nearly all do.
    public static func containsCPRNumber(_ text: String) -> Bool {
        // In place when the text is contiguous UTF-8 (a native string: nearly always).
        if let found = text.utf8.withContiguousStorageIfAvailable(containsCPRNumber(utf8:)) { return found }
        var copy = text
        return copy.withUTF8(containsCPRNumber(utf8:))
    }

    static func containsCPRNumber(utf8 u: UnsafeBufferPointer<UInt8>) -> Bool {
        @inline(__always) func digit(_ i: Int) -> Int? {
            guard i >= 0, i < u.count else { return nil }
            let d = Int(u[i]) &- 48
            return d >= 0 && d <= 9 ? d : nil
        }
        var digits = 0
        for byte in u where byte &- 48 <= 9 { digits += 1 }
        guard digits >= 10 else { return false }
        var i = 0
        while i + 10 <= u.count {
            defer { i += 1 }
            guard digit(i - 1) == nil, (i..<i + 6).allSatisfy({ digit($0) != nil }) else { continue }
            for gap in 0...1 {
                let rest = i + 6 + gap
                if gap == 1, u[rest - 1] != UInt8(ascii: "-"), u[rest - 1] != UInt8(ascii: " ") { continue }
                guard rest + 4 <= u.count, (rest..<rest + 4).allSatisfy({ digit($0) != nil }), digit(rest + 4) == nil else { continue }
                let d = (i..<i + 6).map { digit($0)! } + (rest..<rest + 4).map { digit($0)! }
                if isCPRNumber(digits: d) { return true }
            }
        }
        return false
    }

    /// Whether ten digits are a CPR number: a real birth date, its century from the seventh
    /// digit as the CPR office defines it; `normaliseCPR` checks with it too.
    static func isCPRNumber(digits d: [Int]) -> Bool {
        let day = d[0] * 10 + d[1], month = d[2] * 10 + d[3], yy = d[4] * 10 + d[5]
        let century: Int
        switch d[6] {
        case 0...3: century = 1900
        case 4, 9: century = yy <= 36 ? 2000 : 1900
        default: century = yy <= 57 ? 2000 : 1800
        }
        return CalendarDate(year: max(century + yy, 1900), month: month, day: day) != nil
    }
}
