import ReferralEvents

// Synthetic people. Staff names (which the registry holds in clear) and residents' first
// names come from disjoint pools, so a resident's full name never occurs inside a staff
// name and a privacy scan for residents' names finds only real leaks.

/// Staff names, each used once: first name × last name, then with a middle initial.
struct StaffNames {
    static let first = ["Anne", "Bo", "Charlotte", "Dorte", "Erik", "Hanne", "Jens", "Karin", "Lars", "Lene", "Morten", "Pia",
                        "Rasmus", "Susanne", "Torben", "Ulla", "Vibeke", "Jesper", "Helle", "Tina", "Kim", "Henrik", "Lone",
                        "Søren", "Birgitte", "Niels", "Gitte", "Jane", "Tom", "Poul"]
    static let last = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
                       "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen", "Johansen", "Møller",
                       "Mortensen", "Lund", "Holm", "Bach", "Dahl", "Friis", "Kjær"]
    private var n = 0

    mutating func next() -> String {
        defer { n += 1 }
        let f = StaffNames.first[n % StaffNames.first.count]
        let l = StaffNames.last[(n / StaffNames.first.count) % StaffNames.last.count]
        let round = n / (StaffNames.first.count * StaffNames.last.count)
        if round == 0 { return "\(f) \(l)" }
        let initial = Character(UnicodeScalar(UInt8(64 + (round - 1) % 26 + 1)))
        return "\(f) \(initial). \(l)"
    }
}

/// A synthetic resident of the demo: the CPR number and name that were pseudonymised
/// and sealed, so that a privacy test can check none of them reached the store in clear.
public struct DemoResident: Sendable, Hashable {
    /// 10 digits, `DDMMYYSSSS`, a real birth date with the century digit and the gender parity
    /// the CPR office uses. Synthetic: any match with a real person is chance.
    public var cpr: String
    public var name: String
    /// The case the resident was opened in.
    public var caseID: String
}

/// Resident names: Danish and the many nationalities of the areas (Vejleåparken alone has 115).
enum ResidentNames {
    static let female = ["Emma", "Ida", "Clara", "Freja", "Sofie", "Maja", "Laura", "Ella", "Karoline", "Josefine", "Marianne",
                         "Inge", "Kirsten", "Bente", "Fatima", "Aisha", "Maryam", "Zainab", "Hawa", "Amina", "Leyla", "Elif",
                         "Zeynep", "Sana", "Noor", "Hiba", "Agnieszka", "Katarzyna", "Olena", "Iryna", "Mariam", "Samira",
                         "Nasra", "Farhiya", "Rukhsana", "Gulistan", "Dilan", "Shirin", "Yasmin", "Hodan"]
    static let male = ["William", "Noah", "Oscar", "Lucas", "Carl", "Victor", "Malthe", "Alfred", "Emil", "Magnus", "Ole",
                       "Flemming", "Preben", "Mohammed", "Ahmad", "Ali", "Omar", "Yusuf", "Hassan", "Ibrahim", "Mustafa",
                       "Emre", "Mehmet", "Abdi", "Abdirahman", "Bilal", "Hamza", "Tariq", "Piotr", "Tomasz", "Oleksandr",
                       "Dmytro", "Karim", "Khalid", "Rashid", "Samir", "Jamal", "Idris", "Farhan", "Kerem"]
    static let last = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
                       "Jørgensen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Ahmed", "Hussein", "Mohamed", "Ali", "Hassan",
                       "Yilmaz", "Kaya", "Demir", "Çelik", "Şahin", "Khan", "Hussain", "Abdullahi", "Warsame", "Farah",
                       "Nowak", "Kowalski", "Wiśniewski", "Kovalenko", "Shevchenko", "Al-Sayed", "Haddad", "Khalil",
                       "Mahmoud", "Rahimi", "Karimi", "Nguyen", "Tran", "Osman", "Jama", "Aziz", "Bakr"]

    static func name(_ rng: inout DemoRandom, gender: Gender) -> String {
        let female: Bool
        switch gender {
        case .female: female = true
        case .male: female = false
        default: female = rng.chance(0.5)
        }
        let firsts = female ? ResidentNames.female : ResidentNames.male
        let first = rng.pick(firsts)
        let lastName = rng.pick(ResidentNames.last)
        if rng.chance(0.3) {
            var middle = rng.pick(firsts)
            if middle == first { middle = firsts[((firsts.firstIndex(of: first) ?? 0) + 1) % firsts.count] }
            return "\(first) \(middle) \(lastName)"
        }
        return "\(first) \(lastName)"
    }
}

/// Synthetic CPR numbers, unique within one demo.
struct CPRFactory {
    private var used = Set<Int64>()

    /// A CPR number for someone of `age` (years) on `day`, with the gender parity rule.
    mutating func make(_ rng: inout DemoRandom, age: Int, on day: CalendarDate, gender: Gender) -> String {
        var birth = day.adding(months: -12 * age).adding(days: -rng.below(365))
        // Century digits valid for the birth year (the CPR office's table, 7th digit).
        let centuries19 = [0, 1, 2, 3], centuries20 = [4, 9, 5, 6, 7, 8]
        var serial = rng.below(100)
        var last = rng.below(10)
        switch gender {
        case .female: last = last / 2 * 2
        case .male: last = last / 2 * 2 + 1
        default: break
        }
        var c = rng.below(4)
        var tries = 0
        while true {
            let (y, m, d) = birth.components
            let yy = y % 100
            let centuries = y >= 2000 ? centuries20 : centuries19
            let century = centuries[c % centuries.count]
            let value = Int64(d) * 100_000_000 + Int64(m) * 1_000_000 + Int64(yy) * 10_000 + Int64(century) * 1000 + Int64(serial) * 10 + Int64(last)
            if used.insert(value).inserted {
                return padded(d, 2) + padded(m, 2) + padded(yy, 2) + "\(century)" + padded(serial, 2) + "\(last)"
            }
            // Taken: the next serial with the same parity; then the next century digit; then the next day.
            tries += 1
            serial = (serial + 1) % 100
            if tries % 100 == 0 { c += 1 }
            if tries % 400 == 0 { birth = birth.adding(days: 1) }
        }
    }
}
