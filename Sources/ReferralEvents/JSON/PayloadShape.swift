import Foundation

/// The JSON form of one event type's `data`: its fields, in the order of the payload
/// struct, and how to decode it.
///
/// Field names are the payload structs' synthesized `Codable` keys; the tests check that
/// every sample encodes to exactly these keys, so this table and the structs stay in step.
struct PayloadShape: Sendable {
    var type: EventType
    /// What the event records; the schema's `description`.
    var summary: String
    var fields: [FieldShape]
    /// Decodes checked `data` into the payload.
    var decode: @Sendable (JSONValue) throws -> EventPayload

    init<P: Decodable & Sendable>(_ type: EventType, _ payload: P.Type, _ wrap: @escaping @Sendable (P) -> EventPayload,
                       _ summary: String, _ fields: [FieldShape]) {
        self.type = type
        self.summary = summary
        self.fields = fields
        self.decode = { data in wrap(try JSONValueDecoder.decode(P.self, from: data)) }
    }

    /// `Schemas/<name>.v<version>.json`'s file name, e.g. `case-opened.v1.json`.
    var schemaFileName: String { PayloadShape.schemaFileName(type) }

    static func schemaFileName(_ type: EventType) -> String { "\(type.name).v\(type.schemaVersion).json" }

    /// The shape of `type`, or nil for a type without one (a bug the tests catch).
    static func forType(_ type: EventType) -> PayloadShape? {
        all.first { $0.type == type }
    }

    /// One shape per `EventType.all`, in the same order.
    static let all: [PayloadShape] = [
        // Registry
        PayloadShape(.organisationRegistered, OrganisationRegistered.self, { .organisationRegistered($0) },
                     "A party joined the collaboration: a municipality's jobcenter, a housing organisation, the secretariat, an employer, a school or a civil-society partner.", [
            FieldShape("organisationId", .identifier, "Registry id, e.g. jobcenter-viborg."),
            FieldShape("name", .text),
            FieldShape("kind", .vocabulary(of: OrganisationKind.self)),
            FieldShape("sector", .vocabulary(of: Sector.self)),
            FieldShape("municipality", .text, "The municipality it belongs to or works in, e.g. Viborg."),
        ]),
        PayloadShape(.housingAreaRegistered, HousingAreaRegistered.self, { .housingAreaRegistered($0) },
                     "A housing area covered by a social master plan (boligsocial helhedsplan).", [
            FieldShape("areaId", .identifier),
            FieldShape("name", .text),
            FieldShape("municipality", .identifier, "The municipality's organisation id."),
            FieldShape("housingOrganisations", .list(.identifier, minItems: 0)),
            FieldShape("plan", .text, "The plan's name, e.g. Viborg helhedsplan 2021-2025."),
            FieldShape("planFrom", .date),
            FieldShape("planTo", .date),
        ]),
        PayloadShape(.liaisonRegistered, LiaisonRegistered.self, { .liaisonRegistered($0) },
                     "A staff member who follows residents and records events.", [
            FieldShape("liaisonId", .identifier),
            FieldShape("name", .text, "Display name of the staff member (staff, never residents)."),
            FieldShape("organisationId", .identifier),
        ]),
        PayloadShape(.targetGroupDefined, TargetGroupDefined.self, { .targetGroupDefined($0) },
                     "A target group (målgruppe) in effect from a date, optionally until a date.", [
            FieldShape("code", .identifier, "Reference data, never a closed vocabulary, e.g. jobparat."),
            FieldShape("label", .text),
            FieldShape("effectiveFrom", .date),
            .optional("effectiveTo", .date),
        ]),
        // Case
        PayloadShape(.caseOpened, CaseOpened.self, { .caseOpened($0) },
                     "A resident starts being followed by the secretariat.", [
            FieldShape("resident", .pseudonym, "Keyed hash of the resident's CPR number; never the number itself."),
            FieldShape("areaId", .identifier),
            FieldShape("organisationId", .identifier),
            FieldShape("liaisonId", .identifier),
            FieldShape("targetGroup", .identifier, "A target group code defined in the registry."),
            FieldShape("ageBand", .vocabulary(of: AgeBand.self)),
            FieldShape("gender", .vocabulary(of: Gender.self)),
            .optional("personalData", .sealed, "Name, CPR number and contact details sealed with the resident's own key (AES-256-GCM nonce, ciphertext and tag)."),
        ]),
        PayloadShape(.caseAssigned, CaseAssigned.self, { .caseAssigned($0) },
                     "The case moves to another liaison.", [
            FieldShape("liaisonId", .identifier),
            FieldShape("reason", .text),
        ]),
        PayloadShape(.consentGiven, ConsentGiven.self, { .consentGiven($0) },
                     "The resident allows named parties to act for named purposes, until a date at most.", [
            FieldShape("consentId", .identifier),
            FieldShape("parties", .list(.identifier, minItems: 1), "Organisation ids the consent covers."),
            FieldShape("purposes", .list(.vocabulary(of: ConsentPurpose.self), minItems: 1)),
            FieldShape("form", .vocabulary(of: ConsentForm.self)),
            .optional("validUntil", .date),
        ]),
        PayloadShape(.consentWithdrawn, ConsentWithdrawn.self, { .consentWithdrawn($0) },
                     "The resident takes a consent back.", [
            FieldShape("consentId", .identifier),
            FieldShape("reason", .text),
        ]),
        PayloadShape(.referralMade, ReferralMade.self, { .referralMade($0) },
                     "A decision to send the resident from one party to another.", [
            FieldShape("referralId", .identifier),
            FieldShape("kind", .vocabulary(of: ReferralKind.self)),
            FieldShape("fromOrganisation", .identifier),
            FieldShape("toOrganisation", .identifier),
            FieldShape("reason", .text),
            FieldShape("decidedBy", .identifier, "The liaison who decided."),
        ]),
        PayloadShape(.referralAnswered, ReferralAnswered.self, { .referralAnswered($0) },
                     "The receiving party accepts or rejects a referral.", [
            FieldShape("referralId", .identifier),
            FieldShape("accepted", .bool),
            FieldShape("reason", .text),
        ]),
        PayloadShape(.jobcenterContactHeld, JobcenterContactHeld.self, { .jobcenterContactHeld($0) },
                     "A meeting between the resident and the jobcenter.", [
            FieldShape("contactKind", .vocabulary(of: ContactKind.self)),
            FieldShape("jobcenter", .identifier),
            .optional("referralId", .identifier, "The referral that led to it, if any."),
        ]),
        PayloadShape(.placementStarted, PlacementStarted.self, { .placementStarted($0) },
                     "A work placement, wage-subsidy job, internship or apprenticeship starts.", [
            FieldShape("placementId", .identifier),
            FieldShape("kind", .vocabulary(of: PlacementKind.self)),
            FieldShape("employer", .identifier),
            FieldShape("startDate", .date),
            .optional("plannedEndDate", .date),
            FieldShape("hoursPerWeek", .hours),
            .optional("referralId", .identifier),
        ]),
        PayloadShape(.placementEnded, PlacementEnded.self, { .placementEnded($0) },
                     "A placement ends, with its outcome.", [
            FieldShape("placementId", .identifier),
            FieldShape("endDate", .date),
            FieldShape("outcome", .vocabulary(of: PlacementOutcome.self)),
        ]),
        PayloadShape(.outcomeRecorded, OutcomeRecorded.self, { .outcomeRecorded($0) },
                     "The resident's status 1, 3, 6 or 12 months after the case closed.", [
            FieldShape("monthsAfterClose", .integer(allowed: [1, 3, 6, 12])),
            FieldShape("status", .vocabulary(of: OutcomeStatus.self)),
        ]),
        PayloadShape(.caseClosed, CaseClosed.self, { .caseClosed($0) },
                     "The secretariat stops following the resident. Every consent lapses.", [
            FieldShape("reason", .text),
        ]),
        PayloadShape(.caseReopened, CaseReopened.self, { .caseReopened($0) },
                     "A closed case is taken up again. Consent must be given anew.", [
            FieldShape("reason", .text),
        ]),
        // Shared employee hours
        PayloadShape(.hoursAgreementMade, HoursAgreementMade.self, { .hoursAgreementMade($0) },
                     "A party agrees to lend an employee's hours to other parties or areas.", [
            FieldShape("agreementId", .identifier),
            FieldShape("employee", .identifier, "The shared employee, by initials or staff id."),
            FieldShape("payingOrganisation", .identifier),
            FieldShape("servedOrganisations", .list(.identifier, minItems: 0)),
            FieldShape("servedAreas", .list(.identifier, minItems: 0)),
            FieldShape("hoursPerWeek", .hours),
            FieldShape("validFrom", .date),
            .optional("validTo", .date),
        ]),
        PayloadShape(.sharedHoursLogged, SharedHoursLogged.self, { .sharedHoursLogged($0) },
                     "Hours the shared employee spent on one day.", [
            FieldShape("date", .date),
            FieldShape("hours", .hours),
            .optional("areaId", .identifier),
            .optional("servedOrganisation", .identifier, "The party the hours were spent for."),
            FieldShape("activity", .text),
        ]),
        PayloadShape(.hoursAgreementEnded, HoursAgreementEnded.self, { .hoursAgreementEnded($0) },
                     "The agreement stops; no hours can be logged after endDate.", [
            FieldShape("endDate", .date),
            FieldShape("reason", .text),
        ]),
        // Corrections and erasure
        PayloadShape(.eventRetracted, EventRetracted.self, { .eventRetracted($0) },
                     "A recorded event was wrong. It stays in the log and the audit; projections leave it out.", [
            FieldShape("retractedEventId", .uuid),
            FieldShape("reason", .text),
        ]),
        PayloadShape(.residentErased, ResidentErased.self, { .residentErased($0) },
                     "A resident's key was destroyed (GDPR art. 17); their sealed personal data can no longer be read.", [
            FieldShape("resident", .pseudonym),
            FieldShape("reason", .text),
            FieldShape("legalBasis", .text),
        ]),
        PayloadShape(.erasureRefused, ErasureRefused.self, { .erasureRefused($0) },
                     "A request to erase a resident was refused, e.g. under the duty to keep records. The key is kept.", [
            FieldShape("resident", .pseudonym),
            FieldShape("reason", .text),
            FieldShape("legalBasis", .text),
        ]),
    ]
}
