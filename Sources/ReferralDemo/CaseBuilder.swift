import ReferralEvents

/// What a case's activities led to; decides the close reason and the outcomes.
enum CaseResult: UInt8 {
    case none = 0, job = 1, education = 2
}

/// The case of one resident, drawn from its own generator: who follows them, which
/// parties they are referred to, what comes of it, and the outcomes after close.
///
/// Steps are made in the order they happen, tracking the case as the domain rules see
/// it (open or closed, consents and their parties and end dates, referrals, placements),
/// so every event passes the rules when appended in step order.
struct CaseBuilder {
    let world: DemoWorld
    let place: DemoPlace
    var rng: DemoRandom
    let area: Int
    let openDay: CalendarDate
    /// The case's number in the demo (0 is the first opened).
    let index: UInt64

    // Profile.
    var ageBand: AgeBand = .from30to39
    var age = 35
    var gender: Gender = .unknown
    var targetGroup = 0
    var org = 0
    var liaison = 0
    var openingLiaison = 0
    var child: Bool { ageBand == .under18 }
    var young: Bool { ageBand == .from18to24 || ageBand == .from25to29 }

    // What the rules track.
    private struct Consent {
        var no: UInt8
        var parties: OrgSet
        var until: Int32?
        var lapsed: Bool
    }
    private var consents: [Consent] = []
    private var consentCount: UInt8 = 0
    private var referralCount: UInt8 = 0
    private var placementCount: UInt8 = 0
    /// A case has one first jobcenter contact (`first-contact-already-held`): after a
    /// reopening, the jobcenter track's contacts are follow-ups.
    private var firstContactHeld = false
    private(set) var steps: [Step] = []
    private var lastAt: Int64 = .min

    // Corrections drawn for this case.
    private let wantsContactCorrection: Bool
    private let wantsAnswerCorrection: Bool
    private var wrongContact: Int?
    private var wrongAnswer: (index: Int, no: UInt8, accepted: Bool)?

    init(world: DemoWorld, seed: UInt64, index: UInt64, area: Int, openDay: CalendarDate) {
        self.world = world
        self.index = index
        self.area = area
        self.openDay = openDay
        place = world.place(ofArea: area)
        rng = DemoRandom(seed: seed, tag: 1, index: index)
        wantsContactCorrection = rng.chance(0.02)
        wantsAnswerCorrection = rng.chance(0.008)
    }

    /// Draws the whole case. Steps after the demo's end are kept; the writer drops them.
    mutating func build() -> [Step] {
        chooseProfile()
        emit(openDay, .caseOpened, actor: openingLiaison)
        var (close, result) = cycle(start: openDay)
        if rng.chance(0.07) {
            let reopen = close.adding(days: rng.int(45...300))
            outcomes(after: close, result: result, before: reopen)
            emit(reopen, .caseReopened(reason: UInt8(rng.below(DemoTexts.reopenReasons.count))))
            (close, result) = cycle(start: reopen)
        }
        outcomes(after: close, result: result, before: nil)
        // A few residents ask to be erased after their case closed; most requests are refused
        // under the duty to keep records. Cases 1, 2, 5 and 6 (opened in January 2021) always
        // ask, so that even the smallest demo holds both decisions.
        let asks = rng.chance(0.015)
        if asks || [1, 2, 5, 6].contains(index) {
            let d = close.adding(months: rng.int(13...18))
            let erased = [1, 5].contains(index) || (![2, 6].contains(index) && rng.chance(0.25))
            emit(d, erased ? .residentErased : .erasureRefused)
        }
        assignRecordDays(&steps, &rng)
        var corrections: [(Int, DemoEvent, RetractionReason)] = []
        if let k = wrongContact, case .contactHeld(_, let jc, let ref) = steps[k].event {
            corrections.append((k, .contactHeld(first: true, jobcenter: jc, referral: ref), .contactKind))
        }
        if let a = wrongAnswer {
            corrections.append((a.index, .referralAnswered(no: a.no, accepted: a.accepted, reason: 0, corrected: true), .answerReason))
        }
        // In step order; each insertion moves the later steps on by two.
        var shift = 0
        for (k, fixed, why) in corrections.sorted(by: { $0.0 < $1.0 }) {
            insertCorrection(&steps, after: k + shift, corrected: fixed, why: why)
            shift += 2
        }
        return steps
    }

    // MARK: - Profile

    private mutating func chooseProfile() {
        let bands: [AgeBand] = [.under18, .from18to24, .from25to29, .from30to39, .from40to49, .from50to59, .from60]
        ageBand = bands[rng.weighted([14, 18, 14, 20, 16, 12, 6])]
        switch ageBand {
        case .under18: age = rng.int(13...17)
        case .from18to24: age = rng.int(18...24)
        case .from25to29: age = rng.int(25...29)
        case .from30to39: age = rng.int(30...39)
        case .from40to49: age = rng.int(40...49)
        case .from50to59: age = rng.int(50...59)
        case .from60: age = rng.int(60...66)
        }
        gender = [Gender.female, .male, .other, .unknown][rng.weighted([49, 48, 1, 2])]

        let reformed = openDay >= DemoWorld.reformStart
        let codes: [String]
        let weights: [Int]
        if child {
            codes = ["ung-under-18"]; weights = [1]
        } else if young {
            codes = reformed ? ["ung-uddannelse", "jobklar", "indsatsklar", "uden-ydelse", "sygedagpenge"]
                : ["uddannelsesparat", "aktivitetsparat-uddannelse", "jobparat", "uden-ydelse", "sygedagpenge"]
            weights = reformed ? [50, 25, 15, 5, 5] : [35, 25, 25, 10, 5]
        } else {
            codes = reformed ? ["jobklar", "indsatsklar", "sygedagpenge", "uden-ydelse"]
                : ["jobparat", "aktivitetsparat", "sygedagpenge", "uden-ydelse"]
            weights = [35, 40, 12, 13]
        }
        let code = codes[rng.weighted(weights)]
        targetGroup = world.targetGroups.firstIndex { $0.code == code } ?? 0

        org = place.secretariat
        liaison = rng.pick(place.secretariatLiaisons)
        if child, place.code == "ish", rng.chance(0.35) {
            org = place.schools[0]; liaison = place.schoolLiaison
        } else if child, rng.chance(0.2) {
            org = place.childrenAndYouth; liaison = place.childrenAndYouthLiaison
        } else if !child, let shared = place.sharedJobcenterLiaison, rng.chance(0.3) {
            org = place.jobcenter; liaison = shared
        }
        openingLiaison = liaison
    }

    private var baseParties: OrgSet {
        var s = OrgSet([org, place.secretariat])
        if child { s.insert(place.childrenAndYouth); s.insert(place.schools[0]) } else { s.insert(place.jobcenter) }
        return s
    }

    // MARK: - Steps

    private var currentDay: CalendarDate {
        lastAt == .min ? openDay : CalendarDate(daysSinceEpoch: Int32(floorDivide(lastAt, dayMs)))
    }

    private func notBefore(_ day: CalendarDate) -> CalendarDate { max(day, currentDay) }

    @discardableResult
    private mutating func emit(_ day: CalendarDate, _ event: DemoEvent, actor: Int = -1, hours: ClosedRange<Int> = 8...14) -> Int {
        var at = Int64(notBefore(day).daysSinceEpoch) * dayMs + Int64(rng.int(hours)) * 3_600_000 + Int64(rng.below(60)) * 60_000
        if at <= lastAt { at = lastAt + 60_000 }
        lastAt = at
        steps.append(Step(occurredAt: at, recordDay: 0, actor: Int32(actor), event: event))
        return steps.count - 1
    }

    // MARK: - Consent

    private mutating func giveConsent(_ parties: OrgSet, on day: CalendarDate) {
        let d = notBefore(day)
        consentCount += 1
        let until: Int32?
        switch rng.below(20) {
        case 0..<7: until = nil
        case 7..<13: until = d.adding(months: 6).daysSinceEpoch
        default: until = d.adding(months: 12).daysSinceEpoch
        }
        // Bits in ConsentPurpose.allCases order: referral, information sharing, personal details.
        let purposes: UInt8 = rng.chance(0.6) ? 0b111 : 0b011
        emit(d, .consentGiven(no: consentCount, parties: parties, purposes: purposes, written: rng.chance(0.7), validUntil: until ?? .min))
        consents.append(Consent(no: consentCount, parties: parties, until: until, lapsed: false))
    }

    /// Records a new consent first if none in force on `day` covers `party`, as a liaison must.
    private mutating func ensureConsent(covering party: Int, on day: CalendarDate) {
        let dd = day.daysSinceEpoch
        func inForce(_ c: Consent) -> Bool { !c.lapsed && (c.until.map { dd <= $0 } ?? true) }
        if consents.contains(where: { inForce($0) && $0.parties.contains(party) }) { return }
        var parties = baseParties
        for c in consents where inForce(c) { parties.formUnion(c.parties) }
        parties.insert(party)
        giveConsent(parties, on: day)
    }

    // MARK: - Referrals and placements

    private mutating func refer(_ kind: ReferralKind, from: Int, to: Int, on day: CalendarDate, decidedBy: Int) -> (no: UInt8, day: CalendarDate) {
        let d = notBefore(day)
        ensureConsent(covering: to, on: d)
        referralCount += 1
        let reason = UInt8(rng.below(DemoTexts.referralReasons(kind).count))
        emit(d, .referralMade(no: referralCount, kind: kind, from: Int16(from), to: Int16(to), reason: reason, decidedBy: Int32(decidedBy)), actor: decidedBy)
        return (referralCount, currentDay)
    }

    private mutating func answer(_ no: UInt8, after day: CalendarDate, days: ClosedRange<Int>, acceptance: Double, actor: Int) -> (accepted: Bool, day: CalendarDate) {
        let accepted = rng.chance(acceptance)
        let pool = accepted ? DemoTexts.accepted : DemoTexts.rejected
        let i = emit(day.adding(days: rng.int(days)), .referralAnswered(no: no, accepted: accepted, reason: UInt8(rng.below(pool.count)), corrected: false), actor: actor)
        if wantsAnswerCorrection, wrongAnswer == nil { wrongAnswer = (i, no, accepted) }
        return (accepted, currentDay)
    }

    private mutating func placement(_ kind: PlacementKind, employer: Int, referral: UInt8, from day: CalendarDate, actor: Int, allowExtended: Bool = true)
        -> (outcome: PlacementOutcome, end: CalendarDate) {
        let start = notBefore(day)
        let planned: Int, hours: Int
        var weights: [Int]  // ordinary job, education, extended, dropped, other
        switch kind {
        case .workPlacement: planned = 28; hours = rng.int(15...37); weights = [22, 8, 20, 20, 30]
        case .wageSubsidy: planned = 182; hours = rng.int(25...37); weights = [40, 5, 15, 15, 25]
        case .internship: planned = rng.int(30...90); hours = 37; weights = [20, 45, 10, 15, 10]
        case .apprenticeship: planned = rng.int(180...540); hours = 37; weights = [35, 35, 5, 20, 5]
        case .leisureJob: planned = rng.int(90...270); hours = rng.int(6...12); weights = [15, 10, 30, 20, 25]
        case .other: planned = 6; hours = 30; weights = [0, 10, 0, 10, 80]
        }
        if !allowExtended { weights[2] = 0 }
        let plannedEnd = start.adding(days: planned)
        placementCount += 1
        let no = placementCount
        emit(start, .placementStarted(no: no, kind: kind, employer: Int16(employer), start: start.daysSinceEpoch,
                                      plannedEnd: plannedEnd.daysSinceEpoch, hours: Int16(hours * 100), referral: referral),
             actor: actor, hours: 8...9)
        let outcome = [PlacementOutcome.ordinaryJob, .education, .extended, .dropped, .other][rng.weighted(weights)]
        let end = outcome == .dropped ? start.adding(days: rng.int(1...max(1, planned - 1))) : max(start, plannedEnd.adding(days: rng.int(-2...2)))
        emit(end, .placementEnded(no: no, end: notBefore(end).daysSinceEpoch, outcome: outcome), actor: actor, hours: 12...15)
        return (outcome, currentDay)
    }

    private static func result(of outcome: PlacementOutcome) -> CaseResult {
        switch outcome {
        case .ordinaryJob: .job
        case .education: .education
        default: .none
        }
    }

    private mutating func placementTrack(_ kind: PlacementKind, from: Int, decidedBy: Int, on day: CalendarDate, employers: [Int]) -> CaseResult {
        let employer = kind == .wageSubsidy && rng.chance(0.25) ? place.municipality : rng.pick(employers)
        let referralKind: ReferralKind
        switch kind {
        case .workPlacement: referralKind = .workPlacement
        case .wageSubsidy: referralKind = .wageSubsidy
        case .internship, .apprenticeship: referralKind = .apprenticeship
        case .leisureJob: referralKind = .leisureJob
        case .other: referralKind = .other
        }
        let (no, referred) = refer(referralKind, from: from, to: employer, on: day, decidedBy: decidedBy)
        let (accepted, answered) = answer(no, after: referred, days: 2...14, acceptance: 0.8, actor: liaison)
        guard accepted else { return .none }
        var (outcome, end) = placement(kind, employer: employer, referral: no, from: answered.adding(days: rng.int(5...30)), actor: decidedBy)
        if outcome == .extended, rng.chance(0.6) {
            let next: PlacementKind = kind == .workPlacement ? .wageSubsidy : kind
            (outcome, end) = placement(next, employer: employer, referral: no, from: end.adding(days: 1), actor: decidedBy, allowExtended: false)
        }
        return CaseBuilder.result(of: outcome)
    }

    // MARK: - Tracks

    private mutating func jobcenterTrack(on day: CalendarDate) -> CaseResult {
        let jc = place.jobcenter
        let jcLiaison = org == jc ? liaison : rng.pick(place.jobcenterLiaisons)
        var referral: UInt8 = 0
        var contactDay: CalendarDate
        if org == jc {
            // Opened by the shared jobcenter employee: the road to the jobcenter is short and informal.
            contactDay = day.adding(days: rng.int(0...7))
        } else {
            let (no, referred) = refer(.jobcenterContact, from: org, to: jc, on: day.adding(days: rng.int(2...20)), decidedBy: liaison)
            let (accepted, answered) = answer(no, after: referred, days: 1...7, acceptance: 0.92, actor: jcLiaison)
            guard accepted else { return .none }
            referral = no
            contactDay = max(answered, referred.adding(days: rng.skewedDays(2, 60)))
        }
        // A first contact recorded as a follow-up by mistake is corrected later (`build`).
        let mistaken = !firstContactHeld && wantsContactCorrection && wrongContact == nil
        let first = !firstContactHeld && !mistaken
        let i = emit(contactDay, .contactHeld(first: first, jobcenter: Int16(jc), referral: referral), actor: jcLiaison)
        if mistaken { wrongContact = i }
        firstContactHeld = true
        for _ in 0..<rng.weighted([25, 30, 25, 12, 8]) {
            emit(currentDay.adding(days: rng.int(14...45)), .contactHeld(first: false, jobcenter: Int16(jc), referral: rng.chance(0.5) ? referral : 0), actor: jcLiaison)
        }
        guard !child, rng.chance(0.5) else { return .none }
        let kinds: [PlacementKind] = young ? [.workPlacement, .internship, .wageSubsidy] : [.workPlacement, .wageSubsidy]
        let kind = kinds[rng.weighted(young ? [50, 25, 25] : [60, 40])]
        return placementTrack(kind, from: jc, decidedBy: jcLiaison, on: currentDay.adding(days: rng.int(3...20)), employers: place.employers)
    }

    private mutating func educationTrack(on day: CalendarDate) -> CaseResult {
        let school = rng.pick(place.vocational)
        let (no, referred) = refer(.education, from: org, to: school, on: day.adding(days: rng.int(2...30)), decidedBy: liaison)
        let (accepted, answered) = answer(no, after: referred, days: 3...21, acceptance: 0.75, actor: liaison)
        guard accepted else { return .none }
        if rng.chance(0.5) {
            return placementTrack(rng.chance(0.5) ? .internship : .apprenticeship, from: org, decidedBy: liaison,
                                  on: answered.adding(days: rng.int(10...60)), employers: place.employers)
        }
        return .education
    }

    private mutating func simpleReferral(_ kind: ReferralKind, from: Int, to: Int, decidedBy: Int, answeredBy: Int, on day: CalendarDate, acceptance: Double) -> (Bool, CalendarDate) {
        let (no, referred) = refer(kind, from: from, to: to, on: day, decidedBy: decidedBy)
        return answer(no, after: referred, days: 1...10, acceptance: acceptance, actor: answeredBy)
    }

    private mutating func healthTrack(on day: CalendarDate) -> CaseResult {
        let (accepted, answered) = simpleReferral(.health, from: org, to: place.health, decidedBy: liaison, answeredBy: place.healthLiaison,
                                                  on: day.adding(days: rng.int(2...30)), acceptance: 0.9)
        if accepted, rng.chance(0.5) {
            _ = simpleReferral(.other, from: place.health, to: place.sportsCentre, decidedBy: place.healthLiaison, answeredBy: place.healthLiaison,
                               on: answered.adding(days: rng.int(3...20)), acceptance: 0.95)
        }
        return .none
    }

    private mutating func run(_ track: Int, on day: CalendarDate) -> CaseResult {
        switch track {
        case 0: return jobcenterTrack(on: day)
        case 1: return educationTrack(on: day)
        case 2: return healthTrack(on: day)
        case 3:  // mentor: the jobcenter's for adults, Børn og Unge's for the young
            let to = child || young ? place.childrenAndYouth : place.jobcenter
            let by = child || young ? place.childrenAndYouthLiaison : rng.pick(place.jobcenterLiaisons)
            _ = simpleReferral(.mentor, from: org, to: to, decidedBy: liaison, answeredBy: by, on: day.adding(days: rng.int(2...30)), acceptance: 0.85)
            return .none
        case 4:  // library: digital help and Danish
            _ = simpleReferral(.other, from: org, to: place.library, decidedBy: liaison, answeredBy: liaison, on: day.adding(days: rng.int(2...30)), acceptance: 0.95)
            return .none
        case 5:  // a placement with a local employer found by the secretariat (the local grocer's internships)
            return placementTrack(.workPlacement, from: org, decidedBy: liaison, on: day.adding(days: rng.int(5...30)), employers: [place.employers[0]] + place.employers)
        case 10:  // leisure-time job
            return placementTrack(.leisureJob, from: org, decidedBy: liaison, on: day.adding(days: rng.int(3...30)), employers: place.leisureEmployers)
        case 11:  // fire brigade cadets: a week with the fire service
            guard let brigade = place.fireBrigade else { return .none }
            return placementTrack(.other, from: org, decidedBy: liaison, on: day.adding(days: rng.int(3...40)), employers: [brigade])
        case 12:  // sports centre
            _ = simpleReferral(.other, from: org, to: place.sportsCentre, decidedBy: liaison, answeredBy: liaison, on: day.adding(days: rng.int(2...30)), acceptance: 0.95)
            return .none
        case 13:  // SSP: the police refer a young person to Børn og Unge
            _ = simpleReferral(.mentor, from: place.police, to: place.childrenAndYouth, decidedBy: place.policeLiaison,
                               answeredBy: place.childrenAndYouthLiaison, on: day.adding(days: rng.int(2...30)), acceptance: 0.9)
            return .none
        case 14:  // educational guidance: bus trips to youth education with the parents
            let (accepted, _) = simpleReferral(.education, from: org, to: rng.pick(place.vocational), decidedBy: liaison, answeredBy: liaison,
                                               on: day.adding(days: rng.int(2...40)), acceptance: 0.95)
            return accepted ? .education : .none
        default:  // Børn og Unge refer the young person to the housing-social workers
            let to = org == place.secretariat ? place.schools[0] : place.secretariat
            _ = simpleReferral(.other, from: place.childrenAndYouth, to: to, decidedBy: place.childrenAndYouthLiaison,
                               answeredBy: liaison, on: day.adding(days: rng.int(2...30)), acceptance: 0.9)
            return .none
        }
    }

    private mutating func chooseTracks() -> [Int] {
        var tracks: [Int] = []
        let options: [(Int, Double)]
        if child {
            options = [(10, 0.45), (11, place.fireBrigade == nil ? 0 : 0.25), (12, 0.3), (13, 0.12), (14, 0.3), (15, 0.15)]
        } else if young {
            options = [(0, 0.6), (1, 0.5), (2, 0.15), (3, 0.15), (4, 0.08), (5, 0.05)]
        } else {
            options = [(0, 0.8), (2, 0.25), (3, 0.12), (4, 0.12), (5, 0.1)]
        }
        for (t, p) in options where rng.chance(p) { tracks.append(t) }
        if tracks.isEmpty { tracks.append(options[0].0) }
        return tracks
    }

    // MARK: - Cycles and outcomes

    private mutating func cycle(start: CalendarDate) -> (close: CalendarDate, result: CaseResult) {
        giveConsent(baseParties, on: start.adding(days: rng.int(0...5)))
        if rng.chance(0.12), org == place.secretariat, place.secretariatLiaisons.count > 1 {
            var next = rng.pick(place.secretariatLiaisons)
            if next == liaison, let other = place.secretariatLiaisons.first(where: { $0 != liaison }) { next = other }
            emit(currentDay.adding(days: rng.int(7...60)), .caseAssigned(liaison: Int32(next), reason: UInt8(rng.below(DemoTexts.assignReasons.count))))
            liaison = next
        }
        var result = CaseResult.none
        for track in chooseTracks() {
            let r = run(track, on: currentDay.adding(days: rng.int(0...20)))
            if r != .none { result = r }
        }
        if child, result == .none, rng.chance(0.6) { result = .education }
        if rng.chance(0.04), let i = consents.lastIndex(where: { !$0.lapsed }) {
            emit(currentDay.adding(days: rng.int(3...30)), .consentWithdrawn(no: consents[i].no, reason: UInt8(rng.below(DemoTexts.withdrawReasons.count))))
            consents[i].lapsed = true
            close(on: currentDay.adding(days: rng.int(0...14)), category: 3)
            return (currentDay, .none)
        }
        close(on: currentDay.adding(days: rng.int(7...45)), category: result.rawValue)
        return (currentDay, result)
    }

    private mutating func close(on day: CalendarDate, category: UInt8) {
        emit(day, .caseClosed(category: category, reason: UInt8(rng.below(DemoTexts.closeReasons[Int(category)].count))))
        for i in consents.indices { consents[i].lapsed = true }
    }

    private mutating func outcomes(after close: CalendarDate, result: CaseResult, before reopen: CalendarDate?) {
        let statuses: [OutcomeStatus] = [.ordinaryJob, .education, .publicSupport, .selfSupporting, .flexJob, .subsidisedJob, .unknown]
        let weights: [Int]
        switch result {
        case .job: weights = [65, 2, 12, 10, 0, 6, 5]
        case .education: weights = [10, 70, 10, 0, 0, 2, 8]
        case .none: weights = child ? [5, 75, 5, 0, 0, 0, 15] : [12, 8, 45, 5, 7, 6, 17]
        }
        var status = statuses[rng.weighted(weights)]
        // Follow-up thins out with time, as it does in practice.
        for (months, followedUp) in [(1, 0.85), (3, 0.8), (6, 0.75), (12, 0.7)] {
            let d = close.adding(months: months)
            if let reopen, d >= reopen { return }
            if rng.chance(0.2) { status = statuses[rng.weighted(weights)] }
            if rng.chance(followedUp) { emit(d, .outcomeRecorded(months: UInt8(months), status: status), hours: 9...13) }
        }
    }
}
