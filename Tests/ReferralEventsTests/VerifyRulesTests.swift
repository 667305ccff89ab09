import Foundation
import Testing
@testable import ReferralEvents

private typealias F = Fixture

/// `verifyRules`: the stored rule rows against a replay of the log, and nothing written.
@Suite struct VerifyRulesTests {
    let f: Fixture
    let c = StreamID.case("C1")

    /// A history with every kind of rule row: registrations, a target group, a case whose
    /// consent is retracted (its stream replayed) and which then goes on, a second case, an
    /// agreement with hours, one log of which is retracted.
    init() throws {
        f = try Fixture()
        let consent = F.consent()
        let a = StreamID.agreement("A1")
        let made = F.event(a, .hoursAgreementMade(.init(agreementId: "A1", employee: "MK", payingOrganisation: "jobcenter-fredericia",
                                                        servedOrganisations: ["secretariat-fredericia"], servedAreas: [],
                                                        hoursPerWeek: Hours(hundredths: 3700), validFrom: F.day(2024, 1, 1), validTo: nil)),
                           at: F.at(2024, 1, 3))
        let wrongDay = F.event(a, .sharedHoursLogged(.init(date: F.day(2024, 3, 5), hours: Hours(hundredths: 300), areaId: nil,
                                                           servedOrganisation: nil, activity: "Rådgivning")), at: F.at(2024, 3, 5))
        try f.store.append([F.opened(), consent, F.referral(), F.opened("C2"), made, wrongDay])
        try f.store.append([
            F.event(c, .eventRetracted(.init(retractedEventId: consent.id, reason: "Forkert sag")), at: F.at(2024, 3, 6)),
            F.event(a, .eventRetracted(.init(retractedEventId: wrongDay.id, reason: "Forkert dag")), at: F.at(2024, 3, 6)),
        ])
        // After the retraction the case goes on: a replay that let the retraction see these
        // later events would hold consent K2 twice.
        try f.store.append([F.consent(id: "K2", at: F.at(2024, 3, 7)), F.referral(id: "R2", at: F.at(2024, 3, 8)), F.consent("C2", at: F.at(2024, 3, 8))])
    }

    func contents() throws -> [[UInt8]] {
        try f.store.env.read { txn in
            var rows: [[UInt8]] = []
            for db in [f.store.streams, f.store.rules, f.store.events, f.store.eventIDs, f.store.meta] {
                try txn.forEach(db) { k, v in rows.append([UInt8(k.count)] + Array(k) + Array(v)); return true }
                rows.append([])
            }
            return rows
        }
    }

    @Test func anUntouchedStoreMatchesItsReplayAndNothingIsWritten() throws {
        let before = try contents()
        let report = try f.store.verifyRules()
        #expect(report.isValid, "\(report.failure?.message ?? "")")
        #expect(report.eventsReplayed == F.registry.count + 11)
        #expect(report.caseRows == 2)
        // Organisations (a registration row and two number rows each), the area, the
        // liaisons, the target group, the agreement, the retractions (the retracted hour
        // log's day has no row left).
        #expect(report.otherRows == 5 * 3 + 1 + 2 + 1 + 1 + 2)
        #expect(try contents() == before)
        // The scratch databases went with the aborted transaction, and appends go on.
        #expect(throws: LogError.self) { try f.store.env.read { txn in try txn.openDatabase("verify-rules", create: false) } }
        try f.store.append(F.referral(id: "R3", at: F.at(2024, 3, 9)))
        #expect(try f.store.verifyRules().isValid)
    }

    @Test func aChangedCaseRowIsNamed() throws {
        try f.store.env.write { txn in
            let key = StreamIndex.caseRowKey(c)
            var row = Array(try #require(try txn.get(f.store.streams, key)))
            row[0] ^= 1  // closed, as a forger might have it
            try txn.put(f.store.streams, key, row)
        }
        let report = try f.store.verifyRules()
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.message == "the rule row of 'case-C1' is not what the log gives: its bytes differ from a replay's")
    }

    /// A log the rules refuse on replay (here: case C1 opened a second time, a record put
    /// behind the append path's back) is reported by `verifyRules`, and `rebuildRules`
    /// throws without having written anything.
    @Test func aLogTheRulesRefuseIsNamedAndRebuildingWritesNothing() throws {
        let head = try f.store.head().position
        try f.store.env.write { txn in
            // The first event after the registry opened C1.
            let opened = try #require(try txn.get(f.store.events, bigEndianKey(UInt64(F.registry.count) + 1)))
            #expect(EventView(unchecked: opened).typeCode == EventType.caseOpened.code)
            try txn.put(f.store.events, bigEndianKey(head + 1), Array(opened))
        }
        let before = try contents()
        let report = try f.store.verifyRules()
        #expect(report.failure?.code == .corrupt)
        #expect(report.failure?.position == head + 1)
        #expect(report.failure?.message.contains("the rules refuse the event (case-opened) when the log is replayed: case 'C1' already exists") == true, "\(report.failure?.message ?? "")")
        let e = #expect(throws: LogError.self) { try f.store.rebuildRules() }
        #expect(e?.message == report.failure?.message)
        #expect(try contents() == before)
    }

    @Test func rebuildingTheRulesRestoresEveryRowFromTheLog() throws {
        let sound = try contents()
        try f.store.env.write { txn in
            let key = StreamIndex.caseRowKey(c)
            var row = Array(try #require(try txn.get(f.store.streams, key)))
            row[0] ^= 1
            try txn.put(f.store.streams, key, row)
            try txn.delete(f.store.rules, RuleKey.organisation("grocer-1"))
            try txn.put(f.store.streams, StreamIndex.caseRowKey(.case("C9")), CaseRow.opened(on: F.day(2024, 2, 1)).bytes)
        }
        #expect(try !f.store.verifyRules().isValid)
        #expect(try f.store.rebuildRules() == F.registry.count + 11)
        #expect(try contents() == sound)
        #expect(try f.store.verifyRules().isValid)
    }

    @Test func aMissingOrStrayRowIsNamed() throws {
        try f.store.env.write { txn in _ = try txn.delete(f.store.rules, RuleKey.organisation("grocer-1")) }
        let missing = try f.store.verifyRules()
        #expect(missing.failure?.message == "the registration row of organisation 'grocer-1' is missing: the log gives it")
        try f.store.env.write { txn in
            try txn.put(f.store.rules, RuleKey.organisation("grocer-1"), [UInt8(OrganisationKind.allCases.firstIndex(of: .employer)!), UInt8(Sector.allCases.firstIndex(of: .other)!)])
            try txn.put(f.store.streams, StreamIndex.caseRowKey(.case("C9")), CaseRow.opened(on: F.day(2024, 2, 1)).bytes)
        }
        let stray = try f.store.verifyRules()
        #expect(stray.failure?.message == "the rule row of 'case-C9' is not what the log gives: a replay of the log has no such row")
        // What a build of layout 2 would write if it went on appending to a store moved to layout 3.
        try f.store.env.write { txn in
            try txn.delete(f.store.streams, StreamIndex.caseRowKey(.case("C9")))
            try txn.put(f.store.rules, [UInt8(ascii: "c"), 0] + Array("case-C3".utf8), CaseRow.opened(on: F.day(2024, 2, 1)).bytes)
        }
        let old = try f.store.verifyRules()
        #expect(old.failure?.message.hasPrefix("a layout 2 case row of 'case-C3' in `rules`") == true, "\(old.failure?.message ?? "")")
    }

    /// What a build of layout 3 would write if it went on appending to a store moved to
    /// layout 4: a case row naming its parties by id. `verifyRules` names it and
    /// `rebuildRules` writes it again. (Meanwhile the consent gate fails on this one: it
    /// reads the id's length as an organisation number that no organisation has.)
    @Test func aCaseRowNamingPartiesByIDIsNamedAndRebuilt() throws {
        let key = StreamIndex.caseRowKey(.case("C2"))
        try f.store.env.write { txn in
            let names = { (n: OrganisationNumber) in
                try #require(try txn.get(f.store.rules, RuleKey.organisation(numbered: UInt32(n)))).map { $0 }
            }
            let row = try #require(try txn.get(f.store.streams, key))
            var r = BinaryReader(row)
            var w = BinaryWriter()
            w.raw(try r.bytes(9))  // flags, opening and closing days
            let numbers = try r.array { try $0.varint() }
            #expect(numbers.count == 1)
            w.array(numbers) { w, n in w.string(String(decoding: (try? names(n)) ?? [], as: UTF8.self)) }
            w.raw(row[r.offset...])
            try txn.put(f.store.streams, key, w.bytes)
        }
        let report = try f.store.verifyRules()
        #expect(report.failure?.message == "the rule row of 'case-C2' is not what the log gives: its bytes differ from a replay's")
        #expect(throws: LogError.self) { try f.store.consentState(ofCase: "C2") }
        try f.store.rebuildRules()
        #expect(try f.store.verifyRules().isValid)
        #expect(try f.store.consentState(ofCase: "C2")?.consents.first?.parties == ["jobcenter-fredericia"])
    }
}
