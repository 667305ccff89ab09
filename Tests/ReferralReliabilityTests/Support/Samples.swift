import Foundation
import ReferralEvents

/// One valid payload of every event type, and a registry that the append tests build on.
enum Samples {
    static let day = CalendarDate(year: 2024, month: 3, day: 1)!
    static let at = Timestamp(day, hour: 10)
    /// The tests' clock: a fixed "now" some months after `at`.
    static let now = Timestamp(CalendarDate(year: 2024, month: 6, day: 1)!, hour: 12)
    static let resident = Pseudonym(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)

    static let payloads: [EventPayload] = [
        .organisationRegistered(.init(organisationId: "jobcenter", name: "Jobcenter Fredericia", kind: .municipality, sector: .jobcenter, municipality: "Fredericia")),
        .housingAreaRegistered(.init(areaId: "nord", name: "Fredericia Nord", municipality: "kommune", housingOrganisations: ["boligkontoret"], plan: "Plan 2022-2025", planFrom: CalendarDate(year: 2022, month: 1, day: 1)!, planTo: CalendarDate(year: 2025, month: 12, day: 31)!)),
        .liaisonRegistered(.init(liaisonId: "lis-01", name: "Anne Jensen", organisationId: "secretariat")),
        .targetGroupDefined(.init(code: "jobparat", label: "Jobparat", effectiveFrom: CalendarDate(year: 2020, month: 1, day: 1)!, effectiveTo: nil)),
        .caseOpened(.init(resident: resident, areaId: "nord", organisationId: "secretariat", liaisonId: "lis-01", targetGroup: "jobparat", ageBand: .from25to29, gender: .female, personalData: SealedData(combined: Array(repeating: 7, count: 40)))),
        .caseAssigned(.init(liaisonId: "lis-01", reason: "Ny kontaktperson")),
        .consentGiven(.init(consentId: "K1", parties: ["jobcenter"], purposes: [.referral, .informationSharing], form: .written, validUntil: CalendarDate(year: 2024, month: 12, day: 31)!)),
        .consentWithdrawn(.init(consentId: "K1", reason: "Borgeren ønsker det")),
        .referralMade(.init(referralId: "R1", kind: .jobcenterContact, fromOrganisation: "secretariat", toOrganisation: "jobcenter", reason: "Ønsker job", decidedBy: "lis-01")),
        .referralAnswered(.init(referralId: "R1", accepted: true, reason: "")),
        .jobcenterContactHeld(.init(contactKind: .first, jobcenter: "jobcenter", referralId: "R1")),
        .placementStarted(.init(placementId: "P1", kind: .workPlacement, employer: "grocer", startDate: day, plannedEndDate: day.adding(days: 28), hoursPerWeek: Hours(hundredths: 2000), referralId: "R1")),
        .placementEnded(.init(placementId: "P1", endDate: day.adding(days: 28), outcome: .ordinaryJob)),
        .outcomeRecorded(.init(monthsAfterClose: 3, status: .selfSupporting)),
        .caseClosed(.init(reason: "I job")),
        .caseReopened(.init(reason: "Mistede jobbet")),
        .hoursAgreementMade(.init(agreementId: "A1", employee: "MK", payingOrganisation: "jobcenter", servedOrganisations: ["secretariat"], servedAreas: ["nord"], hoursPerWeek: Hours(hundredths: 1850), validFrom: CalendarDate(year: 2024, month: 1, day: 1)!, validTo: nil)),
        .sharedHoursLogged(.init(date: day, hours: Hours(hundredths: 750), areaId: "nord", servedOrganisation: "secretariat", activity: "Jobcafé")),
        .hoursAgreementEnded(.init(endDate: day, reason: "Projektet sluttede")),
        .eventRetracted(.init(retractedEventId: UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)), reason: "Forkert sag")),
        .residentErased(.init(resident: resident, reason: "Anmodning", legalBasis: "GDPR art. 17")),
        .erasureRefused(.init(resident: resident, reason: "Journalpligt", legalBasis: "Offentlighedsloven § 15")),
    ]

    /// The stored bytes of one event per type, some with correlation and causation ids.
    static func records() throws -> [[UInt8]] {
        try payloads.enumerated().map { i, payload in
            let event = ProposedEvent(stream: StreamID("case-C\(i)"), payload: payload, occurredAt: at, actor: "lis-01", organisation: "secretariat",
                                      correlationId: i % 2 == 0 ? UUID() : nil, causationId: i % 3 == 0 ? UUID() : nil)
            return try EventRecord.encode(event, position: UInt64(i + 1), version: UInt64(i % 4 + 1), recordedAt: at, previousHash: .zero).bytes
        }
    }

    static func event(_ stream: StreamID, _ payload: EventPayload, at: Timestamp = at, id: UUID = UUID()) -> ProposedEvent {
        ProposedEvent(id: id, stream: stream, payload: payload, occurredAt: at, actor: "lis-01", organisation: "secretariat")
    }

    /// Organisations, an area, a liaison and a target group; then case C1 with consent and a
    /// referral, and agreement A1: enough for every event type to have a valid form.
    static var registry: [ProposedEvent] {
        let r = StreamID.registry
        let t = Timestamp(CalendarDate(year: 2024, month: 1, day: 2)!, hour: 9)
        return [
            event(r, .organisationRegistered(.init(organisationId: "jobcenter", name: "Jobcenter Fredericia", kind: .municipality, sector: .jobcenter, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "secretariat", name: "Sekretariatet", kind: .secretariat, sector: .housingSocial, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "boligkontoret", name: "Boligkontoret", kind: .housingOrganisation, sector: .housingSocial, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "kommune", name: "Fredericia Kommune", kind: .municipality, sector: .other, municipality: "Fredericia")), at: t),
            event(r, .organisationRegistered(.init(organisationId: "grocer", name: "Købmanden", kind: .employer, sector: .other, municipality: "Fredericia")), at: t),
            event(r, .housingAreaRegistered(.init(areaId: "nord", name: "Fredericia Nord", municipality: "kommune", housingOrganisations: ["boligkontoret"], plan: "Plan 2022-2025", planFrom: CalendarDate(year: 2022, month: 1, day: 1)!, planTo: CalendarDate(year: 2025, month: 12, day: 31)!)), at: t),
            event(r, .liaisonRegistered(.init(liaisonId: "lis-01", name: "Anne Jensen", organisationId: "secretariat")), at: t),
            event(r, .targetGroupDefined(.init(code: "jobparat", label: "Jobparat", effectiveFrom: CalendarDate(year: 2020, month: 1, day: 1)!, effectiveTo: nil)), at: t),
            event(.case("C1"), payloads[4], at: Timestamp(CalendarDate(year: 2024, month: 2, day: 1)!, hour: 9)),
            event(.case("C1"), payloads[6], at: Timestamp(CalendarDate(year: 2024, month: 2, day: 2)!, hour: 9)),
            event(.case("C1"), payloads[8], at: Timestamp(CalendarDate(year: 2024, month: 2, day: 3)!, hour: 9)),
            event(.agreement("A1"), payloads[16], at: t),
        ]
    }
}
