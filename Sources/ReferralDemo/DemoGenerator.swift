import Foundation
import ReferralEvents

/// How much demo data to make.
public enum DemoSize: Sendable, Hashable, CustomStringConvertible {
    /// About 3,000 events: a quick look, the tests.
    case small
    /// About 100,000 events: a municipality with five plans over four years.
    case medium
    /// About 1,000,000 events: a national log.
    case large
    /// About this many events (e.g. 10,000,000 for the benchmarks).
    case events(Int)

    /// The fewest events a demo can be made of: its registry and a handful of cases.
    public static let minimumEvents = 500

    /// The number of events aimed at; the demo lands within a few per cent of it.
    public var targetEvents: Int {
        switch self {
        case .small: 3_000
        case .medium: 100_000
        case .large: 1_000_000
        case .events(let n): n
        }
    }

    /// `small`, `medium`, `large`, or a number of events such as `250000`, `250k` or `10M`.
    public init?(_ text: String) {
        switch text.lowercased() {
        case "small": self = .small
        case "medium": self = .medium
        case "large": self = .large
        default:
            var digits = text.replacingOccurrences(of: "_", with: "")
            var scale = 1
            if let last = digits.last, "kKmM".contains(last) {
                scale = last == "k" || last == "K" ? 1_000 : 1_000_000
                digits.removeLast()
            }
            guard let n = Int(digits), n > 0, n <= 100_000_000 / scale else { return nil }
            self = .events(n * scale)
        }
    }

    public var description: String {
        switch self {
        case .small: "small"
        case .medium: "medium"
        case .large: "large"
        case .events(let n): "\(n) events"
        }
    }
}

/// How far a demo has come, reported after every append.
public struct DemoProgress: Sendable, Hashable {
    public var eventsWritten: Int
    public var targetEvents: Int
    /// The recording day the generator has reached (the demo runs from 04.01.2021 to 31.12.2025).
    public var day: CalendarDate
}

/// What a demo wrote.
public struct DemoSummary: Sendable {
    public var size: DemoSize
    public var seed: UInt64
    /// Events written (the store's head position, for a store that was empty).
    public var events: Int
    public var cases: Int
    public var agreements: Int
    /// Appends (transactions) it took.
    public var appends: Int
    /// Events per type.
    public var eventCounts: [EventType: Int]
    /// Whether residents' personal details were sealed into the case-opened events.
    public var sealed: Bool
    /// Residents whose key was destroyed after a `resident-erased` event (only with a key store).
    public var erasedResidents: Int
    /// Every synthetic resident whose case was written, with CPR number and name, so a
    /// privacy test can scan the store's files for them (they must not be there in clear).
    public var residents: [DemoResident]
    public var head: LogHead
    public var firstRecordedAt: Timestamp?
    public var lastRecordedAt: Timestamp?
}

/// Deterministic demo data for the referral log: the real places of the seed documents,
/// their parties of every sector, staff, target groups, cases with consents, referrals,
/// jobcenter contacts, placements, closes, reopens, outcomes, corrections and erasure
/// decisions, and the shared employees' hours.
///
/// The same seed and size give the same events, ids and payload bytes every time:
/// everything is drawn from SplitMix64 generators seeded per case and agreement, dates
/// lie in the plan period 2021–2025, and recorded-at times come from the demo's own
/// calendar, never the wall clock. Events are appended day by day through
/// `EventStore.append` — every domain rule applies — in batches of at most `batchSize`,
/// each recorded at 16:00 UTC on its day plus a second per batch, so recorded-at rises
/// monotonically. About a third of events are registered late (a day to two months), so
/// "as known on" queries see past periods revised.
///
/// Requirements:
/// - the store must be empty;
/// - its clock must be at or after `DemoGenerator.demoNow` (31.12.2025 23:59:59 UTC),
///   since recorded-at may never be in the future; the wall clock is.
///
/// Personal data: with a `KeyStore`, each resident's pseudonym is the key store's keyed
/// hash of a synthetic CPR number, and (if `sealsPersonalDetails`) name, CPR number,
/// phone and address are sealed into the case-opened event; residents with a
/// `resident-erased` event have their key destroyed. Sealing makes a key per resident,
/// a durable write to `keys.mdb` each, so large demos run much faster without it. Without
/// a key store, pseudonyms are drawn from the seed and nothing is sealed; only then is the
/// whole log byte-identical between runs (a key store's secret is random per store).
///
/// ```swift
/// let store = try EventStore(at: dir, create: true, durable: false)
/// let summary = try DemoGenerator(size: .medium, seed: 42).write(to: store, keys: try KeyStore(directory: dir, create: true))
/// ```
public struct DemoGenerator: Sendable {
    /// The first recording day.
    public static let firstDay = fixedDate(2021, 1, 4)
    /// The last recording day.
    public static let lastDay = fixedDate(2025, 12, 31)
    /// No event is recorded after this; the store's clock must not be before it.
    public static let demoNow = Timestamp(fixedDate(2025, 12, 31), hour: 23, minute: 59)
    /// Changes whenever the same seed and size would give different events, so that stores
    /// kept for benchmarks can tell they are stale; also when the store's layout changes
    /// (4: the chunked stream index, store format 2), so an old store is not reused.
    public static let dataVersion = 4

    public var size: DemoSize
    public var seed: UInt64
    /// Events per append at most (each day's events are split into batches of this size).
    public var batchSize: Int = 1000
    /// Seal residents' personal details when a key store is given.
    public var sealsPersonalDetails = true

    public init(size: DemoSize, seed: UInt64 = 1) {
        self.size = size
        self.seed = seed
    }

    /// Writes the demo into the empty `store`.
    ///
    /// - Throws: `LogError(.invalidInput)` if the store is not empty or its clock is before
    ///   `demoNow`; any storage error of the appends. A failure part-way leaves the days
    ///   written so far (each append is atomic): start again with a new store.
    @discardableResult
    public func write(to store: EventStore, keys: KeyStore? = nil, progress: ((DemoProgress) -> Void)? = nil) throws -> DemoSummary {
        let head = try store.head()
        guard head.position == 0 else {
            throw LogError(.invalidInput, "the store at \(store.directory) already holds \(head.position) events; demo data goes into an empty store: create a new one (`referral init --store DIR`)")
        }
        guard batchSize > 0 else { throw LogError(.invalidInput, "the batch size must be at least 1") }
        guard size.targetEvents >= DemoSize.minimumEvents else {
            throw LogError(.invalidInput, "a demo needs at least \(DemoSize.minimumEvents) events for its registry and cases; asked for \(size.targetEvents)")
        }
        let writer = DemoWriter(generator: self, store: store, keys: keys, progress: progress)
        return try writer.run()
    }
}

/// One case or agreement stream while its events wait for their recording days.
final class Timeline {
    let tag: UInt64
    let entity: UInt64
    let stream: StreamID
    let steps: [Step]
    var next = 0
    /// The case's liaison at the current step (changes with `case-assigned`).
    var liaison: Int
    let caseInfo: CaseInfo?
    let agreement: Int

    init(tag: UInt64, entity: UInt64, stream: StreamID, steps: [Step], liaison: Int, caseInfo: CaseInfo?, agreement: Int = -1) {
        self.tag = tag
        self.entity = entity
        self.stream = stream
        self.steps = steps
        self.liaison = liaison
        self.caseInfo = caseInfo
        self.agreement = agreement
    }
}

struct CaseInfo {
    let caseID: String
    let resident: Pseudonym
    let cpr: String
    let name: String
    let area: Int
    let org: Int
    let targetGroup: Int
    let ageBand: AgeBand
    let gender: Gender
}

/// The demo's state while it writes: the world, the pending streams bucketed by the day
/// their next event is recorded, and the counters for the summary.
final class DemoWriter {
    let g: DemoGenerator
    let store: EventStore
    let keys: KeyStore?
    let progress: ((DemoProgress) -> Void)?
    let world: DemoWorld
    let firstDay = DemoGenerator.firstDay
    let dayCount: Int
    let seal: Bool

    private var buckets: [[Int32]]
    private var slots: [Timeline?] = []
    private var freeSlots: [Int32] = []
    private var cprs = CPRFactory()
    private var caseSequence: [Int: Int] = [:]

    private var counts = [Int](repeating: 0, count: 64)
    private var written = 0
    private var appends = 0
    private var residents: [DemoResident] = []
    private var erased = 0
    private var firstRecordedAt: Timestamp?
    private var lastRecordedAt: Timestamp?

    init(generator: DemoGenerator, store: EventStore, keys: KeyStore?, progress: ((DemoProgress) -> Void)?) {
        g = generator
        self.store = store
        self.keys = keys
        self.progress = progress
        world = DemoWorld(targetEvents: generator.size.targetEvents)
        dayCount = Int(DemoGenerator.lastDay.daysSinceEpoch - DemoGenerator.firstDay.daysSinceEpoch) + 1
        buckets = Array(repeating: [], count: dayCount)
        seal = keys != nil && generator.sealsPersonalDetails
    }

    // MARK: - Plan

    /// Relative number of cases opened on each day: none at weekends, fewer in the summer
    /// and Christmas holidays, a slow start while the plan gets going in early 2021.
    private func openingWeight(_ day: CalendarDate) -> Double {
        let (y, m, d) = day.components
        var w: Double = day.weekday >= 6 ? 0.02 : 1
        if m == 7 { w *= 0.4 }
        if (m == 12 && d >= 20) || (m == 1 && d <= 2) { w *= 0.3 }
        if y == 2021 && m <= 3 { w *= 0.6 }
        return w
    }

    private func areaOf(tag: UInt64, _ index: UInt64) -> Int {
        var r = DemoRandom(seed: g.seed, tag: tag, index: index)
        return r.weighted(world.areas.map(\.weight))
    }

    private var lastDayNumber: Int32 { DemoGenerator.lastDay.daysSinceEpoch }

    func run() throws -> DemoSummary {
        let target = g.size.targetEvents
        // Reference data and agreements first: their size is fixed; the cases fill the rest.
        let registry = buildRegistry()
        let budget = target * 6 / 100
        let daily = budget >= world.agreements.count * 1200
        // At least Fredericia's shared jobcenter employee and Viborg's first one, whose agreement
        // ends early (so even the small demo has an agreement that ended).
        let agreementCount = daily ? world.agreements.count : min(world.agreements.count, max(2, budget / 250))
        var agreementTimelines: [Timeline] = []
        var fixed = registry.count
        for i in 0..<agreementCount {
            var b = AgreementBuilder(world: world, index: i, seed: g.seed, daily: daily, firstDay: firstDay, lastDay: DemoGenerator.lastDay)
            let steps = b.build()
            fixed += steps.filter { $0.recordDay <= lastDayNumber }.count
            agreementTimelines.append(Timeline(tag: 2, entity: UInt64(i), stream: .agreement(world.agreements[i].id), steps: steps,
                                               liaison: world.agreements[i].employee, caseInfo: nil, agreement: i))
        }

        // Cumulative opening weights, and the number of cases from a sample of the same spread.
        var cumulative = [Double](repeating: 0, count: dayCount)
        var total = 0.0
        for d in 0..<dayCount {
            total += openingWeight(firstDay.adding(days: d))
            cumulative[d] = total
        }
        let sample = 2000
        var sampled = 0
        for s in 0..<sample {
            let q = (Double(s) + 0.5) / Double(sample) * total
            var lo = 0, hi = dayCount - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] >= q { hi = mid } else { lo = mid + 1 }
            }
            let index = UInt64(1) << 40 + UInt64(s)
            var b = CaseBuilder(world: world, seed: g.seed, index: index, area: areaOf(tag: 5, index), openDay: firstDay.adding(days: lo))
            sampled += b.build().filter { $0.recordDay <= lastDayNumber }.count
        }
        let perCase = Double(sampled) / Double(sample)
        let caseCount = max(1, Int((Double(max(0, target - fixed)) / perCase).rounded()))

        // Day by day: registry, new cases, then every stream with an event recorded today.
        var opened = 0
        var registryCursor = 0
        for d in 0..<dayCount {
            let day = firstDay.adding(days: d)
            var today: [ProposedEvent] = []
            var erasures: [(resident: Pseudonym, event: UUID)] = []
            while registryCursor < registry.count, registry[registryCursor].day <= d {
                today.append(registry[registryCursor].event)
                registryCursor += 1
            }
            if d == 0 { for t in agreementTimelines { schedule(t) } }
            let due = d == dayCount - 1 ? caseCount : min(caseCount, Int(Double(caseCount) * cumulative[d] / total))
            while opened < due {
                openCase(UInt64(opened), on: day)
                opened += 1
            }
            let bucket = buckets[d]
            buckets[d] = []
            for slot in bucket {
                guard let t = slots[Int(slot)] else { continue }
                while t.next < t.steps.count, t.steps[t.next].recordDay == day.daysSinceEpoch {
                    let event = try materialise(t, t.next)
                    if case .residentErased = t.steps[t.next].event, let info = t.caseInfo { erasures.append((info.resident, event.id)) }
                    today.append(event)
                    t.next += 1
                }
                slots[Int(slot)] = nil
                freeSlots.append(slot)
                schedule(t)
            }
            try append(today, on: day)
            if let keys {
                // With the erasure's position, as `forget` does, so the key store tells this
                // erasure from a resident who comes back later (docs/data-protection.md).
                var at: [Pseudonym: UInt64] = [:]
                for e in erasures { at[e.resident] = try store.event(id: e.event)?.position }
                erased += try keys.destroyKeys(erasedAt: at).count
            }
        }
        try store.sync()

        var eventCounts: [EventType: Int] = [:]
        for (code, n) in counts.enumerated() where n > 0 {
            if let t = EventType.byCode(UInt16(code)) { eventCounts[t] = n }
        }
        return DemoSummary(size: g.size, seed: g.seed, events: written, cases: eventCounts[.caseOpened] ?? 0, agreements: agreementCount,
                           appends: appends, eventCounts: eventCounts, sealed: seal, erasedResidents: erased, residents: residents,
                           head: try store.head(), firstRecordedAt: firstRecordedAt, lastRecordedAt: lastRecordedAt)
    }

    /// Puts the stream in the bucket of its next event's recording day, or drops it when
    /// that is after the demo's end.
    private func schedule(_ t: Timeline) {
        guard t.next < t.steps.count else { return }
        let d = Int(t.steps[t.next].recordDay - firstDay.daysSinceEpoch)
        guard d < dayCount else { return }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = t
        } else {
            slot = Int32(slots.count)
            slots.append(t)
        }
        buckets[max(0, d)].append(slot)
    }

    private func openCase(_ index: UInt64, on day: CalendarDate) {
        let area = areaOf(tag: 4, index)
        var b = CaseBuilder(world: world, seed: g.seed, index: index, area: area, openDay: day)
        let steps = b.build()
        let place = world.place(ofArea: area)
        let key = world.areas[area].place * 10_000 + day.year
        let sequence = (caseSequence[key] ?? 0) + 1
        caseSequence[key] = sequence
        let caseID = "\(place.code.uppercased())-\(day.year)-\(padded(sequence, 4))"
        var r = DemoRandom(seed: g.seed, tag: 6, index: index)
        let cpr = cprs.make(&r, age: b.age, on: day, gender: b.gender)
        let name = ResidentNames.name(&r, gender: b.gender)
        let resident: Pseudonym
        if let keys, let p = try? keys.pseudonym(forCPR: cpr) {
            resident = p
        } else {
            resident = Pseudonym(high: r.next(), low: r.next())
        }
        let info = CaseInfo(caseID: caseID, resident: resident, cpr: cpr, name: name, area: area, org: b.org,
                            targetGroup: b.targetGroup, ageBand: b.ageBand, gender: b.gender)
        schedule(Timeline(tag: 1, entity: index, stream: .case(caseID), steps: steps, liaison: b.openingLiaison, caseInfo: info))
    }

    // MARK: - Writing

    private func append(_ events: [ProposedEvent], on day: CalendarDate) throws {
        guard !events.isEmpty else { return }
        var start = 0
        var batch = 0
        while start < events.count {
            let end = min(events.count, start + g.batchSize)
            let recordedAt = Timestamp(millisecondsSinceEpoch: Timestamp(day, hour: 16).millisecondsSinceEpoch + Int64(batch) * 1000)
            do {
                try store.append(Array(events[start..<end]), recordedAt: recordedAt)
            } catch var error as LogError {
                // The store refuses a recorded-at after its clock: say which clock and why.
                if error.code == .invalidInput, error.message.contains("future") {
                    error.message = "the demo records events up to \(DemoGenerator.demoNow.iso8601), but the store's clock is earlier: " + error.message
                } else if error.code == .ruleViolation || error.code == .invalidInput || error.code == .conflict {
                    // Only a refusal of the generated events is the generator's fault; a full
                    // disk or a file size limit (`.storage`) is reported as it is.
                    error.message = "demo data for \(day.danish) was refused (a bug in the demo generator): " + error.message
                }
                throw error
            }
            for e in events[start..<end] { counts[Int(e.payload.type.code)] += 1 }
            written += end - start
            appends += 1
            if firstRecordedAt == nil { firstRecordedAt = recordedAt }
            lastRecordedAt = recordedAt
            progress?(DemoProgress(eventsWritten: written, targetEvents: g.size.targetEvents, day: day))
            start = end
            batch += 1
        }
    }

    private static let referralIDs = (0...255).map { "H\($0)" }
    private static let consentIDs = (0...255).map { "S\($0)" }
    private static let placementIDs = (0...255).map { "P\($0)" }

    /// The id of step `step` of `t`, timed at its recording day (steps of one stream are
    /// recorded in order), so a retraction can name its target's id from the step alone.
    private func id(_ t: Timeline, _ step: Int) -> UUID {
        let s = t.steps[step]
        let dayMs: Int64 = 86_400_000
        let recorded = Int64(s.recordDay) * dayMs + (s.occurredAt % dayMs + dayMs) % dayMs
        return demoEventID(seed: g.seed, tag: t.tag, entity: t.entity, index: UInt64(step), milliseconds: max(recorded, s.occurredAt))
    }

    private func liaisonEnvelope(_ index: Int) -> (actor: String, organisation: OrganisationID) {
        let l = world.liaisons[index]
        return (l.id, world.orgs[l.org].id)
    }

    /// Turns a pending step into the event to append.
    private func materialise(_ t: Timeline, _ i: Int) throws -> ProposedEvent {
        let step = t.steps[i]
        let occurredAt = Timestamp(millisecondsSinceEpoch: step.occurredAt)
        let actorIndex = step.actor >= 0 ? Int(step.actor) : t.liaison
        let (actor, organisation) = liaisonEnvelope(actorIndex)
        var stream = t.stream
        let payload: EventPayload
        let orgID = { (i: Int16) in self.world.orgs[Int(i)].id }
        switch step.event {
        case .caseOpened:
            guard let c = t.caseInfo else { throw LogError(.invalidInput, "case step without a case") }
            var sealed: SealedData?
            if seal, let keys {
                var r = DemoRandom(seed: g.seed, tag: 7, index: t.entity)
                let a = world.areas[c.area]
                let details = PersonalDetails(cpr: c.cpr, name: c.name, phone: "+45 \(r.int(20...99)) \(r.int(10...99)) \(r.int(10...99)) \(r.int(10...99))",
                                              email: nil, address: "\(a.street) \(r.int(1...120)), \(r.int(0...4)). \(r.chance(0.5) ? "th" : "tv"), \(a.postcode)")
                sealed = try keys.seal(details, for: c.resident)
            }
            payload = .caseOpened(CaseOpened(resident: c.resident, areaId: world.areas[c.area].id, organisationId: world.orgs[c.org].id,
                                             liaisonId: world.liaisons[t.liaison].id, targetGroup: world.targetGroups[c.targetGroup].code,
                                             ageBand: c.ageBand, gender: c.gender, personalData: sealed))
            residents.append(DemoResident(cpr: c.cpr, name: c.name, caseID: c.caseID))
        case .caseAssigned(let liaison, let reason):
            payload = .caseAssigned(CaseAssigned(liaisonId: world.liaisons[Int(liaison)].id, reason: DemoTexts.assignReasons[Int(reason)]))
            t.liaison = Int(liaison)
        case .consentGiven(let no, let parties, let purposes, let written, let until):
            var ids: [OrganisationID] = []
            for word in 0..<2 {
                var bits = word == 0 ? parties.lo : parties.hi
                while bits != 0 {
                    ids.append(world.orgs[word * 64 + bits.trailingZeroBitCount].id)
                    bits &= bits - 1
                }
            }
            let all = ConsentPurpose.allCases
            let chosen = all.indices.filter { purposes & (1 << UInt8($0)) != 0 }.map { all[$0] }
            payload = .consentGiven(ConsentGiven(consentId: Self.consentIDs[Int(no)], parties: ids, purposes: chosen, form: written ? .written : .oral,
                                                 validUntil: until == .min ? nil : CalendarDate(daysSinceEpoch: until)))
        case .consentWithdrawn(let no, let reason):
            payload = .consentWithdrawn(ConsentWithdrawn(consentId: Self.consentIDs[Int(no)], reason: DemoTexts.withdrawReasons[Int(reason)]))
        case .referralMade(let no, let kind, let from, let to, let reason, let decidedBy):
            payload = .referralMade(ReferralMade(referralId: Self.referralIDs[Int(no)], kind: kind, fromOrganisation: orgID(from), toOrganisation: orgID(to),
                                                 reason: DemoTexts.referralReasons(kind)[Int(reason)], decidedBy: world.liaisons[Int(decidedBy)].id))
        case .referralAnswered(let no, let accepted, let reason, let corrected):
            let text = corrected ? DemoTexts.correctedAnswer : (accepted ? DemoTexts.accepted : DemoTexts.rejected)[Int(reason)]
            payload = .referralAnswered(ReferralAnswered(referralId: Self.referralIDs[Int(no)], accepted: accepted, reason: text))
        case .contactHeld(let first, let jobcenter, let referral):
            payload = .jobcenterContactHeld(JobcenterContactHeld(contactKind: first ? .first : .followUp, jobcenter: orgID(jobcenter),
                                                                 referralId: referral == 0 ? nil : Self.referralIDs[Int(referral)]))
        case .placementStarted(let no, let kind, let employer, let start, let plannedEnd, let hours, let referral):
            payload = .placementStarted(PlacementStarted(placementId: Self.placementIDs[Int(no)], kind: kind, employer: orgID(employer),
                                                         startDate: CalendarDate(daysSinceEpoch: start), plannedEndDate: CalendarDate(daysSinceEpoch: plannedEnd),
                                                         hoursPerWeek: Hours(hundredths: Int32(hours)),
                                                         referralId: referral == 0 ? nil : Self.referralIDs[Int(referral)]))
        case .placementEnded(let no, let end, let outcome):
            payload = .placementEnded(PlacementEnded(placementId: Self.placementIDs[Int(no)], endDate: CalendarDate(daysSinceEpoch: end), outcome: outcome))
        case .outcomeRecorded(let months, let status):
            payload = .outcomeRecorded(OutcomeRecorded(monthsAfterClose: Int(months), status: status))
        case .caseClosed(let category, let reason):
            payload = .caseClosed(CaseClosed(reason: DemoTexts.closeReasons[Int(category)][Int(reason)]))
        case .caseReopened(let reason):
            payload = .caseReopened(CaseReopened(reason: DemoTexts.reopenReasons[Int(reason)]))
        case .retracted(let target, let why):
            let reason: String
            switch why {
            case .contactKind: reason = DemoTexts.retractContact
            case .answerReason: reason = DemoTexts.retractAnswer
            case .hours: reason = DemoTexts.retractHours
            }
            payload = .eventRetracted(EventRetracted(retractedEventId: id(t, Int(target)), reason: reason))
        case .residentErased:
            guard let c = t.caseInfo else { throw LogError(.invalidInput, "case step without a case") }
            stream = .resident(c.resident)
            payload = .residentErased(ResidentErased(resident: c.resident, reason: DemoTexts.erasureReason, legalBasis: DemoTexts.erasureBasis))
        case .erasureRefused:
            guard let c = t.caseInfo else { throw LogError(.invalidInput, "case step without a case") }
            stream = .resident(c.resident)
            payload = .erasureRefused(ErasureRefused(resident: c.resident, reason: DemoTexts.refusalReason, legalBasis: DemoTexts.refusalBasis))
        case .agreementMade:
            let a = world.agreements[t.agreement]
            payload = .hoursAgreementMade(HoursAgreementMade(agreementId: a.id, employee: world.liaisons[a.employee].id, payingOrganisation: world.orgs[a.paying].id,
                                                             servedOrganisations: a.served.map { world.orgs[$0].id }, servedAreas: a.areas.map { world.areas[$0].id },
                                                             hoursPerWeek: Hours(hundredths: a.hoursPerWeek), validFrom: a.from, validTo: a.to))
        case .hoursLogged(let date, let hundredths, let area, let served, let activity):
            let a = world.agreements[t.agreement]
            payload = .sharedHoursLogged(SharedHoursLogged(date: CalendarDate(daysSinceEpoch: date), hours: Hours(hundredths: Int32(hundredths)),
                                                           areaId: world.areas[Int(area)].id, servedOrganisation: orgID(served), activity: a.activities[Int(activity)]))
        case .agreementEnded(let date, let early):
            payload = .hoursAgreementEnded(HoursAgreementEnded(endDate: CalendarDate(daysSinceEpoch: date), reason: early ? DemoTexts.agreementEndedEarly : DemoTexts.agreementEnded))
        }
        return ProposedEvent(id: id(t, i), stream: stream, payload: payload, occurredAt: occurredAt, actor: actor, organisation: organisation)
    }

    // MARK: - Registry

    /// The registry's events with their day index: everything on the first day, a
    /// liaison who joins later, and the target-group reform recorded in March 2025.
    private func buildRegistry() -> [(day: Int, event: ProposedEvent)] {
        var out: [(day: Int, event: ProposedEvent)] = []
        func add(_ day: CalendarDate, _ payload: EventPayload, organisation: OrganisationID) {
            let d = Int(day.daysSinceEpoch - firstDay.daysSinceEpoch)
            let at = Timestamp(day, hour: 8)
            let event = ProposedEvent(id: demoEventID(seed: g.seed, tag: 3, entity: 0, index: UInt64(out.count), milliseconds: at.millisecondsSinceEpoch),
                                      stream: .registry, payload: payload, occurredAt: at, actor: "registeransvarlig", organisation: organisation)
            out.append((d, event))
        }
        let secretariatOf = Dictionary(world.places.map { ($0.name, world.orgs[$0.secretariat].id) }, uniquingKeysWith: { a, _ in a })
        let lead = world.orgs[world.places[0].secretariat].id
        for o in world.orgs {
            add(firstDay, .organisationRegistered(OrganisationRegistered(organisationId: o.id, name: o.name, kind: o.kind, sector: o.sector, municipality: o.municipality)),
                organisation: secretariatOf[o.municipality] ?? lead)
        }
        for a in world.areas {
            let p = world.places[a.place]
            add(firstDay, .housingAreaRegistered(HousingAreaRegistered(areaId: a.id, name: a.name, municipality: world.orgs[p.municipality].id,
                                                                       housingOrganisations: a.housing.map { world.orgs[$0].id }, plan: p.plan,
                                                                       planFrom: DemoWorld.planFrom, planTo: DemoWorld.planTo)),
                organisation: world.orgs[p.secretariat].id)
        }
        for (i, l) in world.liaisons.enumerated() {
            add(world.lateLiaisons[i] ?? firstDay, .liaisonRegistered(LiaisonRegistered(liaisonId: l.id, name: l.name, organisationId: world.orgs[l.org].id)),
                organisation: world.orgs[l.org].id)
        }
        var firstDefinition: [String: UUID] = [:]
        for tg in world.targetGroups where tg.from < DemoWorld.reformStart {
            add(firstDay, .targetGroupDefined(TargetGroupDefined(code: tg.code, label: tg.label, effectiveFrom: tg.from, effectiveTo: tg.reformed ? nil : tg.to)),
                organisation: lead)
            firstDefinition[tg.code] = out[out.count - 1].event.id
        }
        for tg in world.targetGroups where tg.reformed {
            guard let original = firstDefinition[tg.code] else { continue }
            add(DemoWorld.reformRecorded, .eventRetracted(EventRetracted(retractedEventId: original, reason: DemoTexts.retractTargetGroup)), organisation: lead)
            add(DemoWorld.reformRecorded, .targetGroupDefined(TargetGroupDefined(code: tg.code, label: tg.label, effectiveFrom: tg.from, effectiveTo: tg.to)),
                organisation: lead)
        }
        for tg in world.targetGroups where tg.from >= DemoWorld.reformStart {
            add(DemoWorld.reformRecorded, .targetGroupDefined(TargetGroupDefined(code: tg.code, label: tg.label, effectiveFrom: tg.from, effectiveTo: tg.to)),
                organisation: lead)
        }
        return out.sorted { $0.day < $1.day }
    }
}
