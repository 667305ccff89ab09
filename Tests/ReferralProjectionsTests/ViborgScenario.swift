import Foundation
import ReferralEvents

/// Viborg's plan 2021–2025 with its five areas and seven cases, recorded as they happened
/// (and one late registration plus one retraction). Every expected figure in
/// `ViborgTests` is worked out by hand from this list.
///
/// | case | area            | org          | liaison    | resident | group           | age   | gender |
/// |------|-----------------|--------------|------------|----------|-----------------|-------|--------|
/// | V1   | ellekonebakken  | secretariat  | vib-lis-01 | P1       | jobparat        | 25-29 | female |
/// | V2   | klostervaenget  | secretariat  | vib-lis-01 | P2       | aktivitetsparat | 30-39 | male   |
/// | V3   | houlkaervaenget | secretariat  | vib-lis-02 | P3       | jobparat        | 18-24 | female |
/// | V4   | vestervang      | jobcenter    | vib-jc-01  | P4       | jobparat        | 40-49 | male   |
/// | V5   | ringparken      | secretariat  | vib-lis-02 | P1 again | aktivitetsparat | 25-29 | female |
/// | V6   | ellekonebakken  | secretariat  | vib-lis-01 | P5       | jobparat        | 25-29 | male   |
/// | V7   | klostervaenget  | secretariat  | vib-lis-02 | P6       | jobparat        | 30-39 | other  |
enum Viborg {
    static let sec = "secretariat-viborg", jc = "jobcenter-viborg", bu = "bu-viborg", school = "mercantec", bilka = "bilka-viborg"
    static let areas = ["ellekonebakken", "klostervaenget", "houlkaervaenget", "vestervang", "ringparken"]
    static let retractedReferral = UUID()

    /// When the Q1 report was made: after V5's referral, before V3's placement (recorded 1 April 16:00).
    static let reportTime = at(2024, 4, 1, 12)
    /// Before V7's retraction and late referral (recorded 10 April).
    static let caseloadTime = at(2024, 4, 5, 23)

    static var registry: [Recorded] {
        let r = StreamID.registry
        let t = at(2023, 10, 1)
        func org(_ id: String, _ kind: OrganisationKind, _ sector: Sector) -> Recorded {
            fact(r, .organisationRegistered(.init(organisationId: id, name: id, kind: kind, sector: sector, municipality: "Viborg")), t)
        }
        var out = [
            org(sec, .secretariat, .housingSocial), org(jc, .municipality, .jobcenter), org(bu, .municipality, .childrenAndYouth),
            org(school, .school, .school), org(bilka, .employer, .other), org("viborg-kommune", .municipality, .other),
            org("boligselskabet-viborg", .housingOrganisation, .housingSocial),
        ]
        for a in areas {
            out.append(fact(r, .housingAreaRegistered(.init(areaId: a, name: a.capitalized, municipality: "viborg-kommune",
                                                            housingOrganisations: ["boligselskabet-viborg"], plan: "Viborg 2021-2025",
                                                            planFrom: day(2021, 1, 1), planTo: day(2025, 12, 31))), t))
        }
        out += [
            fact(r, .liaisonRegistered(.init(liaisonId: "vib-lis-01", name: "Lis Holm", organisationId: sec)), t),
            fact(r, .liaisonRegistered(.init(liaisonId: "vib-lis-02", name: "Ole Dam", organisationId: sec)), t),
            fact(r, .liaisonRegistered(.init(liaisonId: "vib-jc-01", name: "Eva Berg", organisationId: jc)), t),
            fact(r, .targetGroupDefined(.init(code: "jobparat", label: "Jobparat", effectiveFrom: day(2020, 1, 1))), t),
            fact(r, .targetGroupDefined(.init(code: "aktivitetsparat", label: "Aktivitetsparat", effectiveFrom: day(2020, 1, 1))), t),
        ]
        return out
    }

    static func open(_ c: String, _ area: String, _ org: String, _ liaison: String, _ resident: UInt64, _ tg: String,
                     _ age: AgeBand, _ gender: Gender, _ t: Timestamp) -> Recorded {
        fact(.case(c), .caseOpened(.init(resident: pseudonym(resident), areaId: area, organisationId: org, liaisonId: liaison,
                                         targetGroup: tg, ageBand: age, gender: gender)), t, actor: liaison, organisation: org)
    }

    static func consent(_ c: String, _ parties: [String], until: CalendarDate, _ t: Timestamp) -> Recorded {
        fact(.case(c), .consentGiven(.init(consentId: "K1", parties: parties, purposes: [.referral, .informationSharing],
                                           form: .written, validUntil: until)), t)
    }

    static func refer(_ c: String, _ id: String, _ kind: ReferralKind, to: String, _ t: Timestamp, recorded: Timestamp? = nil,
                      eventID: UUID = UUID()) -> Recorded {
        fact(.case(c), .referralMade(.init(referralId: id, kind: kind, fromOrganisation: sec, toOrganisation: to,
                                           reason: "Ønsker hjælp", decidedBy: "vib-lis-01")), t, recorded: recorded, id: eventID)
    }

    static func answer(_ c: String, _ id: String, _ accepted: Bool, _ t: Timestamp) -> Recorded {
        fact(.case(c), .referralAnswered(.init(referralId: id, accepted: accepted, reason: accepted ? "Plads" : "Ingen plads")), t)
    }

    static func contact(_ c: String, _ t: Timestamp) -> Recorded {
        fact(.case(c), .jobcenterContactHeld(.init(contactKind: .first, jobcenter: jc)), t)
    }

    /// The whole scenario in recorded-at order.
    static var events: [Recorded] {
        registry + [
            open("V6", "ellekonebakken", sec, "vib-lis-01", 5, "jobparat", .from25to29, .male, at(2023, 11, 1)),
            open("V1", "ellekonebakken", sec, "vib-lis-01", 1, "jobparat", .from25to29, .female, at(2024, 1, 10)),
            consent("V1", [jc, bilka], until: day(2024, 6, 30), at(2024, 1, 10)),
            refer("V1", "R1", .jobcenterContact, to: jc, at(2024, 1, 15)),
            answer("V1", "R1", true, at(2024, 1, 17)),
            open("V2", "klostervaenget", sec, "vib-lis-01", 2, "aktivitetsparat", .from30to39, .male, at(2024, 1, 20)),
            consent("V2", [jc, bu], until: day(2024, 3, 31), at(2024, 1, 20)),
            contact("V1", at(2024, 1, 22)),
            fact(.case("V6"), .caseClosed(.init(reason: "Flyttet")), at(2024, 1, 31)),
            fact(.case("V1"), .placementStarted(.init(placementId: "P1", kind: .workPlacement, employer: bilka, startDate: day(2024, 2, 1),
                                                      plannedEndDate: day(2024, 2, 28), hoursPerWeek: Hours(30)!)), at(2024, 2, 1)),
            open("V3", "houlkaervaenget", sec, "vib-lis-02", 3, "jobparat", .from18to24, .female, at(2024, 2, 1)),
            consent("V3", [jc, school], until: day(2024, 12, 31), at(2024, 2, 1)),
            refer("V2", "R1", .jobcenterContact, to: jc, at(2024, 2, 5)),
            refer("V2", "R2", .mentor, to: bu, at(2024, 2, 10)),
            answer("V2", "R2", false, at(2024, 2, 12)),
            refer("V3", "R1", .education, to: school, at(2024, 2, 15)),
            open("V4", "vestervang", jc, "vib-jc-01", 4, "jobparat", .from40to49, .male, at(2024, 2, 15)),
            consent("V4", [sec, jc], until: day(2024, 4, 15), at(2024, 2, 15)),
            answer("V3", "R1", true, at(2024, 2, 20)),
            fact(.case("V1"), .placementEnded(.init(placementId: "P1", endDate: day(2024, 2, 28), outcome: .ordinaryJob)), at(2024, 2, 28)),
            refer("V3", "R2", .jobcenterContact, to: jc, at(2024, 3, 1)),
            answer("V3", "R2", true, at(2024, 3, 4)),
            open("V7", "klostervaenget", sec, "vib-lis-02", 6, "jobparat", .from30to39, .other, at(2024, 3, 5)),
            consent("V7", [jc], until: day(2024, 12, 31), at(2024, 3, 5)),
            contact("V2", at(2024, 3, 6)),
            refer("V7", "R1", .workPlacement, to: jc, at(2024, 3, 10), eventID: retractedReferral),
            contact("V3", at(2024, 3, 11)),
            fact(.case("V1"), .caseClosed(.init(reason: "I job")), at(2024, 3, 15)),
            open("V5", "ringparken", sec, "vib-lis-02", 1, "aktivitetsparat", .from25to29, .female, at(2024, 3, 20)),
            consent("V5", [jc], until: day(2024, 9, 30), at(2024, 3, 20)),
            refer("V5", "R1", .jobcenterContact, to: jc, at(2024, 3, 25)),
            // --- the Q1 report is made here (1 April 12:00) ---
            fact(.case("V3"), .placementStarted(.init(placementId: "P1", kind: .apprenticeship, employer: school, startDate: day(2024, 4, 1),
                                                      plannedEndDate: nil, hoursPerWeek: Hours(37)!)), at(2024, 4, 1)),
            contact("V5", at(2024, 4, 2)),
            // --- caseload looked at here (5 April 23:00) ---
            fact(.case("V7"), .eventRetracted(.init(retractedEventId: retractedReferral, reason: "Registreret på forkert borger")),
                 at(2024, 4, 10), actor: "vib-lis-02"),
            refer("V7", "R2", .jobcenterContact, to: jc, at(2024, 3, 28), recorded: at(2024, 4, 10, 16)),
            fact(.case("V1"), .outcomeRecorded(.init(monthsAfterClose: 1, status: .ordinaryJob)), at(2024, 4, 15)),
            fact(.case("V6"), .outcomeRecorded(.init(monthsAfterClose: 3, status: .education)), at(2024, 5, 1)),
            fact(.case("V6"), .caseReopened(.init(reason: "Flyttet tilbage")), at(2024, 5, 10)),
        ]
    }
}
