import Foundation
import ReferralEvents
import Testing

private typealias F = Fixture

/// The envelope checks made before the transaction: payload dates outside 1900–2199 (read
/// through `firstDate(outside:)`, no longer through an array) and ids repeated in a batch
/// (a set only when the ids do not ascend).
struct AppendEnvelopeTests {
    let fixture: Fixture

    init() throws { fixture = try Fixture() }

    private func placement(plannedEnd: CalendarDate?) -> EventPayload {
        .placementStarted(.init(placementId: "P1", kind: .internship, employer: "grocer-1", startDate: F.day(2024, 3, 4),
                                plannedEndDate: plannedEnd, hoursPerWeek: Hours(20)!))
    }

    @Test func optionalSecondDateAfter2199IsRefusedAndNothingIsWritten() throws {
        let before = try fixture.store.head().position
        // Days since 1970-01-01: 84,006 is 2200-01-01 (one past 2199-12-31).
        let batch = [F.opened("C1"), F.event(.case("C1"), placement(plannedEnd: CalendarDate(daysSinceEpoch: 84_006)))]
        let error = try #require(throws: LogError.self) { try fixture.store.append(batch) }
        #expect(error.code == .invalidInput)
        #expect(error.eventIndex == 1)
        #expect(error.eventId == batch[1].id)
        #expect(error.message.contains("planned end date (2200-01-01) is outside the years 1900–2199"))
        #expect(try fixture.store.head().position == before)
    }

    @Test func dateBefore1900IsRefused() throws {
        // -25,567 days is 1900-01-01 (70 years, 17 of them leap); one day earlier is refused.
        let logged = F.event(.case("C1"), .sharedHoursLogged(.init(date: CalendarDate(daysSinceEpoch: -25_568), hours: Hours(100)!,
                                                                   areaId: nil, servedOrganisation: nil, activity: "x")))
        let error = try #require(throws: LogError.self) { try fixture.store.append([logged]) }
        #expect(error.code == .invalidInput)
        #expect(error.eventIndex == 0)
        #expect(error.message.contains("date (1899-12-31) is outside the years 1900–2199"))
    }

    @Test func boundaryDatesPassTheEnvelopeCheck() throws {
        // 2199-12-31 as a planned end is inside the range: the batch gets past the envelope
        // check to the rules (which then accept the placement on an open case).
        let batch = [F.opened("C1"), F.event(.case("C1"), placement(plannedEnd: CalendarDate(daysSinceEpoch: 84_005)))]
        let before = try fixture.store.head().position
        let result = try fixture.store.append(batch)
        #expect(result.headPosition == before + 2)
    }

    @Test func repeatedIdIsFoundWhetherOrNotTheIdsAscend() throws {
        let low = UUID(uuidString: "00000000-0000-7000-8000-000000000001")!
        let high = UUID(uuidString: "00000000-0000-7000-8000-000000000002")!
        // Ascending until the repeat: the third event repeats the first.
        let a = [F.opened("C1"), F.opened("C2"), F.opened("C3")]
        let ascendingThenRepeat = [F.event(a[0].stream, a[0].payload, id: low), F.event(a[1].stream, a[1].payload, id: high),
                                   F.event(a[2].stream, a[2].payload, id: low)]
        let first = try #require(throws: LogError.self) { try fixture.store.append(ascendingThenRepeat) }
        #expect(first.code == .invalidInput)
        #expect(first.eventIndex == 2)
        #expect(first.message.contains("event 3 of the batch repeats the id"))
        // Descending, the repeat right after: found at the second event.
        let descending = [F.event(a[0].stream, a[0].payload, id: high), F.event(a[1].stream, a[1].payload, id: high)]
        let second = try #require(throws: LogError.self) { try fixture.store.append(descending) }
        #expect(second.eventIndex == 1)
        #expect(second.message.contains("event 2 of the batch repeats the id"))
    }
}
