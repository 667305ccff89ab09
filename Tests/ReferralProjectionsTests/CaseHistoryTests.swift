import Foundation
import ReferralEvents
import ReferralProjections
import Testing

@Suite struct CaseHistoryTests {
    let w: World

    init() throws {
        w = try World()
        try w.record(Viborg.events)
    }

    @Test func retractionsStandBesideWhatTheyRetracted() throws {
        let h = try w.projections.caseHistory(caseId: "V7")
        #expect(h.entries.map(\.type) == ["case-opened", "consent-given", "referral-made", "event-retracted", "referral-made"])
        #expect(h.entries.map(\.version) == [1, 2, 3, 4, 5])
        let r1 = h.entries[2], retraction = h.entries[3], r2 = h.entries[4]
        #expect(r1.eventId == Viborg.retractedReferral)
        #expect(r1.retractedBy?.position == retraction.position)
        #expect(r1.retractedBy?.reason == "Registreret på forkert borger")
        #expect(r1.retractedBy?.actor == "vib-lis-02")
        #expect(retraction.retracts?.position == r1.position && retraction.retracts?.type == "referral-made")
        #expect(retraction.reason == "Registreret på forkert borger")
        // R2 occurred 28 March and was recorded 10 April: 13 days late, under consent K1.
        #expect(r2.daysRecordedLate == 13)
        #expect(r2.occurredAt == at(2024, 3, 28) && r2.recordedAt == at(2024, 4, 10, 16))
        #expect(r2.coveringConsent == "K1" && r2.consentsInForce == ["K1"])
        #expect(r2.reason == "Ønsker hjælp")
        #expect(r2.fields.contains(HistoryField(name: "to", value: Viborg.jc)))
        #expect(h.entries[0].actor == "vib-lis-02" && h.entries[0].organisation == Viborg.sec)
    }

    @Test func asKnownBeforeTheRetraction() throws {
        let h = try w.projections.caseHistory(caseId: "V7", asKnownAt: Viborg.caseloadTime)
        #expect(h.entries.count == 3)
        #expect(h.entries[2].retractedBy == nil)
        #expect(h.asOfPosition == (try w.store.position(asKnownAt: Viborg.caseloadTime)))
    }

    @Test func consentsInForceFollowTheCase() throws {
        let h = try w.projections.caseHistory(caseId: "V1")
        // The consent is given with the opening; everything until the close happens under K1.
        let types = h.entries.map(\.type)
        #expect(types == ["case-opened", "consent-given", "referral-made", "referral-answered", "jobcenter-contact-held",
                          "placement-started", "placement-ended", "case-closed", "outcome-recorded"])
        #expect(h.entries.map(\.consentsInForce.count) == [0, 0, 1, 1, 1, 1, 1, 1, 0])
        #expect(h.entries[2].coveringConsent == "K1")
        #expect(h.entries[7].reason == "I job")
        // The one-line summary is for people, so its days are DD.MM.YYYY as every table's are;
        // the fields keep ISO 8601 for programs.
        for i in [1, 5, 6] {
            #expect(h.entries[i].summary.wholeMatch(of: /.*\b\d\d\.\d\d\.\d{4}\b.*/) != nil, "\(h.entries[i].summary)")
            #expect(h.entries[i].summary.firstMatch(of: /\d{4}-\d\d-\d\d/) == nil, "\(h.entries[i].summary)")
        }
        #expect(h.entries[5].fields.first { $0.name == "start" }?.value.wholeMatch(of: /\d{4}-\d\d-\d\d/) != nil)
        // V2's consent ended 31 March; V2's last event (6 March) was still under it.
        let v2 = try w.projections.caseHistory(caseId: "V2")
        #expect(v2.entries.last?.consentsInForce == ["K1"])
        #expect(v2.entries.first { $0.summary.contains("R2") && $0.type == "referral-answered" }?.reason == "Ingen plads")
    }

    @Test func anUnknownCaseIsNotFound() throws {
        let e = #expect(throws: LogError.self) { try w.projections.caseHistory(caseId: "V99") }
        #expect(e?.code == .notFound)
        #expect(e?.message.contains("V99") == true)
        let early = #expect(throws: LogError.self) { try w.projections.caseHistory(caseId: "V7", asOf: 3) }
        #expect(early?.code == .notFound)
    }
}
