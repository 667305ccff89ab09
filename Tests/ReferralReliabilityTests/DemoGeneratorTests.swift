import Foundation
import ReferralDemo
import ReferralEvents
import Testing

/// A temporary store whose clock stands just after the demo's last day, so the demo's
/// recorded-at times (up to 31.12.2025) are never in its future.
struct DemoTestStore {
    static let clock = Timestamp(CalendarDate(year: 2026, month: 1, day: 2)!, hour: 9)
    let directory: String
    let store: EventStore

    init(clock: Timestamp = DemoTestStore.clock) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("referral-demo-\(UUID().uuidString)").path
        store = try EventStore(at: directory, create: true, durable: false, clock: { clock })
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite struct DemoGeneratorTests {
    let a: DemoTestStore
    let b: DemoTestStore

    init() throws {
        a = try DemoTestStore()
        b = try DemoTestStore()
    }

    /// Type codes and counts read back from the log itself, not from the generator's summary.
    private func typeCounts(_ store: EventStore) throws -> [UInt16: Int] {
        var counts: [UInt16: Int] = [:]
        try store.replay { view in
            counts[view.typeCode, default: 0] += 1
            return true
        }
        return counts
    }

    @Test func sameSeedGivesTheSameLogByteForByte() throws {
        defer { a.remove(); b.remove() }
        let first = try DemoGenerator(size: .small, seed: 7).write(to: a.store)
        let second = try DemoGenerator(size: .small, seed: 7).write(to: b.store)
        let headA = try a.store.head(), headB = try b.store.head()
        #expect(headA.position > 0)
        #expect(headA == headB)  // same position and hash: every byte of the chain agrees
        #expect(first.residents == second.residents)
        let idsA = try a.store.read(limit: 500).map(\.id), idsB = try b.store.read(limit: 500).map(\.id)
        #expect(idsA == idsB)
    }

    /// Demo ids are time-ordered like real ones (UUIDv7), stamped with the day the event
    /// was recorded, so the demo's appends grow the id index at its right edge.
    @Test func eventIDsAreVersionSevenStampedWithTheirRecordingDay() throws {
        defer { a.remove(); b.remove() }
        try DemoGenerator(size: .small, seed: 7).write(to: a.store)
        let dayMs: UInt64 = 86_400_000
        var checked = 0, wrong: [String] = []
        try a.store.replay { view in
            let b = withUnsafeBytes(of: view.id.uuid) { Array($0) }
            let ms = b[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if b[6] >> 4 != 7 || b[8] >> 6 != 0b10 || ms / dayMs != UInt64(view.recordedAt.millisecondsSinceEpoch) / dayMs {
                wrong.append("position \(view.position): \(view.id)")
            }
            checked += 1
            return wrong.count < 5
        }
        let head = try a.store.head().position
        #expect(checked > 0 && UInt64(checked) == head)
        #expect(wrong.isEmpty, "\(wrong)")
        let ids = Set(try a.store.read(limit: 100_000).map(\.id))
        #expect(ids.count == checked)
    }

    @Test func anotherSeedGivesAnotherLog() throws {
        defer { a.remove(); b.remove() }
        try DemoGenerator(size: .small, seed: 1).write(to: a.store)
        try DemoGenerator(size: .small, seed: 2).write(to: b.store)
        #expect(try a.store.head().hash != b.store.head().hash)
    }

    @Test(arguments: [UInt64(1), 42, 2025])
    func smallIsAboutThreeThousandValidEventsOfEveryType(seed: UInt64) throws {
        defer { a.remove(); b.remove() }
        let summary = try DemoGenerator(size: .small, seed: seed).write(to: a.store)
        let head = try a.store.head()
        // Within ±10% of the 3,000 aimed at.
        #expect(head.position >= 2_700 && head.position <= 3_300, "small demo wrote \(head.position) events")
        #expect(UInt64(summary.events) == head.position)

        let report = try a.store.verify()
        #expect(report.isValid, "\(report.failure?.message ?? "")")
        #expect(report.eventsChecked == head.position)

        let counts = try typeCounts(a.store)
        for type in EventType.all {
            #expect((counts[type.code] ?? 0) > 0, "no \(type.name) event in the small demo")
        }
        #expect(counts.values.reduce(0, +) == Int(head.position))
    }

    @Test func recordedAtRisesStaysInThePlanPeriodAndSomeEventsAreRegisteredLate() throws {
        defer { a.remove(); b.remove() }
        try DemoGenerator(size: .small, seed: 3).write(to: a.store)
        let start = Timestamp(CalendarDate(year: 2021, month: 1, day: 4)!)
        let end = Timestamp(CalendarDate(year: 2025, month: 12, day: 31)!, hour: 23, minute: 59)
        var previous = Timestamp(millisecondsSinceEpoch: .min)
        var lateByAWeek = 0, total = 0, inOrder = true
        try a.store.replay { view in
            total += 1
            if view.recordedAt < previous { inOrder = false }
            previous = view.recordedAt
            #expect(view.recordedAt >= start && view.recordedAt <= end)
            if view.recordedAt.millisecondsSinceEpoch - view.occurredAt.millisecondsSinceEpoch > 7 * 86_400_000 { lateByAWeek += 1 }
            return true
        }
        #expect(inOrder)
        // Late registrations exist (as-known-on queries must show them), but are the exception.
        #expect(lateByAWeek > total / 100 && lateByAWeek < total / 2, "\(lateByAWeek) of \(total) events registered more than a week late")
        // As known on 1 July 2023, the log is shorter than as known at the end.
        let midway = try a.store.position(asKnownAt: Timestamp(CalendarDate(year: 2023, month: 7, day: 1)!))
        #expect(midway > 0 && midway < UInt64(total))
    }

    @Test func usesTheSeedsPlacesAndEverySector() throws {
        defer { a.remove(); b.remove() }
        try DemoGenerator(size: .small, seed: 11).write(to: a.store)
        var areas = Set<String>(), sectors = Set<Sector>(), referralKinds = Set<ReferralKind>(), placementKinds = Set<PlacementKind>()
        var sectorOf: [String: Sector] = [:]
        var crossSector = Set<String>()
        for e in try a.store.read() {
            switch e.payload {
            case .housingAreaRegistered(let p): areas.insert(p.name)
            case .organisationRegistered(let p): sectors.insert(p.sector); sectorOf[p.organisationId] = p.sector
            case .referralMade(let p):
                referralKinds.insert(p.kind)
                if let from = sectorOf[p.fromOrganisation], let to = sectorOf[p.toOrganisation] { crossSector.insert("\(from.rawValue)→\(to.rawValue)") }
            case .placementStarted(let p): placementKinds.insert(p.kind)
            default: break
            }
        }
        #expect(areas.isSuperset(of: ["Ellekonebakken", "Klostervænget", "Houlkærvænget", "Vestervang", "Ringparken", "Fjordparken", "Vejleåparken"]))
        #expect(sectors == Set(Sector.allCases))
        #expect(referralKinds == Set(ReferralKind.allCases))
        #expect(placementKinds == Set(PlacementKind.allCases))
        #expect(crossSector.isSuperset(of: ["housing-social→jobcenter", "jobcenter→other", "police→children-and-youth", "health→other"]))
    }

    @Test func withAKeyStoreResidentsArePseudonymisedSealedAndNeverInClear() throws {
        defer { a.remove(); b.remove() }
        let keys = try KeyStore(directory: a.directory, create: true)
        let summary = try DemoGenerator(size: .small, seed: 5).write(to: a.store, keys: keys)
        #expect(summary.sealed)
        #expect(summary.residents.count == summary.cases)
        #expect(summary.cases > 100)

        // Each case's pseudonym is the key store's hash of that resident's CPR number, and the
        // sealed details open to the same name (unless the resident was erased).
        let residentsByCase = Dictionary(uniqueKeysWithValues: summary.residents.map { ($0.caseID, $0) })
        var opened = 0, erased = 0
        for e in try a.store.read() {
            guard case .caseOpened(let p) = e.payload, let r = residentsByCase[String(e.stream.entityID)] else { continue }
            #expect(p.resident == (try keys.pseudonym(forCPR: r.cpr)))
            let sealed = try #require(p.personalData)
            if let details = try keys.open(sealed, for: p.resident) {
                #expect(details.name == r.name && details.cpr == r.cpr)
                opened += 1
            } else {
                erased += 1
            }
        }
        #expect(opened + erased == summary.cases)
        #expect(erased == summary.erasedResidents)

        // No CPR number or name appears in the log file's bytes.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: EventStore.logPath(in: a.directory)))
        for r in summary.residents.prefix(300) {
            #expect(bytes.range(of: Data(r.cpr.utf8)) == nil, "CPR number of \(r.caseID) in clear")
            #expect(bytes.range(of: Data(r.name.utf8)) == nil, "name of \(r.caseID) in clear")
        }
    }

    @Test func refusesAStoreThatIsNotEmptyAndWritesNothing() throws {
        defer { a.remove(); b.remove() }
        try DemoGenerator(size: .small, seed: 1).write(to: a.store)
        let before = try a.store.head()
        let e = #expect(throws: LogError.self) { try DemoGenerator(size: .small, seed: 2).write(to: a.store) }
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("empty store") == true)
        #expect(try a.store.head() == before)
    }

    @Test func aClockBeforeTheDemosEndIsNamedInTheError() throws {
        defer { a.remove(); b.remove() }
        let early = try DemoTestStore(clock: Timestamp(CalendarDate(year: 2024, month: 6, day: 1)!))
        defer { early.remove() }
        let e = #expect(throws: LogError.self) { try DemoGenerator(size: .small, seed: 1).write(to: early.store) }
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("clock") == true, "\(e?.message ?? "")")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["REFERRAL_HEAVY"] == "1", "100,000 events: several seconds in a debug build; set REFERRAL_HEAVY=1"))
    func mediumIsAboutAHundredThousandValidEvents() throws {
        defer { a.remove(); b.remove() }
        let summary = try DemoGenerator(size: .medium, seed: 9).write(to: a.store)
        let head = try a.store.head()
        #expect(head.position >= 90_000 && head.position <= 110_000, "medium demo wrote \(head.position) events")
        #expect(summary.cases > 5_000)
        let counts = try typeCounts(a.store)
        for type in EventType.all { #expect((counts[type.code] ?? 0) > 0, "no \(type.name) event in the medium demo") }
        #expect(try a.store.verify().isValid)
    }

    @Test(arguments: [("small", 3_000), ("medium", 100_000), ("large", 1_000_000), ("250k", 250_000), ("10M", 10_000_000), ("5000", 5_000)])
    func sizesParse(text: String, events: Int) {
        #expect(DemoSize(text)?.targetEvents == events)
    }

    @Test func nonsenseSizesDoNotParse() {
        #expect(DemoSize("huge") == nil)
        #expect(DemoSize("-5") == nil)
        #expect(DemoSize("0") == nil)
    }
}
