import ReferralEvents

let dayMs: Int64 = 86_400_000

/// A set of organisations (indexes into `DemoWorld.orgs`, fewer than 128) as a bit mask,
/// so that a pending consent costs 16 bytes, not an array.
struct OrgSet: Hashable {
    var lo: UInt64 = 0
    var hi: UInt64 = 0

    init() {}
    init(_ members: [Int]) { for m in members { insert(m) } }

    mutating func insert(_ i: Int) {
        if i < 64 { lo |= 1 << UInt64(i) } else { hi |= 1 << UInt64(i - 64) }
    }

    func contains(_ i: Int) -> Bool {
        i < 64 ? lo & (1 << UInt64(i)) != 0 : hi & (1 << UInt64(i - 64)) != 0
    }

    mutating func formUnion(_ other: OrgSet) {
        lo |= other.lo
        hi |= other.hi
    }

    var members: [Int] { (0..<128).filter { contains($0) } }
}

/// One pending event of a case or agreement, kept compact (indexes, not strings) until the
/// day it is recorded, when it becomes a `ProposedEvent`.
enum DemoEvent {
    case caseOpened
    case caseAssigned(liaison: Int32, reason: UInt8)
    /// `validUntil` is `Int32.min` for no end date; `purposes` is a bit mask in `ConsentPurpose.allCases` order.
    case consentGiven(no: UInt8, parties: OrgSet, purposes: UInt8, written: Bool, validUntil: Int32)
    case consentWithdrawn(no: UInt8, reason: UInt8)
    case referralMade(no: UInt8, kind: ReferralKind, from: Int16, to: Int16, reason: UInt8, decidedBy: Int32)
    case referralAnswered(no: UInt8, accepted: Bool, reason: UInt8, corrected: Bool)
    /// `referral` 0 means none.
    case contactHeld(first: Bool, jobcenter: Int16, referral: UInt8)
    case placementStarted(no: UInt8, kind: PlacementKind, employer: Int16, start: Int32, plannedEnd: Int32, hours: Int16, referral: UInt8)
    case placementEnded(no: UInt8, end: Int32, outcome: PlacementOutcome)
    case outcomeRecorded(months: UInt8, status: OutcomeStatus)
    case caseClosed(category: UInt8, reason: UInt8)
    case caseReopened(reason: UInt8)
    /// Retracts the event at step `step` of the same timeline.
    case retracted(step: Int32, why: RetractionReason)
    case residentErased
    case erasureRefused
    case agreementMade
    case hoursLogged(date: Int32, hundredths: Int16, area: Int16, served: Int16, activity: UInt8)
    case agreementEnded(date: Int32, early: Bool)

    var typeCode: UInt16 {
        switch self {
        case .caseOpened: EventType.caseOpened.code
        case .caseAssigned: EventType.caseAssigned.code
        case .consentGiven: EventType.consentGiven.code
        case .consentWithdrawn: EventType.consentWithdrawn.code
        case .referralMade: EventType.referralMade.code
        case .referralAnswered: EventType.referralAnswered.code
        case .contactHeld: EventType.jobcenterContactHeld.code
        case .placementStarted: EventType.placementStarted.code
        case .placementEnded: EventType.placementEnded.code
        case .outcomeRecorded: EventType.outcomeRecorded.code
        case .caseClosed: EventType.caseClosed.code
        case .caseReopened: EventType.caseReopened.code
        case .retracted: EventType.eventRetracted.code
        case .residentErased: EventType.residentErased.code
        case .erasureRefused: EventType.erasureRefused.code
        case .agreementMade: EventType.hoursAgreementMade.code
        case .hoursLogged: EventType.sharedHoursLogged.code
        case .agreementEnded: EventType.hoursAgreementEnded.code
        }
    }
}

enum RetractionReason: UInt8 {
    case contactKind, answerReason, hours
}

/// A pending event with when it happened, the day it is recorded and who records it.
struct Step {
    var occurredAt: Int64
    var recordDay: Int32
    /// Liaison index; -1 for the case's liaison at the time.
    var actor: Int32
    var event: DemoEvent
}

/// How long after an event it is registered: mostly the same day, sometimes days or
/// weeks late, which is what "as known on" queries must show.
func registrationLag(_ rng: inout DemoRandom, outcome: Bool = false) -> Int32 {
    if outcome {
        switch rng.below(10) {
        case 0..<4: return 0
        case 4..<8: return Int32(rng.int(1...14))
        default: return Int32(rng.int(15...45))
        }
    }
    switch rng.below(50) {
    case 0..<31: return 0
    case 31..<41: return Int32(rng.int(1...3))
    case 41..<46: return Int32(rng.int(4...14))
    case 46..<49: return Int32(rng.int(15...30))
    default: return Int32(rng.int(31...60))
    }
}

/// Gives each step its record day: never before it occurred (an event after 16:00, when the
/// day's batch is recorded, waits for the next day), never before the stream's previous step,
/// so the stream's events enter the log in the order they happened.
func assignRecordDays(_ steps: inout [Step], _ rng: inout DemoRandom) {
    var last: Int32 = .min
    for i in steps.indices {
        let occurredDay = Int32(floorDivide(steps[i].occurredAt, dayMs))
        let late = steps[i].occurredAt - Int64(occurredDay) * dayMs > 16 * 3_600_000 ? Int32(1) : 0
        var isOutcome = false
        if case .outcomeRecorded = steps[i].event { isOutcome = true }
        let day = max(last, occurredDay + late + registrationLag(&rng, outcome: isOutcome))
        steps[i].recordDay = day
        last = day
    }
}

func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Inserts a correction after step `k`: the retraction of `k` and the corrected fact, both
/// recorded when the stream's next step is (or two days later if `k` is the last).
func insertCorrection(_ steps: inout [Step], after k: Int, corrected: DemoEvent, why: RetractionReason) {
    let recordDay = k + 1 < steps.count ? steps[k + 1].recordDay : steps[k].recordDay + 2
    let nine = Int64(recordDay) * dayMs + 9 * 3_600_000
    let retractAt = max(steps[k].occurredAt + 60_000, nine)
    let retraction = Step(occurredAt: retractAt, recordDay: recordDay, actor: steps[k].actor, event: .retracted(step: Int32(k), why: why))
    let fixed = Step(occurredAt: steps[k].occurredAt, recordDay: recordDay, actor: steps[k].actor, event: corrected)
    steps.insert(contentsOf: [retraction, fixed], at: k + 1)
}
