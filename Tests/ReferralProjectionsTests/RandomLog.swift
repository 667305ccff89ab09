import Foundation
import ReferralEvents

/// A small seeded generator (SplitMix64), so a failing sequence can be replayed from its seed.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// Random but valid event sequences over the Viborg registry: a model of each case keeps
/// just enough state to obey the domain rules (consent before referral, answers to
/// pending referrals, outcomes after close, hours within the agreement, nothing dated before
/// the case opened, answers not before their referral, one first contact, one outcome per
/// mark since the last close, placements not ending in the future), with late registrations
/// and retractions of events whose removal the rules tolerate.
struct RandomLog {
    struct Case {
        var id: String
        var openedOn: CalendarDate
        var open = true
        var consentUntil: Day = 0
        var consentParties: [String] = []
        var consentCount = 0
        /// The day the last consent was given: its withdrawal is dated no earlier.
        var consentGivenOn = day(2023, 12, 1)
        var pending: [(id: String, event: UUID, day: CalendarDate)] = []
        var referralCount = 0
        var running: [(id: String, start: CalendarDate, event: UUID)] = []
        var placementCount = 0
        /// Events that may be retracted without breaking later rules.
        var retractable: [UUID] = []
        /// The first jobcenter contact, while not retracted.
        var firstContact: UUID?
        /// The outcomes recorded since the last close, by months after close.
        var outcomes: [Int: UUID] = [:]
    }

    typealias Day = Int32
    var rng: SplitMix
    var cases: [Case] = []
    var today = day(2024, 1, 2)
    var clock = at(2024, 1, 2)
    var hoursPerDay: [Int32: Int32] = [:]
    var hourEvents: [UUID] = []
    let agreement = StreamID.agreement("shared")
    let parties = [Viborg.jc, Viborg.bu, Viborg.school, Viborg.bilka]
    let liaisons = ["vib-lis-01", "vib-lis-02", "vib-jc-01"]

    init(seed: UInt64) { rng = SplitMix(state: seed) }

    /// The registry and the shared-hours agreement, then `count` random events.
    mutating func events(_ count: Int) -> [Recorded] {
        var out = Viborg.registry
        out.append(fact(agreement, .hoursAgreementMade(.init(agreementId: "shared", employee: "LM", payingOrganisation: Viborg.jc,
                                                            servedOrganisations: [Viborg.sec], servedAreas: ["ringparken"], hoursPerWeek: Hours(18.5)!,
                                                            validFrom: day(2023, 12, 1), validTo: nil)), at(2023, 11, 1)))
        while out.count < count + Viborg.registry.count + 1 { if let e = step() { out.append(e) } }
        return out
    }

    private mutating func record(_ stream: StreamID, _ payload: EventPayload, occurred: CalendarDate, id: UUID = UUID()) -> Recorded {
        let e = ProposedEvent(id: id, stream: stream, payload: payload, occurredAt: Timestamp(occurred, hour: 0), actor: "random", organisation: Viborg.sec)
        return Recorded(event: e, recordedAt: clock)
    }

    /// A day at most 12 days back, never before `floor`: most facts are recorded late by a few days.
    private mutating func occurred(notBefore floor: CalendarDate = day(2023, 12, 1)) -> CalendarDate {
        max(floor, today.adding(days: -(rng.chance(60) ? 0 : rng.int(1...12))))
    }

    private mutating func step() -> Recorded? {
        if rng.chance(30) {
            today = today.adding(days: 1)
            clock = Timestamp(today, hour: 8)
        }
        clock = Timestamp(millisecondsSinceEpoch: clock.millisecondsSinceEpoch + 60_000)
        let roll = rng.int(0...99)
        if cases.isEmpty || roll < 12 { return openCase() }
        if roll < 18 { return hours() }
        if roll < 21 { return retraction() }
        let i = rng.int(0...(cases.count - 1))
        var c = cases[i]
        defer { cases[i] = c }
        let stream = StreamID.case(c.id)
        let opened = c.openedOn
        if !c.open {
            if rng.chance(40) {
                let months = rng.pick([1, 3, 6, 12])
                guard c.outcomes[months] == nil else { return nil }
                let id = UUID()
                c.retractable.append(id)
                c.outcomes[months] = id
                return record(stream, .outcomeRecorded(.init(monthsAfterClose: months, status: rng.pick(OutcomeStatus.allCases))), occurred: occurred(notBefore: opened), id: id)
            }
            if let p = c.pending.first, rng.chance(50) {
                c.pending.removeFirst()
                return record(stream, .referralAnswered(.init(referralId: p.id, accepted: rng.chance(60), reason: "svar")), occurred: occurred(notBefore: p.day))
            }
            c.open = true
            c.consentUntil = 0
            c.outcomes = [:]
            return record(stream, .caseReopened(.init(reason: "igen")), occurred: today)
        }
        switch rng.int(0...9) {
        case 0:
            c.consentCount += 1
            c.consentGivenOn = today
            c.consentUntil = today.adding(days: rng.int(5...120)).daysSinceEpoch
            c.consentParties = Array(parties.shuffled(using: &rng).prefix(rng.int(1...4)))
            return record(stream, .consentGiven(.init(consentId: "K\(c.consentCount)", parties: c.consentParties, purposes: [.referral],
                                                      form: rng.pick(ConsentForm.allCases), validUntil: CalendarDate(daysSinceEpoch: c.consentUntil))),
                          occurred: today)
        case 1, 2:
            guard c.consentUntil >= today.daysSinceEpoch, !c.consentParties.isEmpty else { return nil }
            c.referralCount += 1
            let id = UUID()
            let r = "R\(c.referralCount)"
            c.pending.append((r, id, today))
            return record(stream, .referralMade(.init(referralId: r, kind: rng.pick(ReferralKind.allCases), fromOrganisation: Viborg.sec,
                                                      toOrganisation: rng.pick(c.consentParties), reason: "hjælp", decidedBy: "vib-lis-01")),
                          occurred: today, id: id)
        case 3:
            guard !c.pending.isEmpty else { return nil }
            let p = c.pending.removeFirst()
            c.retractable.removeAll { $0 == p.event }
            return record(stream, .referralAnswered(.init(referralId: p.id, accepted: rng.chance(60), reason: "svar")), occurred: occurred(notBefore: p.day))
        case 4:
            let id = UUID()
            c.retractable.append(id)
            var kind = rng.pick(ContactKind.allCases)
            if kind == .first {
                if c.firstContact == nil { c.firstContact = id } else { kind = .followUp }
            }
            return record(stream, .jobcenterContactHeld(.init(contactKind: kind, jobcenter: Viborg.jc)), occurred: occurred(notBefore: opened), id: id)
        case 5:
            c.placementCount += 1
            let id = UUID()
            let start = occurred(notBefore: opened)
            c.running.append(("P\(c.placementCount)", start, id))
            return record(stream, .placementStarted(.init(placementId: "P\(c.placementCount)", kind: rng.pick(PlacementKind.allCases),
                                                          employer: Viborg.bilka, startDate: start, plannedEndDate: nil, hoursPerWeek: Hours(20)!)),
                          occurred: start, id: id)
        case 6:
            guard !c.running.isEmpty else { return nil }
            let p = c.running.removeFirst()
            return record(stream, .placementEnded(.init(placementId: p.id, endDate: min(today, p.start.adding(days: rng.int(0...40))), outcome: rng.pick(PlacementOutcome.allCases))),
                          occurred: occurred(notBefore: opened))
        case 7:
            let id = UUID()
            c.retractable.append(id)
            return record(stream, .caseAssigned(.init(liaisonId: rng.pick(liaisons), reason: "ferie")), occurred: occurred(notBefore: opened), id: id)
        case 8:
            c.open = false
            c.consentUntil = 0
            c.consentParties = []
            return record(stream, .caseClosed(.init(reason: "afsluttet")), occurred: occurred(notBefore: opened))
        default:
            guard let last = c.consentCount > 0 ? c.consentCount : nil, c.consentUntil > 0, rng.chance(50) else { return nil }
            c.consentUntil = 0
            c.consentParties = []
            return record(stream, .consentWithdrawn(.init(consentId: "K\(last)", reason: "fortrudt")),
                          occurred: occurred(notBefore: max(opened, c.consentGivenOn)))
        }
    }

    private mutating func openCase() -> Recorded {
        let id = "C\(cases.count + 1)"
        let day = occurred()
        cases.append(Case(id: id, openedOn: day))
        return record(.case(id), .caseOpened(.init(resident: pseudonym(UInt64(rng.int(1...40))), areaId: rng.pick(Viborg.areas),
                                                   organisationId: rng.pick([Viborg.sec, Viborg.jc]), liaisonId: rng.pick(liaisons),
                                                   targetGroup: rng.pick(["jobparat", "aktivitetsparat"]), ageBand: rng.pick(AgeBand.allCases),
                                                   gender: rng.pick(Gender.allCases))), occurred: day)
    }

    private mutating func hours() -> Recorded? {
        let d = occurred()
        let h = Int32(rng.int(1...4)) * 100
        guard hoursPerDay[d.daysSinceEpoch, default: 0] + h <= 2400 else { return nil }
        hoursPerDay[d.daysSinceEpoch, default: 0] += h
        let id = UUID()
        hourEvents.append(id)
        return record(agreement, .sharedHoursLogged(.init(date: d, hours: Hours(hundredths: h), areaId: rng.chance(50) ? "ringparken" : nil,
                                                          servedOrganisation: rng.chance(70) ? Viborg.sec : nil, activity: "café")), occurred: d, id: id)
    }

    private mutating func retraction() -> Recorded? {
        if rng.chance(30), !hourEvents.isEmpty {
            let id = hourEvents.remove(at: rng.int(0...(hourEvents.count - 1)))
            return record(agreement, .eventRetracted(.init(retractedEventId: id, reason: "fejl")), occurred: today)
        }
        guard let i = cases.indices.filter({ !cases[$0].retractable.isEmpty || !cases[$0].pending.isEmpty || !cases[$0].running.isEmpty }).randomElement(using: &rng)
        else { return nil }
        var c = cases[i]
        defer { cases[i] = c }
        let target: UUID
        if !c.pending.isEmpty, rng.chance(30) {
            target = c.pending.removeLast().event  // an unanswered referral: nothing refers to it
        } else if !c.running.isEmpty, rng.chance(30) {
            target = c.running.removeLast().event  // a running placement: nothing refers to it
        } else if !c.retractable.isEmpty {
            target = c.retractable.remove(at: rng.int(0...(c.retractable.count - 1)))
            if c.firstContact == target { c.firstContact = nil }
            c.outcomes = c.outcomes.filter { $0.value != target }
        } else {
            return nil
        }
        return record(.case(c.id), .eventRetracted(.init(retractedEventId: target, reason: "fejl")), occurred: today)
    }
}

extension SplitMix: RandomNumberGenerator {}
