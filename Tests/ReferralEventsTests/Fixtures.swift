import Foundation
import ReferralEvents

/// A fresh store in a temporary directory, with a small registry: two jobcenters, a
/// housing organisation, an employer, one area, two liaisons and a target group.
struct Fixture {
    let directory: String
    let store: EventStore
    static let today = Timestamp(CalendarDate(year: 2024, month: 6, day: 1)!, hour: 12)

    init(initialMapSize: Int = 64 << 20, seed: Bool = true) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("referral-test-\(UUID().uuidString)").path
        store = try EventStore(at: directory, create: true, durable: false, initialMapSize: initialMapSize, clock: { Fixture.today })
        if seed { try store.append(Fixture.registry, recordedAt: Fixture.at(2024, 1, 2)) }
    }

    static func day(_ y: Int, _ m: Int, _ d: Int) -> CalendarDate { CalendarDate(year: y, month: m, day: d)! }
    static func at(_ y: Int, _ m: Int, _ d: Int) -> Timestamp { Timestamp(day(y, m, d), hour: 10) }

    static func event(_ stream: StreamID, _ payload: EventPayload, at: Timestamp = at(2024, 3, 1), id: UUID = UUID()) -> ProposedEvent {
        ProposedEvent(id: id, stream: stream, payload: payload, occurredAt: at, actor: "fre-lis-01", organisation: "secretariat-fredericia")
    }

    static var registry: [ProposedEvent] {
        let r = StreamID.registry
        let t = at(2024, 1, 2)
        return [
            event(r, .organisationRegistered(.init(organisationId: "jobcenter-fredericia", name: "Jobcenter Fredericia", kind: .municipality, sector: .jobcenter, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "secretariat-fredericia", name: "Boligsocialt sekretariat", kind: .secretariat, sector: .housingSocial, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "boligkontoret", name: "Boligkontoret Fredericia", kind: .housingOrganisation, sector: .housingSocial, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "fredericia-kommune", name: "Fredericia Kommune", kind: .municipality, sector: .other, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "grocer-1", name: "Den lokale købmand", kind: .employer, sector: .other, municipality: "Fredericia")), at: t),
            event(r, .housingAreaRegistered(.init(areaId: "fredericia-nord", name: "Fredericia Nord", municipality: "fredericia-kommune", housingOrganisations: ["boligkontoret"], plan: "Fredericia 2022-2025", planFrom: day(2022, 1, 1), planTo: day(2025, 12, 31))), at: t),
            event(r, .liaisonRegistered(.init(liaisonId: "fre-lis-01", name: "Anne Jensen", organisationId: "secretariat-fredericia")), at: t),
            event(r, .liaisonRegistered(.init(liaisonId: "fre-lis-02", name: "Bo Hansen", organisationId: "jobcenter-fredericia")), at: t),
            event(r, .targetGroupDefined(.init(code: "jobparat", label: "Jobparat", effectiveFrom: day(2020, 1, 1), effectiveTo: nil)), at: t),
        ]
    }

    static func opened(_ caseID: String = "C1", at: Timestamp = at(2024, 2, 1)) -> ProposedEvent {
        event(.case(caseID), .caseOpened(.init(resident: Pseudonym(high: 1, low: UInt64(caseID.hashValue.magnitude)), areaId: "fredericia-nord",
                                                organisationId: "secretariat-fredericia", liaisonId: "fre-lis-01", targetGroup: "jobparat",
                                                ageBand: .from25to29, gender: .female)), at: at)
    }

    static func consent(_ caseID: String = "C1", id: String = "K1", parties: [String] = ["jobcenter-fredericia"],
                        until: CalendarDate? = day(2024, 12, 31), at: Timestamp = at(2024, 2, 2)) -> ProposedEvent {
        event(.case(caseID), .consentGiven(.init(consentId: id, parties: parties, purposes: [.referral, .informationSharing], form: .written, validUntil: until)), at: at)
    }

    static func referral(_ caseID: String = "C1", id: String = "R1", to: String = "jobcenter-fredericia", at: Timestamp = at(2024, 3, 1)) -> ProposedEvent {
        event(.case(caseID), .referralMade(.init(referralId: id, kind: .jobcenterContact, fromOrganisation: "secretariat-fredericia",
                                                 toOrganisation: to, reason: "Ønsker job", decidedBy: "fre-lis-01")), at: at)
    }

    /// Count of events in the log.
    var count: UInt64 { (try? store.head().position) ?? 0 }
}
