import Foundation
@testable import ReferralEvents

/// One realistic sample of every event type, for any test that needs events.
///
/// `Samples.full` holds one event per `EventType.all` (same order) with every optional
/// field set; `Samples.minimal` holds the types that have optional fields again, with
/// all of them left out. `Samples.recorded` is both, chained as a log would store them
/// (positions from 1, stream versions, recorded-at, real hashes), made with
/// `EventRecord.encode` and read back with `EventRecord.decode`.
///
/// The data follow Viborg's social master plan 2021–2025 (Ellekonebakken), with
/// Jobcenter Viborg and the joint secretariat; residents appear only as pseudonyms.
enum Samples {
    static let caseStream = StreamID.case("VIB-0001")
    static let agreementStream = StreamID.agreement("VIB-JC-2024")
    static let resident = Pseudonym(hex: "3f9a6c02d18e4b7aa0c55e91b27d4f60")!
    static let residentStream = StreamID.resident(resident)
    static let correlation = uuid(9001)

    /// A fixed, readable UUID: `5a3b1e00-0000-4000-8000-00000000<n>`.
    static func uuid(_ n: Int) -> UUID {
        let digits = String(n)
        return UUID(uuidString: "5a3b1e00-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
    }

    static func date(_ text: String) -> CalendarDate { CalendarDate(parsing: text)! }
    static func time(_ text: String) -> Timestamp { Timestamp(parsing: text)! }

    /// 60 bytes standing in for AES-GCM output (nonce, ciphertext, tag).
    static let sealed = SealedData(combined: (0..<60).map { UInt8(($0 * 37 + 11) % 256) })

    private static func event(_ n: Int, _ stream: StreamID, _ at: String, _ payload: EventPayload,
                              actor: String = "vib-lis-01", organisation: OrganisationID = "secretariat-viborg",
                              correlated: Bool = false, causedBy: Int? = nil) -> ProposedEvent {
        ProposedEvent(id: uuid(n), stream: stream, payload: payload, occurredAt: time(at), actor: actor,
                      organisation: organisation, correlationId: correlated ? correlation : nil,
                      causationId: causedBy.map(uuid))
    }

    /// One event per `EventType.all`, every optional field set.
    static let full: [ProposedEvent] = [
        event(1, .registry, "2024-01-02T08:00:00.000Z", .organisationRegistered(.init(
            organisationId: "jobcenter-viborg", name: "Jobcenter Viborg", kind: .municipality, sector: .jobcenter,
            municipality: "Viborg")), actor: "admin-viborg"),
        event(2, .registry, "2024-01-02T08:05:00.000Z", .housingAreaRegistered(.init(
            areaId: "viborg-ellekonebakken", name: "Ellekonebakken", municipality: "viborg-kommune",
            housingOrganisations: ["boligselskabet-viborg", "viborg-andelsboligforening"],
            plan: "Viborg helhedsplan 2021-2025", planFrom: date("2021-01-01"), planTo: date("2025-12-31"))),
              actor: "admin-viborg"),
        event(3, .registry, "2024-01-02T08:10:00.000Z", .liaisonRegistered(.init(
            liaisonId: "vib-lis-01", name: "Mette Sørensen", organisationId: "secretariat-viborg")), actor: "admin-viborg"),
        event(4, .registry, "2024-01-02T08:15:00.000Z", .targetGroupDefined(.init(
            code: "jobparat", label: "Jobparat kontanthjælpsmodtager", effectiveFrom: date("2024-01-01"),
            effectiveTo: date("2026-06-30"))), actor: "admin-viborg"),
        event(5, caseStream, "2024-03-01T09:30:00.000Z", .caseOpened(.init(
            resident: resident, areaId: "viborg-ellekonebakken", organisationId: "secretariat-viborg", liaisonId: "vib-lis-01",
            targetGroup: "jobparat", ageBand: .from25to29, gender: .female, personalData: sealed)), correlated: true),
        event(6, caseStream, "2024-03-04T10:00:00.000Z", .caseAssigned(.init(
            liaisonId: "vib-lis-02", reason: "Mette går på barsel; Anders overtager forløbet")), correlated: true),
        event(7, caseStream, "2024-03-04T10:15:00.000Z", .consentGiven(.init(
            consentId: "VIB-0001-C1", parties: ["jobcenter-viborg", "secretariat-viborg"],
            purposes: [.referral, .informationSharing], form: .written, validUntil: date("2025-02-28"))),
              actor: "vib-lis-02", correlated: true),
        event(8, caseStream, "2024-05-21T13:00:00.000Z", .consentWithdrawn(.init(
            consentId: "VIB-0001-C1", reason: "Borgeren ønsker ikke længere at dele oplysninger med jobcentret")),
              actor: "vib-lis-02"),
        event(9, caseStream, "2024-03-05T11:00:00.000Z", .referralMade(.init(
            referralId: "VIB-0001-R1", kind: .workPlacement, fromOrganisation: "secretariat-viborg",
            toOrganisation: "jobcenter-viborg", reason: "Ønsker praktik i detailhandel; har erfaring fra Netto",
            decidedBy: "vib-lis-02")), actor: "vib-lis-02", correlated: true, causedBy: 7),
        event(10, caseStream, "2024-03-08T09:00:00.000Z", .referralAnswered(.init(
            referralId: "VIB-0001-R1", accepted: true, reason: "Passer til virksomhedspraktik hos lokal købmand")),
              actor: "jc-viborg-ahj", organisation: "jobcenter-viborg", correlated: true, causedBy: 9),
        event(11, caseStream, "2024-03-12T10:30:00.000Z", .jobcenterContactHeld(.init(
            contactKind: .first, jobcenter: "jobcenter-viborg", referralId: "VIB-0001-R1")),
              actor: "jc-viborg-ahj", organisation: "jobcenter-viborg", correlated: true, causedBy: 10),
        event(12, caseStream, "2024-04-02T08:00:00.000Z", .placementStarted(.init(
            placementId: "VIB-0001-P1", kind: .workPlacement, employer: "dagli-brugsen-viborg", startDate: date("2024-04-02"),
            plannedEndDate: date("2024-04-29"), hoursPerWeek: Hours(hundredths: 1850), referralId: "VIB-0001-R1")),
              actor: "jc-viborg-ahj", organisation: "jobcenter-viborg", correlated: true),
        event(13, caseStream, "2024-04-29T15:00:00.000Z", .placementEnded(.init(
            placementId: "VIB-0001-P1", endDate: date("2024-04-29"), outcome: .ordinaryJob)),
              actor: "jc-viborg-ahj", organisation: "jobcenter-viborg"),
        event(14, caseStream, "2024-09-02T09:00:00.000Z", .outcomeRecorded(.init(monthsAfterClose: 3, status: .ordinaryJob))),
        event(15, caseStream, "2024-06-01T12:00:00.000Z", .caseClosed(.init(reason: "Borgeren er i ordinært job"))),
        event(16, caseStream, "2024-11-18T09:00:00.000Z", .caseReopened(.init(reason: "Jobbet ophørte; borgeren henvender sig igen"))),
        event(17, agreementStream, "2024-01-05T09:00:00.000Z", .hoursAgreementMade(.init(
            agreementId: "VIB-JC-2024", employee: "AHJ", payingOrganisation: "jobcenter-viborg",
            servedOrganisations: ["secretariat-viborg"], servedAreas: ["viborg-ellekonebakken", "viborg-klostervaenget"],
            hoursPerWeek: Hours(hundredths: 1500), validFrom: date("2024-01-08"), validTo: date("2024-12-31"))),
              actor: "admin-viborg", organisation: "jobcenter-viborg"),
        event(18, agreementStream, "2024-01-09T16:00:00.000Z", .sharedHoursLogged(.init(
            date: date("2024-01-09"), hours: Hours(hundredths: 725), areaId: "viborg-ellekonebakken",
            servedOrganisation: "secretariat-viborg", activity: "Åben jobcafé i beboerhuset")),
              actor: "jc-viborg-ahj", organisation: "jobcenter-viborg"),
        event(19, agreementStream, "2024-12-31T12:00:00.000Z", .hoursAgreementEnded(.init(
            endDate: date("2024-12-31"), reason: "Aftalen udløb; forlænges i ny aftale for 2025")),
              actor: "admin-viborg", organisation: "jobcenter-viborg"),
        event(20, caseStream, "2024-03-08T14:00:00.000Z", .eventRetracted(.init(
            retractedEventId: uuid(10), reason: "Svaret blev registreret på den forkerte henvisning")),
              actor: "jc-viborg-ahj", organisation: "jobcenter-viborg", causedBy: 10),
        event(21, residentStream, "2025-06-16T10:00:00.000Z", .residentErased(.init(
            resident: resident, reason: "Ny anmodning om sletning efter klage; sagen er overført til arkivet",
            legalBasis: "GDPR art. 17(1)(a)")),
              actor: "dpo-viborg", organisation: "viborg-kommune"),
        event(22, residentStream, "2025-01-10T10:00:00.000Z", .erasureRefused(.init(
            resident: resident, reason: "Kommunen har pligt til at opbevare sagen i 5 år",
            legalBasis: "Arkivloven § 3; KLE 15.00.00")),
              actor: "dpo-viborg", organisation: "viborg-kommune"),
    ]

    /// The types that have optional fields, again with all of them left out.
    static let minimal: [ProposedEvent] = [
        event(104, .registry, "2024-01-02T08:20:00.000Z", .targetGroupDefined(.init(
            code: "aktivitetsparat", label: "Aktivitetsparat", effectiveFrom: date("2024-01-01"))), actor: "admin-viborg"),
        event(105, .case("VIB-0002"), "2024-03-02T09:30:00.000Z", .caseOpened(.init(
            resident: Pseudonym(hex: "a0b1c2d3e4f5061728394a5b6c7d8e9f")!, areaId: "viborg-ellekonebakken",
            organisationId: "secretariat-viborg", liaisonId: "vib-lis-01", targetGroup: "aktivitetsparat",
            ageBand: .from60, gender: .unknown))),
        event(107, .case("VIB-0002"), "2024-03-02T10:00:00.000Z", .consentGiven(.init(
            consentId: "VIB-0002-C1", parties: ["secretariat-viborg"], purposes: [.personalDetails], form: .oral, validUntil: nil))),
        event(111, .case("VIB-0002"), "2024-03-06T10:00:00.000Z", .jobcenterContactHeld(.init(
            contactKind: .followUp, jobcenter: "jobcenter-viborg")), actor: "jc-viborg-ahj", organisation: "jobcenter-viborg"),
        event(112, .case("VIB-0002"), "2024-03-11T08:00:00.000Z", .placementStarted(.init(
            placementId: "VIB-0002-P1", kind: .leisureJob, employer: "viborg-idraetscenter", startDate: date("2024-03-11"),
            plannedEndDate: nil, hoursPerWeek: Hours(hundredths: 800)))),
        event(117, .agreement("VIB-BU-2024"), "2024-02-01T09:00:00.000Z", .hoursAgreementMade(.init(
            agreementId: "VIB-BU-2024", employee: "KLM", payingOrganisation: "viborg-boern-og-unge",
            servedOrganisations: [], servedAreas: ["viborg-ellekonebakken"], hoursPerWeek: Hours(hundredths: 1000),
            validFrom: date("2024-02-01"), validTo: nil)), actor: "admin-viborg", organisation: "viborg-boern-og-unge"),
        event(118, .agreement("VIB-BU-2024"), "2024-02-02T15:00:00.000Z", .sharedHoursLogged(.init(
            date: date("2024-02-02"), hours: Hours(hundredths: 300), areaId: nil, servedOrganisation: nil,
            activity: "Lektiecafé")), actor: "vib-bu-klm", organisation: "viborg-boern-og-unge"),
    ]

    /// `full` and `minimal` in the order they occurred, stored as a log would: chained,
    /// with positions, stream versions, recorded-at times (minutes to days after
    /// occurred-at, never decreasing) and hashes.
    static let recorded: [RecordedEvent] = {
        var out: [RecordedEvent] = []
        var previous = Digest.zero
        var versions: [StreamID: UInt64] = [:]
        var recordedAt = Timestamp(millisecondsSinceEpoch: 0)
        for (k, e) in (full + minimal).sorted(by: { $0.occurredAt < $1.occurredAt }).enumerated() {
            let version = (versions[e.stream] ?? 0) + 1
            versions[e.stream] = version
            // Recorded a few minutes after it occurred (every fifth two days late), and
            // never before the previous event was recorded.
            recordedAt = max(recordedAt, e.occurredAt.adding(days: k % 5 == 0 ? 2 : 0))
            recordedAt = Timestamp(millisecondsSinceEpoch: recordedAt.millisecondsSinceEpoch + 180_123)
            let (bytes, hash) = try! EventRecord.encode(e, position: UInt64(k + 1), version: version, recordedAt: recordedAt,
                                                   previousHash: previous)
            previous = hash
            out.append(try! bytes.withUnsafeBytes { try EventRecord.decode($0) })
        }
        return out
    }()

    /// The recorded sample of `type` with every optional field set.
    static func recorded(_ type: EventType) -> RecordedEvent {
        let id = full(type).id
        return recorded.first { $0.id == id }!
    }

    /// The proposed sample of `type` with every optional field set.
    static func full(_ type: EventType) -> ProposedEvent {
        full.first { $0.payload.type == type }!
    }

    /// The sample of `type` without its optional fields, or nil if it has none.
    static func minimal(_ type: EventType) -> ProposedEvent? {
        minimal.first { $0.payload.type == type }
    }
}

extension RecordedEvent {
    /// What was appended to make this event: the envelope fields a writer chooses.
    var asProposed: ProposedEvent {
        ProposedEvent(id: envelope.id, stream: envelope.stream, payload: payload, occurredAt: envelope.occurredAt,
                      actor: envelope.actor, organisation: envelope.organisation,
                      correlationId: envelope.correlationId, causationId: envelope.causationId)
    }
}
