import Foundation
import ReferralEvents
import Testing

/// Append skips the id index look-up for ids above the index's greatest key and puts those at
/// the tree's right edge; ids below it are looked up and put by search. These tests mix both
/// on purpose, with ids chosen by hand, and check positions worked out by hand.
struct EventIDOrderTests {
    let f: Fixture

    init() throws { f = try Fixture() }

    /// An id whose first byte is `lead` (the index orders ids by their bytes).
    static func id(_ lead: UInt8, _ last: UInt8 = 0) -> UUID {
        UUID(uuid: (lead, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, last))
    }

    @Test func idsBelowAndAboveTheGreatestAreAppendedAndFoundAgain() throws {
        // The registry holds 9 events with random ids; 0xFF… ids are above all of them
        // and 0x00… ids below all of them.
        let top1 = Self.id(0xFF, 1), top3 = Self.id(0xFF, 3), low = Self.id(0x00, 1), top2 = Self.id(0xFF, 2)
        let first = try f.store.append([
            Fixture.event(.case("C1"), Fixture.opened("C1").payload, at: Fixture.at(2024, 2, 1), id: top1),
            Fixture.event(.case("C2"), Fixture.opened("C2").payload, at: Fixture.at(2024, 2, 1), id: top3),
        ])
        #expect(first.events.map(\.position) == [10, 11])
        // Below the greatest (top3): top2 and low are looked up (absent) and put by search.
        let second = try f.store.append([
            Fixture.event(.case("C3"), Fixture.opened("C3").payload, at: Fixture.at(2024, 2, 1), id: top2),
            Fixture.event(.case("C4"), Fixture.opened("C4").payload, at: Fixture.at(2024, 2, 1), id: low),
        ])
        #expect(second.events.map(\.position) == [12, 13])
        #expect(second.events.allSatisfy { !$0.duplicate })
        // Re-sent ids are duplicates with their original positions, whichever side they were on.
        let again = try f.store.append([
            Fixture.event(.case("C2"), Fixture.opened("C2").payload, at: Fixture.at(2024, 2, 1), id: top3),
            Fixture.event(.case("C4"), Fixture.opened("C4").payload, at: Fixture.at(2024, 2, 1), id: low),
            Fixture.event(.case("C1"), Fixture.opened("C1").payload, at: Fixture.at(2024, 2, 1), id: top1),
        ])
        #expect(again.events.map(\.duplicate) == [true, true, true])
        #expect(again.events.map(\.position) == [11, 13, 10])
        #expect(again.headPosition == 13)
        for (id, position) in [(top1, 10), (top3, 11), (top2, 12), (low, 13)] {
            #expect(try f.store.event(id: id)?.envelope.position == UInt64(position))
        }
        let report = try f.store.verify()
        #expect(report.isValid)
        #expect(report.eventsChecked == 13)
    }

    @Test func anIDAboveTheGreatestThatRepeatsAnEarlierOneInTheBatchIsStillRefused() throws {
        let error = #expect(throws: LogError.self) {
            try f.store.append([
                Fixture.event(.case("C1"), Fixture.opened("C1").payload, id: Self.id(0xFE)),
                Fixture.event(.case("C2"), Fixture.opened("C2").payload, id: Self.id(0xFE)),
            ])
        }
        #expect(error?.code == .invalidInput)
        #expect(f.count == 9)
    }
}
