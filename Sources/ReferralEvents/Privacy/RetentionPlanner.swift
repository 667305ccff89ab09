/// Which residents a retention policy says must be erased as of a date.
///
/// A resident is due when every case that names them has ended (closed, or the opening
/// naming them was retracted), a policy rule matches each of those cases, and the latest
/// of their deadlines (end date + the rule's period) is on or before the date. A resident
/// with an erasure refusal on record is held back (listed, never erased by retention);
/// erase them with `forget` if the refusal no longer applies.
public struct RetentionPlan: Sendable, Hashable, Encodable {
    /// One case's deadline.
    public struct CaseDeadline: Sendable, Hashable, Encodable {
        public var caseID: String
        public var endedOn: CalendarDate
        public var deleteOn: CalendarDate
        /// The 1-based number of the rule that matched.
        public var rule: Int
        public var kle: String
        public var period: String
    }

    /// A resident whose cases have all ended.
    public struct Candidate: Sendable, Hashable, Encodable {
        public var resident: Pseudonym
        /// The latest deadline of their cases.
        public var dueOn: CalendarDate
        public var cases: [CaseDeadline]
        /// For held residents: the refusal's position.
        public var refusalPosition: UInt64?
    }

    public var asOf: CalendarDate
    /// To be erased now.
    public var due: [Candidate]
    /// All cases ended, but a deadline lies after `asOf`.
    public var notYetDue: [Candidate]
    /// Due or not, but an erasure refusal stands.
    public var held: [Candidate]
    /// Residents with at least one open case.
    public var withOpenCases: Int
    /// Residents already erased.
    public var alreadyErased: Int
    /// Ended cases that no rule matches (kept until the policy covers them).
    public var unmatchedCases: [String]
}

/// Works out a `RetentionPlan` from the resident directory and a policy.
public enum RetentionPlanner {
    public static func plan(_ directory: ResidentDirectory, policy: RetentionPolicy, asOf: CalendarDate) -> RetentionPlan {
        var plan = RetentionPlan(asOf: asOf, due: [], notYetDue: [], held: [], withOpenCases: 0, alreadyErased: 0, unmatchedCases: [])
        for resident in directory.residents {
            if directory.erasure(of: resident) != nil {
                plan.alreadyErased += 1
                continue
            }
            let links = directory.links[resident] ?? []
            guard !links.isEmpty else { continue }
            var deadlines: [RetentionPlan.CaseDeadline] = []
            var open = false, unmatched = false
            for link in links {
                guard let ended = link.endedOn else { open = true; continue }
                let facts = link.effective ? directory.cases[link.caseID] : nil
                let organisation = facts?.organisation ?? link.organisation
                guard let (number, rule) = policy.rule(targetGroup: facts?.targetGroup ?? link.targetGroup, sector: directory.sectors[organisation],
                                                       organisation: organisation) else {
                    unmatched = true
                    if !plan.unmatchedCases.contains(link.caseID) { plan.unmatchedCases.append(link.caseID) }
                    continue
                }
                deadlines.append(.init(caseID: link.caseID, endedOn: ended, deleteOn: ended.adding(months: rule.totalMonths), rule: number,
                                       kle: rule.kle, period: rule.periodDescription))
            }
            if open {
                plan.withOpenCases += 1
                continue
            }
            guard !unmatched, let dueOn = deadlines.map(\.deleteOn).max() else { continue }
            var candidate = RetentionPlan.Candidate(resident: resident, dueOn: dueOn, cases: deadlines, refusalPosition: nil)
            if let refusal = directory.refusal(of: resident) {
                candidate.refusalPosition = refusal.position
                plan.held.append(candidate)
            } else if dueOn <= asOf {
                plan.due.append(candidate)
            } else {
                plan.notYetDue.append(candidate)
            }
        }
        plan.unmatchedCases.sort()
        return plan
    }
}

extension DataProtection {
    /// What `policy` says is due as of `asOf` (the store's today by default); changes nothing.
    public func retentionPlan(policy: RetentionPolicy, asOf: CalendarDate? = nil) throws -> RetentionPlan {
        RetentionPlanner.plan(try ResidentDirectory.scan(store), policy: policy, asOf: asOf ?? store.clock().date)
    }

    /// Erases every resident the plan lists as due, by key destruction, each with a
    /// `ResidentErased` event citing the policy rule, KLE code and deadline.
    ///
    /// All events are appended in one atomic batch, then all keys destroyed with one
    /// compaction (see `forget(_:by:)` for the order and what a crash leaves).
    public func applyRetention(policy: RetentionPolicy, asOf: CalendarDate? = nil, by actor: ReaderIdentity) throws -> (plan: RetentionPlan, erased: [ErasureResult]) {
        let plan = try retentionPlan(policy: policy, asOf: asOf)
        let requests = plan.due.map { c -> ErasureRequest in
            let rules = Set(c.cases.map(\.rule)).sorted()
            let kles = c.cases.map(\.kle).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let lastEnd = c.cases.map(\.endedOn).max() ?? c.dueOn
            return ErasureRequest(
                resident: c.resident,
                reason: "retention: deadline \(c.dueOn.danish) passed (policy rule \(rules.map(String.init).joined(separator: ", ")); \(c.cases.count) case(s), last ended \(lastEnd.danish))",
                legalBasis: "KLE \(kles.joined(separator: ", ")) retention deadline; GDPR art. 5(1)(e) and 17(1)(a)")
        }
        return (plan, try forget(requests, by: actor))
    }
}
