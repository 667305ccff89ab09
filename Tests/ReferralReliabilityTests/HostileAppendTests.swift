import Foundation
import ReferralEvents
import Testing

/// Issue 6.4 at the append boundary (where the JSON import ends up): hostile events in a
/// batch are refused with a clear error and nothing of the batch is written.
@Suite struct HostileAppendTests {
    let dir: TempDirectory
    let store: EventStore

    init() throws {
        dir = try TempDirectory("hostile")
        store = try EventStore(at: dir.sub("store"), create: true, durable: false, clock: { Samples.now })
        try store.append(Samples.registry)
    }

    static let hugeText = String(repeating: "x", count: 1 << 20)
    static let longText = String(repeating: "æ", count: 2_500)  // 5,000 bytes: over the 4,000-byte limit
    static let longID = String(repeating: "a", count: 101)
    static let outOfRangeDates = [CalendarDate(daysSinceEpoch: .min), CalendarDate(daysSinceEpoch: .max),
                                  CalendarDate(year: 1900, month: 1, day: 1)!.adding(days: -1), CalendarDate(year: 2199, month: 12, day: 31)!.adding(days: 1)]
    static let badIDs = ["", "has space", "tab\there", "nul\u{0}byte", longID, hugeText]

    /// A batch that sets up, in fresh streams numbered `n`, what an event of `type` needs, then
    /// the event itself built by `last` from a valid template (the prerequisites' ids given).
    static func batch(_ type: EventType, _ n: Int, _ last: (EventPayload, [UUID]) -> EventPayload = { p, _ in p }) -> [ProposedEvent] {
        let c = StreamID.case("F\(n)"), a = StreamID.agreement("F\(n)")
        let day = Samples.day
        let opened = Samples.event(c, .caseOpened(.init(resident: Pseudonym(high: UInt64(n), low: 7), areaId: "nord", organisationId: "secretariat",
                                                        liaisonId: "lis-01", targetGroup: "jobparat", ageBand: .from30to39, gender: .male)))
        let consent = Samples.event(c, .consentGiven(.init(consentId: "K1", parties: ["jobcenter", "grocer"], purposes: [.referral, .informationSharing], form: .oral, validUntil: day.adding(days: 200))))
        let referral = Samples.event(c, .referralMade(.init(referralId: "R1", kind: .workPlacement, fromOrganisation: "secretariat", toOrganisation: "jobcenter", reason: "Praktik", decidedBy: "lis-01")))
        let closed = Samples.event(c, .caseClosed(.init(reason: "Afsluttet")))
        let started = Samples.event(c, .placementStarted(.init(placementId: "P1", kind: .workPlacement, employer: "grocer", startDate: day, plannedEndDate: day.adding(days: 28), hoursPerWeek: Hours(hundredths: 3000))))
        let agreement = Samples.event(a, .hoursAgreementMade(.init(agreementId: "F\(n)", employee: "MK", payingOrganisation: "jobcenter", servedOrganisations: ["secretariat"], servedAreas: ["nord"], hoursPerWeek: Hours(hundredths: 1850), validFrom: CalendarDate(year: 2024, month: 1, day: 1)!, validTo: nil)))
        let resident = Pseudonym(high: 99, low: UInt64(n))

        let prerequisites: [ProposedEvent]
        let template: EventPayload
        var stream = c
        switch type {
        case .organisationRegistered:
            prerequisites = []; stream = .registry
            template = .organisationRegistered(.init(organisationId: "org-\(n)", name: "Ny partner", kind: .civilSociety, sector: .other, municipality: "Fredericia"))
        case .housingAreaRegistered:
            prerequisites = []; stream = .registry
            template = .housingAreaRegistered(.init(areaId: "area-\(n)", name: "Syd", municipality: "kommune", housingOrganisations: ["boligkontoret"], plan: "Plan", planFrom: day, planTo: day.adding(days: 1000)))
        case .liaisonRegistered:
            prerequisites = []; stream = .registry
            template = .liaisonRegistered(.init(liaisonId: "lis-\(n)", name: "Ny medarbejder", organisationId: "jobcenter"))
        case .targetGroupDefined:
            prerequisites = []; stream = .registry
            template = .targetGroupDefined(.init(code: "tg-\(n)", label: "Aktivitetsparat", effectiveFrom: day, effectiveTo: nil))
        case .caseOpened:
            prerequisites = []
            template = opened.payload
        case .caseAssigned:
            prerequisites = [opened]
            template = .caseAssigned(.init(liaisonId: "lis-01", reason: "Ferie"))
        case .consentGiven:
            prerequisites = [opened]
            template = consent.payload
        case .consentWithdrawn:
            prerequisites = [opened, consent]
            template = .consentWithdrawn(.init(consentId: "K1", reason: "Trukket tilbage"))
        case .referralMade:
            prerequisites = [opened, consent]
            template = referral.payload
        case .referralAnswered:
            prerequisites = [opened, consent, referral]
            template = .referralAnswered(.init(referralId: "R1", accepted: false, reason: "Ingen plads"))
        case .jobcenterContactHeld:
            prerequisites = [opened, consent, referral]
            template = .jobcenterContactHeld(.init(contactKind: .first, jobcenter: "jobcenter", referralId: "R1"))
        case .placementStarted:
            prerequisites = [opened]
            template = started.payload
        case .placementEnded:
            prerequisites = [opened, started]
            template = .placementEnded(.init(placementId: "P1", endDate: day.adding(days: 20), outcome: .education))
        case .outcomeRecorded:
            prerequisites = [opened, closed]
            template = .outcomeRecorded(.init(monthsAfterClose: 6, status: .ordinaryJob))
        case .caseClosed:
            prerequisites = [opened]
            template = closed.payload
        case .caseReopened:
            prerequisites = [opened, closed]
            template = .caseReopened(.init(reason: "Tilbage"))
        case .hoursAgreementMade:
            prerequisites = []; stream = a
            template = agreement.payload
        case .sharedHoursLogged:
            prerequisites = [agreement]; stream = a
            template = .sharedHoursLogged(.init(date: day, hours: Hours(hundredths: 600), areaId: "nord", servedOrganisation: "secretariat", activity: "Jobcafé"))
        case .hoursAgreementEnded:
            prerequisites = [agreement]; stream = a
            template = .hoursAgreementEnded(.init(endDate: day, reason: "Slut"))
        case .eventRetracted:
            prerequisites = [opened, consent]
            template = .eventRetracted(.init(retractedEventId: consent.id, reason: "Forkert sag"))
        case .residentErased:
            prerequisites = []; stream = .resident(resident)
            template = .residentErased(.init(resident: resident, reason: "Anmodning", legalBasis: "GDPR art. 17"))
        default:
            prerequisites = []; stream = .resident(resident)
            template = .erasureRefused(.init(resident: resident, reason: "Journalpligt", legalBasis: "Offentlighedsloven"))
        }
        return prerequisites + [Samples.event(stream, last(template, prerequisites.map(\.id)))]
    }

    /// Hostile versions of one event type's payload, each with what makes it hostile.
    static func hostilePayloads(_ template: EventPayload, _ ids: [UUID]) -> [(String, EventPayload)] {
        var out: [(String, EventPayload)] = []
        func add<P>(_ p: P, _ wrap: (P) -> EventPayload, _ name: String, _ change: (inout P) -> Void) {
            var q = p
            change(&q)
            out.append((name, wrap(q)))
        }
        let texts = [("text over 4000 bytes", longText), ("1 MiB text", hugeText)]
        switch template {
        case .organisationRegistered(let p):
            for id in badIDs { add(p, EventPayload.organisationRegistered, "organisation id '\(id.prefix(12))'") { $0.organisationId = id } }
            add(p, EventPayload.organisationRegistered, "already registered") { $0.organisationId = "jobcenter" }
            for (n, t) in texts + [("blank name", "  ")] { add(p, EventPayload.organisationRegistered, "name: \(n)") { $0.name = t } }
            for (n, t) in texts { add(p, EventPayload.organisationRegistered, "municipality: \(n)") { $0.municipality = t } }
        case .housingAreaRegistered(let p):
            add(p, EventPayload.housingAreaRegistered, "unknown municipality") { $0.municipality = "nowhere" }
            add(p, EventPayload.housingAreaRegistered, "unknown housing organisation") { $0.housingOrganisations = ["boligkontoret", "ghost"] }
            add(p, EventPayload.housingAreaRegistered, "plan ends before it starts") { $0.planTo = $0.planFrom.adding(days: -1) }
            add(p, EventPayload.housingAreaRegistered, "200,000 housing organisations") { $0.housingOrganisations = Array(repeating: "boligkontoret", count: 200_000) }
            for d in outOfRangeDates { add(p, EventPayload.housingAreaRegistered, "plan to \(d.daysSinceEpoch)") { $0.planTo = d } }
            for (n, t) in texts { add(p, EventPayload.housingAreaRegistered, "plan: \(n)") { $0.plan = t } }
        case .liaisonRegistered(let p):
            for id in badIDs { add(p, EventPayload.liaisonRegistered, "liaison id '\(id.prefix(12))'") { $0.liaisonId = id } }
            add(p, EventPayload.liaisonRegistered, "unknown organisation") { $0.organisationId = "ghost" }
        case .targetGroupDefined(let p):
            add(p, EventPayload.targetGroupDefined, "ends before it starts") { $0.effectiveTo = $0.effectiveFrom.adding(days: -1) }
            for d in outOfRangeDates { add(p, EventPayload.targetGroupDefined, "effective from \(d.daysSinceEpoch)") { $0.effectiveFrom = d } }
            for (n, t) in texts { add(p, EventPayload.targetGroupDefined, "label: \(n)") { $0.label = t } }
        case .caseOpened(let p):
            add(p, EventPayload.caseOpened, "unknown area") { $0.areaId = "ghost" }
            add(p, EventPayload.caseOpened, "unknown liaison") { $0.liaisonId = "ghost" }
            add(p, EventPayload.caseOpened, "unknown target group") { $0.targetGroup = "ghost" }
            add(p, EventPayload.caseOpened, "sealed data of 20,000 bytes") { $0.personalData = SealedData(combined: Array(repeating: 1, count: 20_000)) }
        case .caseAssigned(let p):
            add(p, EventPayload.caseAssigned, "unknown liaison") { $0.liaisonId = "ghost" }
            for (n, t) in texts { add(p, EventPayload.caseAssigned, "reason: \(n)") { $0.reason = t } }
        case .consentGiven(let p):
            add(p, EventPayload.consentGiven, "no parties") { $0.parties = [] }
            add(p, EventPayload.consentGiven, "no purposes") { $0.purposes = [] }
            add(p, EventPayload.consentGiven, "unknown party") { $0.parties = ["ghost"] }
            add(p, EventPayload.consentGiven, "valid until before given") { $0.validUntil = CalendarDate(year: 2000, month: 1, day: 1)! }
            add(p, EventPayload.consentGiven, "200,000 parties") { $0.parties = Array(repeating: "jobcenter", count: 200_000) }
            for d in outOfRangeDates.dropFirst() { add(p, EventPayload.consentGiven, "valid until \(d.daysSinceEpoch)") { $0.validUntil = d } }
        case .consentWithdrawn(let p):
            add(p, EventPayload.consentWithdrawn, "unknown consent") { $0.consentId = "K9" }
            for (n, t) in texts { add(p, EventPayload.consentWithdrawn, "reason: \(n)") { $0.reason = t } }
        case .referralMade(let p):
            add(p, EventPayload.referralMade, "no consent for the receiver") { $0.toOrganisation = "boligkontoret" }
            add(p, EventPayload.referralMade, "unknown receiver") { $0.toOrganisation = "ghost" }
            for id in badIDs { add(p, EventPayload.referralMade, "referral id '\(id.prefix(12))'") { $0.referralId = id } }
            for (n, t) in texts + [("empty reason", "")] { add(p, EventPayload.referralMade, "reason: \(n)") { $0.reason = t } }
        case .referralAnswered(let p):
            add(p, EventPayload.referralAnswered, "unknown referral") { $0.referralId = "R9" }
            for (n, t) in texts { add(p, EventPayload.referralAnswered, "reason: \(n)") { $0.reason = t } }
        case .jobcenterContactHeld(let p):
            add(p, EventPayload.jobcenterContactHeld, "unknown jobcenter") { $0.jobcenter = "ghost" }
            add(p, EventPayload.jobcenterContactHeld, "unknown referral") { $0.referralId = "R9" }
        case .placementStarted(let p):
            for h: Int32 in [0, -1, 16_801, .max, .min] { add(p, EventPayload.placementStarted, "\(h) hundredths a week") { $0.hoursPerWeek = Hours(hundredths: h) } }
            add(p, EventPayload.placementStarted, "ends before it starts") { $0.plannedEndDate = $0.startDate.adding(days: -1) }
            add(p, EventPayload.placementStarted, "unknown employer") { $0.employer = "ghost" }
            for d in outOfRangeDates { add(p, EventPayload.placementStarted, "start \(d.daysSinceEpoch)") { $0.startDate = d; $0.plannedEndDate = nil } }
        case .placementEnded(let p):
            add(p, EventPayload.placementEnded, "unknown placement") { $0.placementId = "P9" }
            add(p, EventPayload.placementEnded, "ends before it started") { $0.endDate = Samples.day.adding(days: -1) }
            for d in outOfRangeDates.dropFirst() { add(p, EventPayload.placementEnded, "end \(d.daysSinceEpoch)") { $0.endDate = d } }
        case .outcomeRecorded(let p):
            for m in [0, 2, -1, 13, Int.max, Int.min] { add(p, EventPayload.outcomeRecorded, "\(m) months after close") { $0.monthsAfterClose = m } }
        case .caseClosed(let p):
            for (n, t) in texts + [("blank reason", " \n ")] { add(p, EventPayload.caseClosed, "reason: \(n)") { $0.reason = t } }
        case .caseReopened(let p):
            for (n, t) in texts + [("empty reason", "")] { add(p, EventPayload.caseReopened, "reason: \(n)") { $0.reason = t } }
        case .hoursAgreementMade(let p):
            for h: Int32 in [0, -5, 16_801, .max] { add(p, EventPayload.hoursAgreementMade, "\(h) hundredths a week") { $0.hoursPerWeek = Hours(hundredths: h) } }
            add(p, EventPayload.hoursAgreementMade, "stream for another agreement") { $0.agreementId = "other" }
            add(p, EventPayload.hoursAgreementMade, "unknown served area") { $0.servedAreas = ["ghost"] }
            add(p, EventPayload.hoursAgreementMade, "200,000 served organisations") { $0.servedOrganisations = Array(repeating: "secretariat", count: 200_000) }
            for d in outOfRangeDates { add(p, EventPayload.hoursAgreementMade, "valid from \(d.daysSinceEpoch)") { $0.validFrom = d } }
            for (n, t) in texts { add(p, EventPayload.hoursAgreementMade, "employee: \(n)") { $0.employee = t } }
        case .sharedHoursLogged(let p):
            for h: Int32 in [0, -1, 2_401, .max, .min] { add(p, EventPayload.sharedHoursLogged, "\(h) hundredths") { $0.hours = Hours(hundredths: h) } }
            add(p, EventPayload.sharedHoursLogged, "hours in the future") { $0.date = Samples.now.date.adding(days: 1) }
            add(p, EventPayload.sharedHoursLogged, "before the agreement") { $0.date = CalendarDate(year: 2023, month: 12, day: 31)! }
            add(p, EventPayload.sharedHoursLogged, "unknown area") { $0.areaId = "ghost" }
            for d in outOfRangeDates { add(p, EventPayload.sharedHoursLogged, "date \(d.daysSinceEpoch)") { $0.date = d } }
            for (n, t) in texts { add(p, EventPayload.sharedHoursLogged, "activity: \(n)") { $0.activity = t } }
        case .hoursAgreementEnded(let p):
            add(p, EventPayload.hoursAgreementEnded, "ends before it starts") { $0.endDate = CalendarDate(year: 2023, month: 1, day: 1)! }
            for d in outOfRangeDates.dropFirst() { add(p, EventPayload.hoursAgreementEnded, "end \(d.daysSinceEpoch)") { $0.endDate = d } }
        case .eventRetracted(let p):
            add(p, EventPayload.eventRetracted, "unknown event") { $0.retractedEventId = UUID() }
            for (n, t) in texts + [("empty reason", "")] { add(p, EventPayload.eventRetracted, "reason: \(n)") { $0.reason = t } }
        case .residentErased(let p):
            add(p, EventPayload.residentErased, "another resident's stream") { $0.resident = Pseudonym(high: 1, low: 1) }
            for (n, t) in texts + [("empty legal basis", "")] { add(p, EventPayload.residentErased, "legal basis: \(n)") { $0.legalBasis = t } }
        case .erasureRefused(let p):
            add(p, EventPayload.erasureRefused, "another resident's stream") { $0.resident = Pseudonym(high: 1, low: 1) }
            for (n, t) in texts + [("empty reason", "")] { add(p, EventPayload.erasureRefused, "reason: \(n)") { $0.reason = t } }
        }
        return out
    }

    /// Hostile envelopes that any event can carry.
    static let hostileEnvelopes: [(String, @Sendable (inout ProposedEvent) -> Void)] = [
        ("empty actor", { $0.actor = "" }),
        ("1 MiB actor", { $0.actor = hugeText }),
        ("control character in the organisation", { $0.organisation = "sec\u{7}retariat" }),
        ("201-byte organisation", { $0.organisation = String(repeating: "o", count: 201) }),
        ("occurred at Int64.max", { $0.occurredAt = Timestamp(millisecondsSinceEpoch: .max) }),
        ("occurred at Int64.min", { $0.occurredAt = Timestamp(millisecondsSinceEpoch: .min) }),
        ("occurred in 1850", { $0.occurredAt = Timestamp(CalendarDate(year: 1900, month: 1, day: 1)!).adding(days: -365 * 50) }),
        ("occurred a day in the future", { $0.occurredAt = Samples.now.adding(days: 1) }),
        ("empty stream", { $0.stream = "" }),
        ("NUL in the stream", { $0.stream = StreamID($0.stream.rawValue + "\u{0}x") }),
        ("stream of the wrong kind", { $0.stream = $0.stream == .registry ? .case("X") : .registry }),
        ("bare category as stream", { $0.stream = StreamID($0.stream.category + "-") }),
    ]

    /// Appends `batch`; it must be refused with a clear error and leave the log as it was.
    func expectRefused(_ batch: [ProposedEvent], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> LogError? {
        let before = try store.head()
        let streams = Set(batch.map(\.stream)).map { ($0, try? store.streamVersion($0)) }
        var refusal: LogError?
        do {
            try store.append(batch)
            Issue.record("\(what): accepted", sourceLocation: sourceLocation)
        } catch let e as LogError {
            refusal = e
            #expect([.invalidInput, .ruleViolation].contains(e.code), "\(what): \(e.code) \(e.message)", sourceLocation: sourceLocation)
            #expect(e.message.count > 15 && e.message.count <= 1_200, "\(what): the message should say what is wrong, briefly: \(e.message.prefix(200))", sourceLocation: sourceLocation)
            #expect(e.eventIndex == nil || e.eventIndex == batch.count - 1 || e.eventIndex! < batch.count, sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): not a LogError: \(error)", sourceLocation: sourceLocation)
        }
        #expect(try store.head() == before, "\(what): the head moved", sourceLocation: sourceLocation)
        for (s, v) in streams { #expect(try store.streamVersion(s) == v, "\(what): stream \(s) changed", sourceLocation: sourceLocation) }
        return refusal
    }

    @Test func everyTemplateIsValidSoRefusalsAreForTheHostileField() throws {
        defer { dir.remove() }
        for (n, type) in EventType.all.enumerated() {
            let batch = Self.batch(type, 1_000 + n)
            do { try store.append(batch) } catch { Issue.record("the valid \(type.name) batch was refused: \(error)") }
        }
        #expect(try store.verify().isValid)
    }

    @Test func hostilePayloadsAndEnvelopesAreRefusedAndWriteNothing() throws {
        defer { dir.remove() }
        var tried = 0
        for (n, type) in EventType.all.enumerated() {
            let valid = Self.batch(type, n)
            let variants = Self.hostilePayloads(valid.last!.payload, valid.dropLast().map(\.id))
            #expect(variants.count >= 2, "\(type.name) has too few hostile variants")
            for (name, payload) in variants {
                _ = try expectRefused(Self.batch(type, n) { _, _ in payload }, "\(type.name): \(name)")
                tried += 1
            }
            for (name, change) in Self.hostileEnvelopes {
                var batch = Self.batch(type, n)
                change(&batch[batch.count - 1])
                _ = try expectRefused(batch, "\(type.name): \(name)")
                tried += 1
            }
            // Duplicate ids inside one batch.
            var duplicated = Self.batch(type, n)
            duplicated.append(duplicated[duplicated.count - 1])
            let e = try expectRefused(duplicated, "\(type.name): the same id twice in a batch")
            #expect(e?.code == .invalidInput)
            tried += 1
            // And the untouched batch still goes in: the refusals above left no trace.
            try store.append(Self.batch(type, n))
        }
        #expect(try store.verify().isValid)
        report("append-hostile", ["inputs": tried])
    }

    @Test func randomHostileBatchesNeverWriteAnything() throws {
        defer { dir.remove() }
        let count = RunSize.pick(1_500, heavy: 30_000)
        var rng = SplitMix64(seed: RunSize.seed ^ 0xBA7C)
        var refused = 0, accepted = 0
        for i in 0..<count {
            let type = EventType.all[Int(rng.next() % UInt64(EventType.all.count))]
            var batch = Self.batch(type, 10_000 + i)
            let variants = Self.hostilePayloads(batch.last!.payload, batch.dropLast().map(\.id))
            // One to three hostile changes: payload, envelope, or both.
            if rng.next() % 3 != 0, !variants.isEmpty {
                batch[batch.count - 1].payload = variants[Int(rng.next() % UInt64(variants.count))].1
            } else {
                Self.hostileEnvelopes[Int(rng.next() % UInt64(Self.hostileEnvelopes.count))].1(&batch[batch.count - 1])
            }
            // A second hostile envelope on a prerequisite (not on the same event: two changes can cancel).
            if batch.count > 1, rng.next() % 3 == 0 { Self.hostileEnvelopes[Int(rng.next() % UInt64(Self.hostileEnvelopes.count))].1(&batch[0]) }
            if try expectRefused(batch, "random \(type.name) #\(i)") != nil { refused += 1 } else { accepted += 1 }
            if i % 100 == 99 { try store.append(Self.batch(type, 10_000 + i)) }  // interleave valid work
        }
        #expect(try store.verify().isValid)
        report("append-random-hostile", ["inputs": count, "refused": refused, "seed": RunSize.seed])
    }
}
