import Foundation

/// Checks the domain rules for each event of an append, inside the write transaction,
/// and keeps the rule state rows up to date as it goes, so that later events of the same
/// batch see earlier ones. If any check throws, the caller's transaction is aborted and
/// none of the batch (rows included) is written.
struct RuleEngine {
    let txn: Transaction
    let rules: Database
    let eventIDs: Database
    let events: Database
    let streams: Database
    /// Where case rows are kept: `streams` (beside the chunks, layout 3), or a scratch
    /// database when `verifyRules` derives them again to compare.
    let caseRows: Database
    /// Retractions replay their stream only from positions below this one: the position of
    /// the event being checked. In an append every indexed position is below it anyway; a
    /// replay of the whole log (`verifyRules`) has the later ones indexed too.
    var positionLimit: UInt64 = .max
    /// The rules boundaries (`EventStore.rulesBoundaries`): each later rule binds events at
    /// its boundary and after. Events before it were accepted without it, and replay
    /// (`verifyRules`, `rebuildRules`, a retraction's replay of its stream) checks them as
    /// they were checked then.
    let boundaries: RulesBoundaries
    /// Whether the event being checked is at or after `boundaries.datedRules`.
    private var newRules = true
    /// Whether the event being checked is at or after `boundaries.closeLapse`.
    private var closeLapseRule = true

    /// Clock skew tolerated between a client's occurred-at and the log's recorded-at.
    static let futureTolerance: Int64 = 5 * 60 * 1000
    static let maxTextLength = 4000

    init(txn: Transaction, rules: Database, eventIDs: Database, events: Database, streams: Database, caseRows: Database? = nil,
         boundaries: RulesBoundaries) {
        self.txn = txn
        self.boundaries = boundaries
        self.rules = rules
        self.eventIDs = eventIDs
        self.events = events
        self.streams = streams
        self.caseRows = caseRows ?? streams
    }

    /// Case rows this append has read or changed, by the batch-local number of their stream
    /// (the caller's `slot`, so a stream id is hashed once per event, not at every look-up).
    /// A batch touches each of its cases many times; the row is decoded once, checked and
    /// changed in memory, and written back once by `flush()`, instead of a get, decode,
    /// encode and put per event.
    private var slots: [CaseSlot] = []
    /// The slot of the event being checked.
    private var current = 0
    /// Registry rows (organisations, areas, liaisons) this append has found, so each is
    /// looked up in the B-tree once per batch rather than once per event that names it.
    /// For an organisation, its number (`RuleKey.organisationNumber`), read with the row.
    private var knownRows: [RegistryRow: OrganisationNumber] = [:]

    /// Writes back the case rows the batch changed. Call once, after the last `check`,
    /// inside the same transaction.
    mutating func flush() throws {
        for i in slots.indices where slots[i].changed {
            if let stream = slots[i].stream, let row = slots[i].row { try txn.put(caseRows, StreamIndex.caseRowKey(stream), row.bytes) }
            slots[i].changed = false
        }
    }

    /// Gives the slot of `stream` its case row, already read (`StreamTails.tailAndCaseRow`):
    /// nil when the stream has none. Only for rows kept in `streams`.
    mutating func preload(slot: Int, stream: StreamID, row: CaseRow?) {
        while slots.count <= slot { slots.append(CaseSlot()) }
        slots[slot].stream = stream
        slots[slot].row = row
        slots[slot].loaded = true
    }

    // MARK: - Checking one event

    /// Checks `e` and applies it to the rule state. `slot` numbers `e.stream` within the
    /// batch: the same number for every event of one stream, small and dense. `position` is
    /// the event's place in the log (the next one in an append), which decides whether the
    /// rules since each rules boundary bind it (`boundaries`).
    mutating func check(_ e: ProposedEvent, slot: Int, position: UInt64, recordedAt: Timestamp, now: Timestamp) throws {
        newRules = position >= boundaries.datedRules
        closeLapseRule = position >= boundaries.closeLapse
        while slots.count <= slot { slots.append(CaseSlot()) }
        if slots[slot].stream == nil { slots[slot].stream = e.stream }
        current = slot
        let type = e.payload.type
        if let category = type.category {
            guard Self.stream(e.stream, isIn: category) else {
                let expected = category == "registry" ? "'registry'" : "'\(category)-<id>'"
                throw violation(.wrongStream, "a \(type.name) event belongs in a stream named \(expected), not '\(e.stream)'")
            }
        }
        guard e.occurredAt.millisecondsSinceEpoch <= recordedAt.millisecondsSinceEpoch + Self.futureTolerance else {
            throw violation(.futureDate, "occurred-at \(e.occurredAt) is in the future (the log records it at \(recordedAt)); record events after they happen")
        }
        guard e.occurredAt >= Timestamp(CalendarDate(year: 1900, month: 1, day: 1)!) else {
            throw violation(.invalidValue, "occurred-at \(e.occurredAt) is before 1900; check the date")
        }
        let day = e.occurredAt.date

        switch e.payload {
        case .organisationRegistered(let p):
            try identifier(p.organisationId, "organisation id")
            try text(p.name, "name", required: true)
            try text(p.municipality, "municipality", required: true)
            guard try get(RuleKey.organisation(p.organisationId)) == nil else {
                throw violation(.alreadyRegistered, "organisation '\(p.organisationId)' is already registered")
            }
            try put(RuleKey.organisation(p.organisationId), [UInt8(OrganisationKind.allCases.firstIndex(of: p.kind)!), UInt8(Sector.allCases.firstIndex(of: p.sector)!)])
            try Self.number(organisation: p.organisationId, txn, rules)

        case .housingAreaRegistered(let p):
            try identifier(p.areaId, "area id")
            try text(p.name, "name", required: true)
            try text(p.plan, "plan", required: true)
            try knownOrganisation(p.municipality)
            for o in p.housingOrganisations { try knownOrganisation(o) }
            guard p.planFrom <= p.planTo else {
                throw violation(.dateOrder, "the plan period of area '\(p.areaId)' ends (\(p.planTo.danish)) before it starts (\(p.planFrom.danish))")
            }
            guard try get(RuleKey.area(p.areaId)) == nil else {
                throw violation(.alreadyRegistered, "housing area '\(p.areaId)' is already registered")
            }
            try put(RuleKey.area(p.areaId), [])

        case .liaisonRegistered(let p):
            try identifier(p.liaisonId, "liaison id")
            try text(p.name, "name", required: true)
            try knownOrganisation(p.organisationId)
            guard try get(RuleKey.liaison(p.liaisonId)) == nil else {
                throw violation(.alreadyRegistered, "liaison '\(p.liaisonId)' is already registered")
            }
            try put(RuleKey.liaison(p.liaisonId), Array(p.organisationId.utf8))

        case .targetGroupDefined(let p):
            try identifier(p.code, "target group code")
            try text(p.label, "label", required: true)
            if let to = p.effectiveTo, to < p.effectiveFrom {
                throw violation(.dateOrder, "target group '\(p.code)' ends (\(to.danish)) before it takes effect (\(p.effectiveFrom.danish))")
            }
            var ranges = try targetGroupRanges(p.code)
            if newRules, let other = ranges.first(where: { r in
                (p.effectiveTo.map { r.from <= $0 } ?? true) && (r.to.map { p.effectiveFrom <= $0 } ?? true)
            }) {
                throw violation(.targetGroupOverlap, "target group '\(p.code)' is already defined \(Self.period(other.from, other.to)), which overlaps \(Self.period(p.effectiveFrom, p.effectiveTo)); define the new period from the day after the old one ends, or retract the old definition (`referral retract`) first")
            }
            ranges.append((p.effectiveFrom, p.effectiveTo, uuidKey(e.id)))
            try putTargetGroupRanges(p.code, ranges)

        case .caseOpened(let p):
            guard try !loadCase() else {
                throw violation(.caseAlreadyExists, "case '\(e.stream.entityID)' already exists; pick a new case id or reopen it with `referral reopen`")
            }
            try knownArea(p.areaId)
            try knownOrganisation(p.organisationId)
            try knownLiaison(p.liaisonId)
            let ranges = try targetGroupRanges(p.targetGroup)
            guard !ranges.isEmpty else {
                throw violation(.unknownTargetGroup, "target group '\(p.targetGroup)' is not defined; define it in the registry first")
            }
            guard ranges.contains(where: { $0.from <= day && ($0.to.map { day <= $0 } ?? true) }) else {
                let periods = ranges.map { "from \($0.from.danish)" + ($0.to.map { " to \($0.danish)" } ?? "") }
                throw violation(.unknownTargetGroup, "target group '\(p.targetGroup)' is not in effect on \(day.danish) (it is \(periods.joined(separator: ", "))); choose one in effect that day (`referral registry list target-groups`)")
            }
            if let sealed = p.personalData, sealed.combined.count > 16_384 {
                throw violation(.invalidValue, "sealed personal data is \(sealed.combined.count) bytes; at most 16384 are allowed")
            }
            try putCase(.opened(on: day))

        // The case events below check against the case's cached row, in its stored form
        // (`CaseRow`), and change it in place at the end (`changeCase`), after every check.
        case .caseAssigned(let p):
            try requireCase(e, open: true)
            try knownLiaison(p.liaisonId)
            try text(p.reason, "reason")

        case .consentGiven(let p):
            try requireCase(e, open: true)
            try identifier(p.consentId, "consent id")
            guard !p.parties.isEmpty else { throw violation(.invalidValue, "consent '\(p.consentId)' names no parties; name at least one organisation") }
            guard !p.purposes.isEmpty else { throw violation(.invalidValue, "consent '\(p.consentId)' names no purposes") }
            var parties: [OrganisationNumber] = []
            parties.reserveCapacity(p.parties.count)
            for o in p.parties { parties.append(try knownOrganisation(o)) }
            if let until = p.validUntil, until < day {
                throw violation(.dateOrder, "consent '\(p.consentId)' is valid until \(until.danish), before it was given (\(day.danish))")
            }
            guard try row().consentFlags(p.consentId) == nil else {
                throw violation(.alreadyRegistered, "consent '\(p.consentId)' already exists in case '\(e.stream.entityID)'; use a new consent id")
            }
            try changeCase { try $0.addConsent(id: p.consentId, parties: parties, purposes: p.purposes, validUntil: p.validUntil, givenOn: day) }

        case .consentWithdrawn(let p):
            try requireCase(e, open: false)
            try text(p.reason, "reason")
            guard let flags = try row().consentFlags(p.consentId) else {
                throw violation(.unknownConsent, "case '\(e.stream.entityID)' has no consent '\(p.consentId)'")
            }
            guard row().byte(at: flags) & 1 == 0 else {
                throw violation(.unknownConsent, "consent '\(p.consentId)' in case '\(e.stream.entityID)' is already withdrawn or lapsed")
            }
            if newRules {
                let given = try row().consentGivenOn(flagsAt: flags)
                guard day >= given else {
                    throw violation(.dateOrder, "consent '\(p.consentId)' cannot be withdrawn on \(day.danish), before it was given (\(given.danish)); check the date")
                }
            }
            try changeCase { try $0.lapseConsent(flagsAt: flags, on: day) }

        case .referralMade(let p):
            try requireCase(e, open: true)
            try identifier(p.referralId, "referral id")
            try text(p.reason, "reason", required: true)
            try knownOrganisation(p.fromOrganisation)
            let to = try knownOrganisation(p.toOrganisation)
            try knownLiaison(p.decidedBy)
            guard try row().referral(p.referralId) == nil else {
                throw violation(.alreadyRegistered, "referral '\(p.referralId)' already exists in case '\(e.stream.entityID)'")
            }
            guard try row().covers(party: to, purpose: .referral, on: day, byDays: newRules) else {
                throw violation(.consentRequired, "no valid consent in case '\(e.stream.entityID)' covers referral to '\(p.toOrganisation)' on \(day.danish); record the resident's consent for that party and the purpose 'referral' first")
            }
            try changeCase { try $0.addReferral(p.referralId, madeOn: day) }

        case .referralAnswered(let p):
            try requireCase(e, open: false)
            try text(p.reason, "reason")
            guard let answered = try row().referral(p.referralId) else {
                throw violation(.unknownReferral, "case '\(e.stream.entityID)' has no referral '\(p.referralId)'")
            }
            guard row().byte(at: answered) == 0 else { throw violation(.referralAlreadyAnswered, "referral '\(p.referralId)' has already been answered") }
            if newRules {
                let made = try row().date(at: answered + 1)
                guard day >= made else {
                    throw violation(.dateOrder, "referral '\(p.referralId)' cannot be answered on \(day.danish), before it was made (\(made.danish)); check the date")
                }
            }
            changeCase { $0.setByte(1, at: answered) }

        case .jobcenterContactHeld(let p):
            try requireCase(e, open: true)
            try knownOrganisation(p.jobcenter)
            if let r = p.referralId, try row().referral(r) == nil {
                throw violation(.unknownReferral, "case '\(e.stream.entityID)' has no referral '\(r)'")
            }
            if p.contactKind == .first {
                guard !newRules || !row().has(CaseFlags.firstContact) else {
                    throw violation(.firstContactAlreadyHeld, "case '\(e.stream.entityID)' has had its first jobcenter contact; record this one as a follow-up (or retract the first one if it was recorded by mistake)")
                }
                changeCase { $0.setFlags(CaseFlags.firstContact, true) }
            }

        case .placementStarted(let p):
            try requireCase(e, open: true)
            try identifier(p.placementId, "placement id")
            try knownOrganisation(p.employer)
            guard try row().placement(p.placementId) == nil else {
                throw violation(.placementAlreadyStarted, "placement '\(p.placementId)' has already started in case '\(e.stream.entityID)'")
            }
            if let end = p.plannedEndDate, end < p.startDate {
                throw violation(.dateOrder, "placement '\(p.placementId)' is planned to end (\(end.danish)) before it starts (\(p.startDate.danish))")
            }
            try weeklyHours(p.hoursPerWeek, "hours a week of placement '\(p.placementId)'")
            if let r = p.referralId, try row().referral(r) == nil {
                throw violation(.unknownReferral, "case '\(e.stream.entityID)' has no referral '\(r)'")
            }
            try changeCase { try $0.addPlacement(p.placementId, start: p.startDate) }

        case .placementEnded(let p):
            try requireCase(e, open: false)
            guard let at = try row().placement(p.placementId) else {
                throw violation(.placementNotStarted, "placement '\(p.placementId)' never started in case '\(e.stream.entityID)'; a placement can only end if it started")
            }
            guard row().byte(at: at + 4) == 0 else { throw violation(.placementAlreadyEnded, "placement '\(p.placementId)' has already ended") }
            let start = try row().date(at: at)
            guard p.endDate >= start else {
                throw violation(.dateOrder, "placement '\(p.placementId)' cannot end (\(p.endDate.danish)) before it started (\(start.danish))")
            }
            guard !newRules || p.endDate <= recordedAt.date else {
                throw violation(.futureDate, "placement '\(p.placementId)' ends on \(p.endDate.danish), in the future; record the end when the placement has ended")
            }
            changeCase { $0.setByte(1, at: at + 4) }

        case .outcomeRecorded(let p):
            try requireCase(e, open: false)
            guard [1, 3, 6, 12].contains(p.monthsAfterClose) else {
                throw violation(.invalidValue, "outcomes are recorded 1, 3, 6 or 12 months after close, not \(p.monthsAfterClose)")
            }
            guard !row().open else {
                throw violation(.caseMustBeClosed, "case '\(e.stream.entityID)' is open; outcomes are recorded after a case closes")
            }
            if let mark = CaseFlags.outcome(p.monthsAfterClose) {
                guard !newRules || !row().has(mark) else {
                    throw violation(.outcomeAlreadyRecorded, "the outcome \(p.monthsAfterClose) months after close is already recorded for case '\(e.stream.entityID)' since it last closed; retract that one first to correct it")
                }
                changeCase { $0.setFlags(mark, true) }
            }

        case .caseClosed(let p):
            try requireCase(e, open: true)
            try text(p.reason, "reason", required: true)
            let earliestLapse = closeLapseRule
            try changeCase { row in
                row.setOpen(false)
                row.setLastClosedOn(day)
                try row.lapseAllConsents(on: day, earliestLapse: earliestLapse)
            }

        case .caseReopened(let p):
            try requireCase(e, open: false)
            try text(p.reason, "reason", required: true)
            guard !row().open else { throw violation(.caseMustBeClosed, "case '\(e.stream.entityID)' is already open") }
            if newRules {
                let closed = try row().lastClosedOn
                guard day >= closed else {
                    throw violation(.dateOrder, "case '\(e.stream.entityID)' cannot be reopened on \(day.danish), before it closed (\(closed.danish)); check the date")
                }
            }
            // Outcomes are counted from the next close.
            changeCase { row in
                row.setOpen(true)
                row.setFlags(CaseFlags.outcomes, false)
            }

        case .hoursAgreementMade(let p):
            try identifier(p.agreementId, "agreement id")
            try text(p.employee, "employee", required: true)
            guard e.stream.entityID == p.agreementId else {
                throw violation(.wrongStream, "agreement '\(p.agreementId)' belongs in stream 'agreement-\(p.agreementId)', not '\(e.stream)'")
            }
            guard try get(RuleKey.agreement(e.stream)) == nil else {
                throw violation(.agreementExists, "agreement '\(p.agreementId)' already exists")
            }
            try knownOrganisation(p.payingOrganisation)
            for o in p.servedOrganisations { try knownOrganisation(o) }
            for a in p.servedAreas { try knownArea(a) }
            try weeklyHours(p.hoursPerWeek, "hours a week of agreement '\(p.agreementId)'")
            if let to = p.validTo, to < p.validFrom {
                throw violation(.dateOrder, "agreement '\(p.agreementId)' ends (\(to.danish)) before it starts (\(p.validFrom.danish))")
            }
            try put(RuleKey.agreement(e.stream), AgreementRuleState(validFrom: p.validFrom, validTo: p.validTo, endedOn: nil).encoded())

        case .sharedHoursLogged(let p):
            let agreement = try existingAgreement(e)
            try text(p.activity, "activity")
            if let a = p.areaId { try knownArea(a) }
            if let o = p.servedOrganisation { try knownOrganisation(o) }
            guard p.hours.hundredths > 0, p.hours.hundredths <= 2400 else {
                throw violation(.hoursOutOfRange, "\(p.hours) hours on \(p.date.danish): hours must be more than 0 and at most 24 a day")
            }
            guard p.date <= recordedAt.date else {
                throw violation(.futureDate, "hours for \(p.date.danish) are in the future; log hours after they are spent")
            }
            guard p.date >= agreement.validFrom, (agreement.validTo.map { p.date <= $0 } ?? true) else {
                throw violation(.dateOrder, "\(p.date.danish) is outside agreement '\(e.stream.entityID)' (from \(agreement.validFrom.danish)\(agreement.validTo.map { " to " + $0.danish } ?? ""))")
            }
            if let ended = agreement.endedOn, p.date > ended {
                throw violation(.agreementEnded, "agreement '\(e.stream.entityID)' ended on \(ended.danish); no hours can be logged after that")
            }
            let key = RuleKey.dailyHours(e.stream, p.date)
            let before = try get(key).map { try decodeHours($0) } ?? .zero
            let total = before + p.hours
            guard total.hundredths <= 2400 else {
                throw violation(.hoursOutOfRange, "\(p.hours) more hours on \(p.date.danish) would make \(total) hours that day under agreement '\(e.stream.entityID)'; at most 24 a day")
            }
            var w = BinaryWriter(capacity: 4)
            w.hours(total)
            try put(key, w.bytes)

        case .hoursAgreementEnded(let p):
            var agreement = try existingAgreement(e)
            try text(p.reason, "reason")
            guard agreement.endedOn == nil else { throw violation(.agreementEnded, "agreement '\(e.stream.entityID)' has already ended") }
            guard p.endDate >= agreement.validFrom else {
                throw violation(.dateOrder, "agreement '\(e.stream.entityID)' cannot end (\(p.endDate.danish)) before it starts (\(agreement.validFrom.danish))")
            }
            agreement.endedOn = p.endDate
            try put(RuleKey.agreement(e.stream), agreement.encoded())

        case .eventRetracted(let p):
            try text(p.reason, "reason", required: true)
            try retract(p.retractedEventId, in: e.stream)

        case .residentErased(let p):
            try residentStream(e, p.resident)
            try text(p.reason, "reason", required: true)
            try text(p.legalBasis, "legal basis", required: true)

        case .erasureRefused(let p):
            try residentStream(e, p.resident)
            try text(p.reason, "reason", required: true)
            try text(p.legalBasis, "legal basis", required: true)
        }
    }

    // MARK: - Retractions

    /// Marks `id` retracted and rebuilds the rule state it contributed to.
    private mutating func retract(_ id: UUID, in stream: StreamID) throws {
        guard let posBytes = try txn.get(eventIDs, uuidKey(id)) else {
            throw violation(.unknownEvent, "there is no event \(id.uuidString.lowercased()) to retract")
        }
        let pos = readBigEndian(posBytes)
        guard let record = try txn.get(events, bigEndianKey(pos)) else {
            throw LogError.corrupt("the id index names position \(pos), which is not in the log", position: pos)
        }
        let target = try EventView(checking: record).decode()
        guard target.stream == stream else {
            throw violation(.wrongStream, "event \(id.uuidString.lowercased()) is in stream '\(target.stream)'; append its retraction to that stream")
        }
        if case .eventRetracted = target.payload {
            throw violation(.invalidValue, "event \(id.uuidString.lowercased()) is itself a retraction; record the fact anew instead of retracting a retraction")
        }
        guard try get(RuleKey.retracted(uuidKey(id))) == nil else {
            throw violation(.alreadyRetracted, "event \(id.uuidString.lowercased()) at position \(pos) has already been retracted")
        }
        try put(RuleKey.retracted(uuidKey(id)), bigEndianKey(pos))

        switch target.payload {
        case .organisationRegistered(let p): try forgetRow(.organisation, p.organisationId)
        case .housingAreaRegistered(let p): try forgetRow(.area, p.areaId)
        case .liaisonRegistered(let p): try forgetRow(.liaison, p.liaisonId)
        case .targetGroupDefined(let p):
            try putTargetGroupRanges(p.code, try targetGroupRanges(p.code).filter { $0.event != uuidKey(id) })
        case .sharedHoursLogged(let p):
            try rebuildDailyHours(p.date, in: stream)
        case .caseAssigned:
            // Its checks read the case's rule state but change nothing in it, so replaying
            // the stream without one gives every later event the state it had and ends in the
            // state there is now: the replay is skipped.
            break
        case .jobcenterContactHeld(let p) where p.contactKind == .followUp:
            // Likewise (a first contact sets the case's first-contact flag; a follow-up
            // changes nothing). In the demo data more than half of the retractions are of
            // contacts, and a replay costs the whole stream's events.
            break
        default:
            if stream.category == "case" || stream.category == "agreement" { try rebuildStreamState(stream) }
        }
    }

    /// Replays one case or agreement stream (without retracted events) into fresh rule rows.
    private mutating func rebuildStreamState(_ stream: StreamID) throws {
        var replay: [RecordedEvent] = []
        try txn.forEachStreamPosition(streams, stream) { _, pos in
            guard pos < positionLimit else { return false }
            guard let record = try txn.get(events, bigEndianKey(pos)) else { return true }
            let event = try EventView(checking: record).decode()
            if try get(RuleKey.retracted(uuidKey(event.id))) == nil { replay.append(event) }
            return true
        }
        // The cached row (possibly changed earlier in this batch) goes with the stored one:
        // the replay below derives it again, this batch's earlier events included.
        slots[current].row = nil
        slots[current].loaded = true
        slots[current].changed = false
        try txn.delete(caseRows, StreamIndex.caseRowKey(stream))
        try txn.delete(rules, RuleKey.agreement(stream))
        var hourKeys: [[UInt8]] = []
        let hoursPrefix = RuleKey.dailyHoursPrefix(stream)
        try txn.forEach(rules, from: hoursPrefix) { key, _ in
            guard key.starts(with: hoursPrefix) else { return false }
            hourKeys.append(Array(key))
            return true
        }
        for k in hourKeys { try txn.delete(rules, k) }
        try replayTolerantly(replay)
    }

    /// Checks `events` again, in order, into the rule rows. A stream that was valid stays
    /// valid without a retracted event, except where a later event depended on it: that
    /// event's refusal is tolerated here, since it is in the log already (see
    /// docs/domain-rules.md). Any other failure (a storage error, a full map that must grow)
    /// still propagates and aborts the append.
    private mutating func replayTolerantly(_ events: [RecordedEvent]) throws {
        // The replay sets `newRules` and `closeLapseRule` for each replayed event; the
        // retraction's own are kept.
        let retractionsRules = (newRules, closeLapseRule)
        defer { (newRules, closeLapseRule) = retractionsRules }
        for event in events {
            if case .eventRetracted = event.payload { continue }
            let proposed = ProposedEvent(id: event.id, stream: event.stream, payload: event.payload, occurredAt: event.envelope.occurredAt,
                                         actor: event.envelope.actor, organisation: event.envelope.organisation)
            do {
                // At its own position: an event before a rules boundary is checked as it was
                // when it was appended.
                try check(proposed, slot: current, position: event.position, recordedAt: event.envelope.recordedAt, now: event.envelope.recordedAt)
            } catch let error as LogError where error.code == .ruleViolation {
                continue
            }
        }
    }

    /// Replays the hours logged on `day` under agreement `stream` (without retracted events)
    /// into that day's row, for a retracted hour log.
    ///
    /// Nothing else in the stream's rule state depends on an hour log: not the agreement's
    /// row (made and ended by its own events), not another day's total. So this gives the
    /// rows a replay of the whole stream gives, checking the day's few logs instead of every
    /// event of an agreement that logs hours most days for years.
    private mutating func rebuildDailyHours(_ day: CalendarDate, in stream: StreamID) throws {
        var sameDay: [RecordedEvent] = []
        try txn.forEachStreamPosition(streams, stream) { _, pos in
            guard pos < positionLimit else { return false }
            guard let record = try txn.get(events, bigEndianKey(pos)) else { return true }
            let view = try EventView(checking: record)
            guard view.typeCode == EventType.sharedHoursLogged.code,
                  try view.decode(SharedHoursLogged.self).date == day,
                  try get(RuleKey.retracted(uuidKey(view.id))) == nil else { return true }
            sameDay.append(try view.decode())
            return true
        }
        try txn.delete(rules, RuleKey.dailyHours(stream, day))
        try replayTolerantly(sameDay)
    }

    // MARK: - Helpers

    /// Whether `stream` is `registry` (for the registry's category) or `<category>-<id>` with
    /// a non-empty id. Compares UTF-8 bytes: slicing the stream id into a category and an id
    /// cost more than the rest of a typical event's checks.
    static func stream(_ stream: StreamID, isIn category: String) -> Bool {
        if category == "registry" { return stream.rawValue == "registry" }
        // Over the contiguous UTF-8 of both (native strings): the generic UTF8View walk cost
        // about 500 instructions an event.
        if let fast = stream.rawValue.utf8.withContiguousStorageIfAvailable({ s in
            category.utf8.withContiguousStorageIfAvailable { c in
                guard s.count > c.count + 1, let sp = s.baseAddress, let cp = c.baseAddress else { return false }
                return memcmp(sp, cp, c.count) == 0 && s[c.count] == UInt8(ascii: "-")
            }
        }), let result = fast { return result }
        let s = stream.rawValue.utf8, c = category.utf8
        guard s.count > c.count + 1, s.starts(with: c) else { return false }
        return s[s.index(s.startIndex, offsetBy: c.count)] == UInt8(ascii: "-")
    }

    private func violation(_ rule: DomainRule, _ message: String) -> LogError {
        var e = LogError(.ruleViolation, message)
        e.rule = rule
        return e
    }

    private func get(_ key: [UInt8]) throws -> UnsafeRawBufferPointer? { try txn.get(rules, key) }
    private func put(_ key: [UInt8], _ value: [UInt8]) throws { try txn.put(rules, key, value) }

    private func identifier(_ value: String, _ field: String) throws {
        guard !value.isEmpty else { throw violation(.invalidValue, "the \(field) is empty") }
        guard value.utf8.count <= 100 else { throw violation(.invalidValue, "the \(field) '\(value.prefix(20))…' is longer than 100 bytes") }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) || !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
            throw violation(.invalidValue, "the \(field) '\(value)' contains spaces or control characters; use letters, digits and '-'")
        }
    }

    private func text(_ value: String, _ field: String, required: Bool = false) throws {
        // A visible ASCII character settles it without walking grapheme clusters.
        if required, !value.utf8.contains(where: { $0 > 0x20 && $0 < 0x7F }), value.allSatisfy(\.isWhitespace) {
            throw violation(.invalidValue, field == "reason" ? "the reason is empty; say why" : "the \(field) is empty; give one")
        }
        guard value.utf8.count <= Self.maxTextLength else {
            throw violation(.invalidValue, "the \(field) is \(value.utf8.count) bytes; at most \(Self.maxTextLength) are allowed")
        }
    }

    private func weeklyHours(_ h: Hours, _ what: String) throws {
        guard h.hundredths > 0, h.hundredths <= 16800 else {
            throw violation(.hoursOutOfRange, "\(what) is \(h); hours must be more than 0 and at most 24 a day (168 a week)")
        }
    }

    /// Whether a registry row exists, remembering rows found for the rest of the batch: nil
    /// if it does not; for an organisation, its number (0 for other rows).
    private mutating func lookUp(_ kind: RegistryRow.Kind, _ id: String) throws -> OrganisationNumber? {
        // Looked up by kind and String (hashed in bulk) before any key bytes are built.
        let row = RegistryRow(kind: kind, id: id)
        if let known = knownRows[row] { return known }
        guard try get(row.key) != nil else { return nil }
        var number: OrganisationNumber = 0
        if kind == .organisation {
            guard let raw = try get(RuleKey.organisationNumber(id)), let n = RuleKey.organisationNumber(stored: raw) else {
                throw LogError.corrupt("organisation '\(id)' is registered but has no number in the rule rows; rebuild them (`referral rebuild --rules`)")
            }
            number = n
        }
        knownRows[row] = number
        return number
    }

    /// Deletes a registry row (a retracted registration) and forgets that it was found. An
    /// organisation's number stays.
    private mutating func forgetRow(_ kind: RegistryRow.Kind, _ id: String) throws {
        let row = RegistryRow(kind: kind, id: id)
        knownRows[row] = nil
        try txn.delete(rules, row.key)
    }

    /// Throws unless organisation `id` is registered; returns its number.
    @discardableResult
    private mutating func knownOrganisation(_ id: String) throws -> OrganisationNumber {
        guard let number = try lookUp(.organisation, id) else {
            throw violation(.unknownOrganisation, "organisation '\(id)' is not registered; register it first (`referral registry add-organisation`) or check the spelling")
        }
        return number
    }

    /// Gives organisation `id` the next number unless it has one (a registration retracted
    /// and made again keeps its first number, so the consents that name it still do), and
    /// returns its number. Numbers count up from 1 in the order organisations are first
    /// registered: a replay of the log (`verifyRules`, `EventStore.numberOrganisations`)
    /// gives the same ones.
    @discardableResult
    static func number(organisation id: String, _ txn: Transaction, _ rules: Database) throws -> OrganisationNumber {
        let key = RuleKey.organisationNumber(id)
        if let raw = try txn.get(rules, key), let known = RuleKey.organisationNumber(stored: raw) { return known }
        let cursor = try txn.cursor(rules)
        defer { cursor.close() }
        let lastKey = RuleKey.organisation(numbered: .max)
        let last = try lastKey.withUnsafeBytes { try cursor.last(atOrBefore: $0) }
        var next: UInt32 = 1
        if let last, last.key.count == lastKey.count, last.key.starts(with: lastKey.prefix(2)) {
            let n = UInt32(bigEndian: last.key.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            guard n < .max else { throw LogError(.storage, "the store has numbered \(n) organisations, the most it can") }
            next = n + 1
        }
        try txn.put(rules, key, withUnsafeBytes(of: next.bigEndian) { Array($0) })
        try txn.put(rules, RuleKey.organisation(numbered: next), Array(id.utf8))
        return OrganisationNumber(next)
    }

    private mutating func knownArea(_ id: String) throws {
        guard try lookUp(.area, id) != nil else {
            throw violation(.unknownArea, "housing area '\(id)' is not registered; register it first or check the spelling")
        }
    }

    private mutating func knownLiaison(_ id: String) throws {
        guard try lookUp(.liaison, id) != nil else {
            throw violation(.unknownLiaison, "liaison '\(id)' is not registered; register them first or check the spelling")
        }
    }

    private func residentStream(_ e: ProposedEvent, _ resident: Pseudonym) throws {
        guard e.stream == .resident(resident) else {
            throw violation(.wrongStream, "an erasure decision about \(resident) belongs in stream 'resident-\(resident.hex)'")
        }
    }

    /// Reads the case's row into its slot once per append; true if the case exists.
    private mutating func loadCase() throws -> Bool {
        if !slots[current].loaded, let stream = slots[current].stream {
            slots[current].row = try txn.get(caseRows, StreamIndex.caseRowKey(stream)).map { try CaseRow(stored: $0) }
            slots[current].loaded = true
        }
        return slots[current].row != nil
    }

    /// Loads the case's row into the cache; throws unless the case exists (and, with
    /// `open`, is open).
    private mutating func requireCase(_ e: ProposedEvent, open: Bool) throws {
        guard try loadCase() else {
            throw violation(.caseMustExist, "case '\(e.stream.entityID)' does not exist; open it first or check the case id")
        }
        guard !open || slots[current].row?.open == true else {
            throw violation(.caseMustBeOpen, "case '\(e.stream.entityID)' is closed; reopen it before recording a \(e.payload.type.name)")
        }
        if newRules {
            let opened = try row().openedOn
            guard e.occurredAt.date >= opened else {
                throw violation(.dateOrder, "the \(e.payload.type.name) is dated \(e.occurredAt.date.danish), before case '\(e.stream.entityID)' was opened (\(opened.danish)); check the date")
            }
        }
    }

    /// The cached row of a case `requireCase` has loaded.
    private func row() -> CaseRow { slots[current].row ?? .opened(on: CalendarDate(daysSinceEpoch: 0)) }

    /// A target group's period in words, for a refusal.
    private static func period(_ from: CalendarDate, _ to: CalendarDate?) -> String {
        "from \(from.danish)" + (to.map { " to \($0.danish)" } ?? " on")
    }

    /// Changes the cached row of a case `requireCase` has loaded, in place, after every check
    /// has passed; `flush()` writes it.
    private mutating func changeCase(_ change: (inout CaseRow) throws -> Void) rethrows {
        if slots[current].row != nil { try change(&slots[current].row!) }
        slots[current].changed = true
    }

    private mutating func putCase(_ row: CaseRow) throws {
        slots[current].row = row
        slots[current].loaded = true
        slots[current].changed = true
    }

    private func existingAgreement(_ e: ProposedEvent) throws -> AgreementRuleState {
        guard let raw = try get(RuleKey.agreement(e.stream)) else {
            throw violation(.unknownAgreement, "agreement '\(e.stream.entityID)' does not exist; make the agreement first")
        }
        return try AgreementRuleState(decoding: raw)
    }

    private func targetGroupRanges(_ code: String) throws -> [(from: CalendarDate, to: CalendarDate?, event: [UInt8])] {
        guard let raw = try get(RuleKey.targetGroup(code)) else { return [] }
        var r = BinaryReader(raw)
        return try r.array { r in (try r.date(), try r.optional { try $0.date() }, Array(try r.bytes(16))) }
    }

    private func putTargetGroupRanges(_ code: String, _ ranges: [(from: CalendarDate, to: CalendarDate?, event: [UInt8])]) throws {
        var w = BinaryWriter()
        w.array(ranges) { w, r in w.date(r.from); w.optional(r.to) { $0.date($1) }; w.raw(r.event) }
        try put(RuleKey.targetGroup(code), w.bytes)
    }

    private func decodeHours(_ raw: UnsafeRawBufferPointer) throws -> Hours {
        var r = BinaryReader(raw)
        return try r.hours()
    }
}

/// One stream's case row as an append holds it.
private struct CaseSlot {
    var stream: StreamID?
    /// The row; nil when the stream has no case row (yet).
    var row: CaseRow?
    /// Whether `row` has been read from the store (a nil `row` then means "no row").
    var loaded = false
    /// Whether `row` differs from the stored row.
    var changed = false
}

/// A registry row (organisation, area or liaison) an append has found.
private struct RegistryRow: Hashable {
    enum Kind: Hashable { case organisation, area, liaison }
    var kind: Kind
    var id: String

    var key: [UInt8] {
        switch kind {
        case .organisation: RuleKey.organisation(id)
        case .area: RuleKey.area(id)
        case .liaison: RuleKey.liaison(id)
        }
    }
}
