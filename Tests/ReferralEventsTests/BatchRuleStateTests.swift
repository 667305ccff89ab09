import Foundation
import Testing
@testable import ReferralEvents

private typealias F = Fixture

/// The rule engine keeps each case's rule row in memory for the length of one append and
/// writes it back once at the end. These check that later events of a batch see earlier
/// ones, that a failed batch leaves the stored rows as they were, and that a retraction
/// inside a batch rebuilds what the batch had cached.
@Suite struct BatchRuleStateTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    private func answer(_ caseID: String, _ referral: String = "R1", at: Timestamp = F.at(2024, 3, 2)) -> ProposedEvent {
        F.event(.case(caseID), .referralAnswered(.init(referralId: referral, accepted: true, reason: "Velkommen")), at: at)
    }

    @Test func aFailedBatchLeavesTheStoredRowAsItWas() throws {
        try f.store.append([F.opened(), F.consent(), F.referral()])
        let head = try f.store.head()
        // The first answer changes the cached row; the second is refused by it.
        let e = #expect(throws: LogError.self) { try f.store.append([answer("C1"), answer("C1")]) }
        #expect(e?.rule == .referralAlreadyAnswered)
        #expect(e?.eventIndex == 1)
        #expect(try f.store.head() == head)
        // Had the first answer's row been written, this one would be refused.
        try f.store.append(answer("C1"))
        #expect(try f.store.streamVersion(.case("C1")) == 4)
        let again = #expect(throws: LogError.self) { try f.store.append(answer("C1", at: F.at(2024, 3, 3))) }
        #expect(again?.rule == .referralAlreadyAnswered)
    }

    @Test func interleavedCasesInOneBatchEachKeepTheirOwnState() throws {
        let ids = (1...40).map { "C\($0)" }
        // Opened, consented and referred in rounds, so every case's row is read and changed
        // three times in the batch, between other cases' changes.
        try f.store.append(ids.map { F.opened($0) } + ids.map { F.consent($0) } + ids.map { F.referral($0) })
        #expect(try f.store.head().position == UInt64(F.registry.count + 120))
        // The next append sees every row as the batch left it: each referral awaits an answer.
        try f.store.append(ids.map { answer($0) })
        for id in ["C1", "C17", "C40"] {
            let e = #expect(throws: LogError.self) { try f.store.append(answer(id, at: F.at(2024, 3, 3))) }
            #expect(e?.rule == .referralAlreadyAnswered)
        }
        // A referral in a case never opened is still refused.
        let e = #expect(throws: LogError.self) { try f.store.append(F.referral("C41")) }
        #expect(e?.rule == .caseMustExist)
    }

    @Test func aRetractionInTheBatchRebuildsTheCachedCase() throws {
        let consent = F.consent()
        let retraction = F.event(.case("C1"), .eventRetracted(.init(retractedEventId: consent.id, reason: "Forkert sag")), at: F.at(2024, 2, 3))
        let e = #expect(throws: LogError.self) { try f.store.append([F.opened(), consent, retraction, F.referral()]) }
        #expect(e?.rule == .consentRequired)
        #expect(e?.eventIndex == 3)
        #expect(try f.store.head().position == UInt64(F.registry.count))

        // Committed without the referral, the stored row must not hold the retracted consent.
        try f.store.append([F.opened(), consent, retraction])
        let later = #expect(throws: LogError.self) { try f.store.append(F.referral()) }
        #expect(later?.rule == .consentRequired)
        // A new consent in the same case works again: the case is still open.
        try f.store.append([F.consent(id: "K2", at: F.at(2024, 2, 4)), F.referral()])
        #expect(try f.store.streamVersion(.case("C1")) == 5)
    }

    @Test func aRetractedRegistrationIsForgottenWithinTheBatch() throws {
        let grocer = F.event(.registry, .organisationRegistered(.init(organisationId: "grocer-2", name: "Købmanden", kind: .employer, sector: .other,
                                                                      municipality: "Fredericia")), at: F.at(2024, 1, 3))
        try f.store.append([grocer, F.opened()])
        let retract = F.event(.registry, .eventRetracted(.init(retractedEventId: grocer.id, reason: "Dobbeltregistreret")), at: F.at(2024, 2, 2))
        // The first consent finds grocer-2 registered; after the retraction the second must not.
        let e = #expect(throws: LogError.self) {
            try f.store.append([F.consent(parties: ["grocer-2"]), retract, F.consent(id: "K2", parties: ["grocer-2"])])
        }
        #expect(e?.rule == .unknownOrganisation)
        #expect(e?.eventIndex == 2)
    }
}

/// `UUID.timeOrdered()`, the default id of a proposed event (RFC 9562 version 7).
@Suite struct TimeOrderedIDTests {
    @Test func hasVersionSevenVariantAndTheCurrentTime() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let id = UUID.timeOrdered()
        let after = UInt64(Date().timeIntervalSince1970 * 1000) + 1
        let b = withUnsafeBytes(of: id.uuid) { Array($0) }
        #expect(b[6] >> 4 == 7)
        #expect(b[8] >> 6 == 0b10)
        let ms = b[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(ms >= before && ms <= after + 1, "ms \(ms) not within \(before)...\(after)")
        // The string form shows the version as the first digit of the third group.
        #expect(id.uuidString.split(separator: "-")[2].first == "7")
    }

    @Test func idsMadeInARowSortInTheOrderTheyWereMade() {
        let ids = (0..<20_000).map { _ in ProposedEvent(stream: .registry, payload: .caseClosed(.init(reason: "x")), occurredAt: F.today, actor: "a", organisation: "o").id }
        let bytes = ids.map { id in withUnsafeBytes(of: id.uuid) { Array($0) } }
        for i in 1..<bytes.count {
            #expect(bytes[i - 1].lexicographicallyPrecedes(bytes[i]), "id \(i) sorts before id \(i - 1)")
            if !bytes[i - 1].lexicographicallyPrecedes(bytes[i]) { break }
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test func partsLandWhereRFC9562PutsThem() {
        // 0x0123456789AB ms, counter 0xCDE, random bits all ones: worked out by hand.
        let id = UUID.timeOrdered(milliseconds: 0x0123_4567_89AB, counter: 0xCDE, random: .max)
        #expect(id.uuidString == "01234567-89AB-7CDE-BFFF-FFFFFFFFFFFF")
    }
}
