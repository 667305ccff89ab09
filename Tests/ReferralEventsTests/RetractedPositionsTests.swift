import Foundation
import Testing
@testable import ReferralEvents

private typealias F = Fixture

/// `retractedPositions(ifHeadIs:)` lists the positions of the retracted events, worked out
/// here from the order of the appends, and only while the log's head is the one asked about.
@Suite struct RetractedPositionsTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    @Test func listsTheRetractedEventsInLogOrderOnlyAtThatHead() throws {
        let r = UInt64(F.registry.count)
        #expect(try f.store.retractedPositions(ifHeadIs: r) == [])

        let grocer = F.event(.registry, .organisationRegistered(.init(organisationId: "grocer-2", name: "Købmanden", kind: .employer, sector: .other,
                                                                      municipality: "Fredericia")), at: F.at(2024, 1, 3))
        let consent = F.consent()
        // r+1 grocer, r+2 opened, r+3 consent, then r+4 the consent's retraction (a later
        // position than the grocer's, which is retracted after it at r+5).
        try f.store.append([grocer, F.opened(), consent])
        try f.store.append(F.event(.case("C1"), .eventRetracted(.init(retractedEventId: consent.id, reason: "Forkert sag")), at: F.at(2024, 2, 3)))
        #expect(try f.store.retractedPositions(ifHeadIs: r + 4) == [r + 3])
        try f.store.append(F.event(.registry, .eventRetracted(.init(retractedEventId: grocer.id, reason: "Dobbeltregistreret")), at: F.at(2024, 2, 4)))
        #expect(try f.store.retractedPositions(ifHeadIs: r + 5) == [r + 1, r + 3])

        // Any other head: the list could hold retractions after it, or miss some.
        #expect(try f.store.retractedPositions(ifHeadIs: r + 4) == nil)
        #expect(try f.store.retractedPositions(ifHeadIs: r + 6) == nil)
    }
}
