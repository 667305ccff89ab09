import Foundation
import ReferralEvents
import ReferralProjections

/// A fresh store and its projections in a temporary directory. The store's clock stands
/// in 2030, so scenarios can record events at any 2023–2025 time they choose.
struct World {
    let directory: String
    let store: EventStore
    let projections: Projections

    init(catchUpBatch: UInt64 = 20_000, rebuildThreshold: UInt64 = 200_000, lowMemoryReplay: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("referral-projections-\(UUID().uuidString)").path
        store = try EventStore(at: directory, create: true, durable: false, initialMapSize: 16 << 20,
                               lowMemoryReplay: lowMemoryReplay, clock: { Timestamp(day(2030, 1, 1)) })
        projections = try Projections(store: store, rebuildThreshold: rebuildThreshold, catchUpBatch: catchUpBatch)
    }

    /// Appends each event with its own recorded-at (they must come in recorded-at order).
    func record(_ events: [Recorded]) throws {
        for e in events { try store.append([e.event], recordedAt: e.recordedAt) }
    }
}

/// An event and when it entered the log.
struct Recorded {
    var event: ProposedEvent
    var recordedAt: Timestamp
}

func day(_ y: Int, _ m: Int, _ d: Int) -> CalendarDate { CalendarDate(year: y, month: m, day: d)! }
func at(_ y: Int, _ m: Int, _ d: Int, _ hour: Int = 10) -> Timestamp { Timestamp(day(y, m, d), hour: hour) }
func month(_ y: Int, _ m: Int) -> YearMonth { YearMonth(year: y, month: m)! }

/// A fact that occurred at 10:00 on a day and was recorded at 16:00 the same day, or at `recorded`.
func fact(_ stream: StreamID, _ payload: EventPayload, _ occurred: Timestamp, recorded: Timestamp? = nil,
          actor: String = "admin", organisation: String = "secretariat", id: UUID = UUID()) -> Recorded {
    let rec = recorded ?? Timestamp(occurred.date, hour: 16)
    return Recorded(event: ProposedEvent(id: id, stream: stream, payload: payload, occurredAt: occurred, actor: actor, organisation: organisation),
                    recordedAt: rec)
}

func pseudonym(_ n: UInt64) -> Pseudonym { Pseudonym(high: 0xABCD, low: n) }
