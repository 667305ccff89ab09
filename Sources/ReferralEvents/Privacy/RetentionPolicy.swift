import Foundation

/// How long case data is kept after a case closes, by kind of case.
///
/// A JSON file, e.g.
///
/// ```json
/// {"rules": [
///   {"match": {"sector": "jobcenter"}, "years": 5, "kle": "P1825D", "note": "jobcenter cases"},
///   {"match": {"targetGroup": "*"}, "years": 5, "kle": "P1825D"}
/// ]}
/// ```
///
/// A case's *kind* is its target group, the sector of the organisation that holds it, and
/// that organisation; `match` names any of the three (`"*"` or leaving it out matches
/// all). The first rule that matches a case decides its deadline, counted in `years` and
/// `months` from the day the case closed; `kle` names the KLE code (the municipal
/// filing scheme's retention class) that the deadline comes from. A closed case that no
/// rule matches is kept, and `retention --dry-run` lists it so the policy can be fixed.
/// Unknown keys are refused, so a misspelt `"targetgroup"` cannot silently match all.
public struct RetentionPolicy: Sendable, Hashable, Codable {
    /// Which cases a rule applies to; nil or `"*"` matches anything.
    public struct Match: Sendable, Hashable, Codable {
        public var targetGroup: String?
        public var sector: String?
        public var organisation: String?

        public init(targetGroup: String? = nil, sector: String? = nil, organisation: String? = nil) {
            self.targetGroup = targetGroup
            self.sector = sector
            self.organisation = organisation
        }

        func matches(targetGroup tg: TargetGroupCode, sector s: Sector?, organisation o: OrganisationID) -> Bool {
            func ok(_ pattern: String?, _ value: String?) -> Bool { pattern == nil || pattern == "*" || pattern == value }
            return ok(targetGroup, tg) && ok(sector, s?.rawValue) && ok(organisation, o)
        }
    }

    /// One deadline.
    public struct Rule: Sendable, Hashable, Codable {
        public var match: Match
        public var years: Int?
        public var months: Int?
        /// The KLE code the deadline comes from, e.g. `P1825D`.
        public var kle: String
        public var note: String?

        public init(match: Match = Match(), years: Int? = nil, months: Int? = nil, kle: String, note: String? = nil) {
            self.match = match
            self.years = years
            self.months = months
            self.kle = kle
            self.note = note
        }

        private enum CodingKeys: String, CodingKey { case match, years, months, kle, note }

        /// A rule without `match` applies to every case.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            match = try c.decodeIfPresent(Match.self, forKey: .match) ?? Match()
            years = try c.decodeIfPresent(Int.self, forKey: .years)
            months = try c.decodeIfPresent(Int.self, forKey: .months)
            kle = try c.decode(String.self, forKey: .kle)
            note = try c.decodeIfPresent(String.self, forKey: .note)
        }

        /// The deadline in months.
        public var totalMonths: Int { (years ?? 0) * 12 + (months ?? 0) }

        /// `5 years`, `18 months`, `1 year 6 months`.
        public var periodDescription: String {
            let y = years ?? 0, m = months ?? 0
            var parts: [String] = []
            if y > 0 { parts.append(y == 1 ? "1 year" : "\(y) years") }
            if m > 0 { parts.append(m == 1 ? "1 month" : "\(m) months") }
            return parts.joined(separator: " ")
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// The first rule matching a case of this kind, with its 1-based number.
    public func rule(targetGroup: TargetGroupCode, sector: Sector?, organisation: OrganisationID) -> (number: Int, rule: Rule)? {
        for (i, r) in rules.enumerated() where r.match.matches(targetGroup: targetGroup, sector: sector, organisation: organisation) {
            return (i + 1, r)
        }
        return nil
    }

    /// Reads a policy file.
    public static func load(path: String) throws -> RetentionPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LogError(.notFound, "no retention policy at \(path); write one (see docs/data-protection.md) or pass --policy")
        }
        return try RetentionPolicy(json: data, source: path)
    }

    /// Parses and checks a policy; every problem names the rule and field.
    public init(json data: Data, source: String = "the retention policy") throws {
        func bad(_ what: String) -> LogError { LogError(.invalidInput, "\(source): \(what)") }
        let top: Any
        do {
            top = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw bad("is not valid JSON (\(error.localizedDescription)); see docs/data-protection.md for the format")
        }
        guard let object = top as? [String: Any], let rawRules = object["rules"] as? [Any] else {
            throw bad("must be a JSON object with a \"rules\" array")
        }
        if let extra = Set(object.keys).subtracting(["rules"]).sorted().first { throw bad("unknown key \"\(extra)\" at the top level; only \"rules\" is allowed") }
        guard !rawRules.isEmpty else { throw bad("has no rules; add at least one") }
        for (i, raw) in rawRules.enumerated() {
            guard let r = raw as? [String: Any] else { throw bad("rule \(i + 1) is not an object") }
            if let extra = Set(r.keys).subtracting(["match", "years", "months", "kle", "note"]).sorted().first {
                throw bad("rule \(i + 1) has an unknown key \"\(extra)\"; allowed are match, years, months, kle, note")
            }
            // The decoder reports 2.5 for an Int as "not valid JSON"; say it plainly instead.
            for k in ["years", "months"] {
                if let v = r[k], !(v is String), (v as? Int) == nil { throw bad("rule \(i + 1): \(k) must be a whole number") }
            }
            if let m = r["match"] as? [String: Any],
               let extra = Set(m.keys).subtracting(["targetGroup", "sector", "organisation"]).sorted().first {
                throw bad("rule \(i + 1): match has an unknown key \"\(extra)\"; allowed are targetGroup, sector, organisation")
            }
        }
        // Types are checked by the decoder (it refuses 5.5 or true for a number of years).
        struct Raw: Decodable { var rules: [Rule] }
        let decoded: Raw
        do {
            decoded = try JSONDecoder().decode(Raw.self, from: data)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            throw bad("\(RetentionPolicy.describe(context.codingPath)) must be \(type == String.self ? "a string" : type == Int.self ? "a whole number" : "\(type)")")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            let field = context.codingPath.last?.stringValue ?? ""
            throw bad("\(RetentionPolicy.describe(context.codingPath)) \(["years", "months"].contains(field) ? "must be a whole number" : "has a value that cannot be read")")
        } catch let DecodingError.keyNotFound(key, context) {
            throw bad("\(RetentionPolicy.describe(context.codingPath + [key])) is missing\(key.stringValue == "kle" ? ": name the KLE code the deadline comes from, e.g. \"P1825D\"" : "")")
        } catch {
            throw bad("cannot be read: \(error)")
        }
        for (i, r) in decoded.rules.enumerated() {
            let n = i + 1
            for (k, v) in [("targetGroup", r.match.targetGroup), ("sector", r.match.sector), ("organisation", r.match.organisation)] where v?.isEmpty == true {
                throw bad("rule \(n): match.\(k) is empty; use \"*\" for any")
            }
            if let sector = r.match.sector, sector != "*", Sector(rawValue: sector) == nil {
                throw bad("rule \(n): sector \"\(sector)\" is not one of \(Sector.allCases.map(\.rawValue).joined(separator: ", ")) or \"*\"")
            }
            for (k, v) in [("years", r.years), ("months", r.months)] {
                if let v, !(0...1200).contains(v) { throw bad("rule \(n): \(k) is \(v); use a whole number from 0 to 1200") }
            }
            guard r.totalMonths > 0 else {
                throw bad("rule \(n) gives no deadline; set years and/or months (counted from the day the case closed)")
            }
            guard !r.kle.allSatisfy(\.isWhitespace) else {
                throw bad("rule \(n): kle is empty; name the KLE code the deadline comes from, e.g. \"P1825D\"")
            }
            if PersonalDetails.containsCPRNumber(r.kle) || r.note.map(PersonalDetails.containsCPRNumber) == true {
                throw bad("rule \(n) looks like it contains a CPR number")
            }
        }
        let rules = decoded.rules
        self.rules = rules
    }

    /// `rule 2: match.sector` from a decoding path.
    private static func describe(_ path: [any CodingKey]) -> String {
        var out = ""
        for k in path {
            if let i = k.intValue { out = "rule \(i + 1)" } else if k.stringValue != "rules" { out += (out.isEmpty ? "" : (out.hasPrefix("rule") && !out.contains(":") ? ": " : ".")) + k.stringValue }
        }
        return out.isEmpty ? "the policy" : out
    }
}
