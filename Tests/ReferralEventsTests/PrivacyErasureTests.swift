import Foundation
import Testing
@testable import ReferralEvents

/// Erasure (GDPR art. 17) by key destruction, its crash-safe order, and refusals.
@Suite struct PrivacyErasureTests {
    let p: PrivacyFixture
    init() throws { p = try PrivacyFixture() }

    /// A resident with a case, a consent, a referral and a closed second case.
    func seedAnne() throws -> Pseudonym {
        let anne = try p.openCase("C1", PrivacyFixture.anne)
        try p.store.append(Fixture.consent("C1", id: "K1"))
        try p.store.append(Fixture.referral("C1"))
        try p.openCase("C2", PrivacyFixture.anne, at: Fixture.at(2024, 2, 10))
        try p.close("C2", at: Fixture.at(2024, 3, 10))
        return anne
    }

    @Test func forgetErasesThePersonEverywhereAndKeepsTheLogIntact() throws {
        let anne = try seedAnne()
        let bo = try p.openCase("C3", PrivacyFixture.bo)
        let key = try #require(try p.dp.keys.rawKey(anne))
        let before = try p.store.read()
        let countsBefore = try p.eventCounts()

        let result = try p.dp.forget(resident: anne, reason: "Borgeren har bedt om sletning", legalBasis: "GDPR art. 17(1)(a)", by: PrivacyFixture.dpo)
        #expect(result.keyDestroyed && !result.alreadyRecorded)
        #expect(result.position == before.last!.position + 1)

        // One event more, in the resident's stream, saying who, why and on what basis.
        var expected = countsBefore
        expected["resident-erased", default: 0] += 1
        #expect(try p.eventCounts() == expected)
        let recorded = try p.store.readStream(.resident(anne))
        #expect(recorded.count == 1)
        #expect(recorded.first?.envelope.actor == "dpo-01")
        #expect(recorded.first?.payload == .residentErased(ResidentErased(resident: anne, reason: "Borgeren har bedt om sletning", legalBasis: "GDPR art. 17(1)(a)")))
        // Nothing before it changed; the chain still verifies.
        #expect(try p.store.read(through: before.last!.position) == before)
        #expect(try p.store.verify().isValid)

        // The details read as erased wherever they are read.
        #expect(try p.dp.keys.hasKey(anne) == false)
        #expect(try p.dp.keys.open(try #require(try p.sealedDetails("C1")), for: anne) == nil)
        #expect(try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Opslag").details == .erased)
        #expect(try p.dp.readPersonalDetails(caseID: "C2", by: PrivacyFixture.secretariat, purpose: "Opslag").details == .erased)
        let report = try p.dp.accessReport(resident: anne, by: PrivacyFixture.secretariat, purpose: "Indsigt")
        #expect(report.erased && report.personalDetails == .erased)
        #expect(report.cases.flatMap(\.events).compactMap(\.personalData).allSatisfy { $0 == .erased })
        // Another resident is untouched.
        #expect(try p.dp.readPersonalDetails(caseID: "C3", by: PrivacyFixture.secretariat, purpose: "Opslag").details == .present(PrivacyFixture.bo))
        #expect(try p.dp.keys.hasKey(bo))

        // No file of the store holds any part of the destroyed key, nor Anne's CPR or name.
        #expect(try RawScan.hits(RawScan.keyWindows(key, label: "Anne's key"), under: p.directory) == [])
        #expect(try RawScan.hits(RawScan.needles(for: PrivacyFixture.anne), under: p.directory) == [])
    }

    @Test func forgettingAgainCompletesAndRecordsNothingNew() throws {
        let anne = try seedAnne()
        let first = try p.dp.forget(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        let head = try p.store.head()
        let second = try p.dp.forget(resident: anne, reason: "Anmodning igen", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        #expect(second.alreadyRecorded && !second.keyDestroyed)
        #expect(second.position == first.position)
        #expect(try p.store.head() == head)
    }

    @Test func aCrashBetweenTheRecordAndTheKeyIsFinishedByTheNextRun() throws {
        let anne = try seedAnne()
        // What a crash right after the append leaves: the erasure recorded, the key still there.
        try p.store.append(ProposedEvent(stream: .resident(anne), payload: .residentErased(ResidentErased(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17")),
                                         occurredAt: Fixture.at(2024, 5, 1), actor: "dpo-01", organisation: "fredericia-kommune"))
        #expect(try p.dp.keys.hasKey(anne))
        // Reads already honour the record.
        #expect(try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Opslag").details == .erased)
        #expect(try p.dp.isErased(anne))
        #expect(try p.dp.pendingErasures() == [anne])
        let head = try p.store.head()
        #expect(try p.dp.completePendingErasures() == [anne])
        #expect(try p.dp.keys.hasKey(anne) == false)
        #expect(try p.dp.pendingErasures() == [])
        #expect(try p.store.head() == head)
    }

    @Test func aRefusalIsRecordedAndTheKeyKept() throws {
        let anne = try seedAnne()
        let position = try p.dp.refuseErasure(resident: anne, reason: "Sagen skal journaliseres", legalBasis: "Arkivloven § 4; offentlighedsloven § 15", by: PrivacyFixture.dpo)
        let event = try #require(try p.store.event(at: position))
        #expect(event.stream == .resident(anne))
        #expect(event.payload == .erasureRefused(ErasureRefused(resident: anne, reason: "Sagen skal journaliseres", legalBasis: "Arkivloven § 4; offentlighedsloven § 15")))
        #expect(try p.dp.keys.hasKey(anne))
        #expect(try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Opslag").details == .present(PrivacyFixture.anne))
        #expect(try p.dp.isErased(anne) == false)
        // A later decision may still erase; after that, refusing is refused.
        try p.dp.forget(resident: anne, reason: "Ny vurdering", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        let e = #expect(throws: LogError.self) {
            try p.dp.refuseErasure(resident: anne, reason: "For sent", legalBasis: "Arkivloven", by: PrivacyFixture.dpo)
        }
        // A domain refusal (exit 67), not bad input.
        #expect(e?.code == .ruleViolation && e?.rule == .alreadyErased)
        #expect(try p.store.readStream(.resident(anne)).map(\.envelope.type.name) == ["erasure-refused", "resident-erased"])
    }

    @Test func badRequestsChangeNothing() throws {
        let anne = try seedAnne()
        let head = try p.store.head()
        let unknown = #expect(throws: LogError.self) {
            try p.dp.forget(resident: Pseudonym(high: 9, low: 9), reason: "x", legalBasis: "y", by: PrivacyFixture.dpo)
        }
        #expect(unknown?.code == .notFound)
        for (reason, basis) in [("", "GDPR art. 17"), ("Anmodning", " "), ("Borger 010190-1234 vil slettes", "GDPR art. 17")] {
            let e = #expect(throws: LogError.self) { try p.dp.forget(resident: anne, reason: reason, legalBasis: basis, by: PrivacyFixture.dpo) }
            #expect(e?.code == .invalidInput)
        }
        #expect(try p.store.head() == head)
        #expect(try p.dp.keys.hasKey(anne))
    }

    @Test func aResidentWhoComesBackGetsANewKeyAndTheOldDetailsStayErased() throws {
        let anne = try seedAnne()
        try p.dp.forget(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        let again = try p.openCase("C9", PrivacyFixture.anne, at: Fixture.at(2024, 5, 20))
        #expect(again == anne)  // same CPR number, same pseudonym
        #expect(try p.dp.readPersonalDetails(caseID: "C9", by: PrivacyFixture.secretariat, purpose: "Ny sag").details == .present(PrivacyFixture.anne))
        #expect(try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Gammel sag").details == .erased)
    }

    /// QA: `forget --pending` destroyed a returning resident's new key with no decision, and
    /// a second request said "already erased" and destroyed it without recording anything.
    @Test func aResidentWhoComesBackIsNotPendingAndANewRequestIsANewDecision() throws {
        let anne = try seedAnne()
        let first = try p.dp.forget(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        try p.openCase("C9", PrivacyFixture.anne, at: Fixture.at(2024, 5, 20))
        #expect(try p.dp.pendingErasures() == [])
        #expect(try p.dp.completePendingErasures() == [])
        #expect(try p.dp.readPersonalDetails(caseID: "C9", by: PrivacyFixture.secretariat, purpose: "Ny sag").details == .present(PrivacyFixture.anne))
        // Having come back, a refusal of a new request may be recorded.
        try p.dp.refuseErasure(resident: anne, reason: "Verserende sag", legalBasis: "Arkivloven", by: PrivacyFixture.dpo)

        let head = try p.store.head()
        let second = try p.dp.forget(resident: anne, reason: "Anden anmodning", legalBasis: "GDPR art. 17(1)(a)", by: PrivacyFixture.dpo)
        #expect(!second.alreadyRecorded && second.keyDestroyed && second.position == head.position + 1 && second.position != first.position)
        let decision = try #require(try p.store.event(at: second.position))
        #expect(decision.payload == .residentErased(ResidentErased(resident: anne, reason: "Anden anmodning", legalBasis: "GDPR art. 17(1)(a)")))
        #expect(try p.dp.readPersonalDetails(caseID: "C9", by: PrivacyFixture.secretariat, purpose: "Kontrol").details == .erased)
        #expect(try p.dp.keys.erasureCarriedOut(anne) == second.position)
        // And a third request now has nothing left to erase.
        let third = try p.dp.forget(resident: anne, reason: "Igen", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        #expect(third.alreadyRecorded && !third.keyDestroyed && third.position == second.position)
    }

    /// An erasure recorded, then interrupted, after the resident had come back once: the
    /// key made after the first erasure is the one the second erasure covers.
    @Test func anInterruptedSecondErasureIsPendingAndFinished() throws {
        let anne = try seedAnne()
        try p.dp.forget(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        try p.openCase("C9", PrivacyFixture.anne, at: Fixture.at(2024, 5, 20))
        let crash = try p.store.append(ProposedEvent(stream: .resident(anne), payload: .residentErased(ResidentErased(resident: anne, reason: "Anden", legalBasis: "GDPR art. 17")),
                                                     occurredAt: Fixture.at(2024, 6, 1), actor: "dpo-01", organisation: "fredericia-kommune"))
        #expect(try p.dp.pendingErasures() == [anne])
        let again = try p.dp.forget(resident: anne, reason: "Igen", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        #expect(again.alreadyRecorded && again.keyDestroyed && again.position == crash.position)
        #expect(try p.dp.pendingErasures() == [])
    }

    /// A resident who comes back while their erasure is unfinished: the erasure is carried
    /// out before new details are sealed, so they get a new key and keep their new details
    /// when a later `--pending` run comes (it finds nothing left to do).
    @Test func sealingForAResidentWithAnUnfinishedErasureFinishesItFirst() throws {
        let anne = try seedAnne()
        let crash = try p.store.append(ProposedEvent(stream: .resident(anne), payload: .residentErased(ResidentErased(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17")),
                                                     occurredAt: Fixture.at(2024, 5, 1), actor: "dpo-01", organisation: "fredericia-kommune"))
        #expect(try DataProtection.finishPendingErasure(of: anne, store: p.store, keys: p.dp.keys) == crash.position)
        #expect(try p.dp.keys.hasKey(anne) == false)
        #expect(try DataProtection.finishPendingErasure(of: anne, store: p.store, keys: p.dp.keys) == nil)
        let sealed = try p.dp.keys.seal(PrivacyFixture.anne, for: anne)
        #expect(try p.dp.completePendingErasures() == [])
        #expect(try p.dp.keys.open(sealed, for: anne) == PrivacyFixture.anne)
    }

    /// Details imported from another store have no key here, but nobody erased them.
    @Test func detailsWithoutAKeyAndWithoutAnErasureAreNotCalledErased() throws {
        let other = try PrivacyFixture()
        let resident = try other.dp.keys.pseudonym(forCPR: PrivacyFixture.bo.cpr)
        let sealed = try other.dp.keys.seal(PrivacyFixture.bo, for: resident)
        try p.store.append(ProposedEvent(stream: .case("C7"), payload: .caseOpened(CaseOpened(
            resident: resident, areaId: "fredericia-nord", organisationId: "secretariat-fredericia", liaisonId: "fre-lis-01", targetGroup: "jobparat",
            ageBand: .from30to39, gender: .female, personalData: sealed)), occurredAt: Fixture.at(2024, 2, 1), actor: "fre-lis-01", organisation: "secretariat-fredericia"))
        #expect(try p.dp.readPersonalDetails(caseID: "C7", by: PrivacyFixture.secretariat, purpose: "Opslag").details == .keyNotInStore)
        #expect(try p.dp.isErased(resident) == false)
    }

    @Test func erasingManyIsOneAtomicRecordAndOneCompaction() throws {
        let anne = try seedAnne()
        let bo = try p.openCase("C3", PrivacyFixture.bo)
        let head = try p.store.head()
        let results = try p.dp.forget([ErasureRequest(resident: anne, reason: "Frist udløbet", legalBasis: "KLE P1825D"),
                                       ErasureRequest(resident: bo, reason: "Frist udløbet", legalBasis: "KLE P1825D")], by: PrivacyFixture.dpo)
        #expect(results.map(\.position) == [head.position + 1, head.position + 2])
        #expect(results.map(\.keyDestroyed) == [true, true])
        // A batch with one bad request writes nothing.
        let carl = try p.openCase("C4", PrivacyFixture.carl)
        let mid = try p.store.head()
        let e = #expect(throws: LogError.self) {
            try p.dp.forget([ErasureRequest(resident: carl, reason: "Frist", legalBasis: "KLE"),
                             ErasureRequest(resident: Pseudonym(high: 1, low: 2), reason: "Frist", legalBasis: "KLE")], by: PrivacyFixture.dpo)
        }
        #expect(e?.code == .notFound)
        #expect(try p.store.head() == mid)
        #expect(try p.dp.keys.hasKey(carl))
    }

    @Test func aBackupAfterAnErasureHoldsTheAccessLogAndNoTraceOfTheKey() throws {
        let anne = try seedAnne()
        let key = try #require(try p.dp.keys.rawKey(anne))
        _ = try p.dp.readPersonalDetails(caseID: "C1", by: PrivacyFixture.secretariat, purpose: "Opslag")
        try p.dp.forget(resident: anne, reason: "Anmodning", legalBasis: "GDPR art. 17", by: PrivacyFixture.dpo)
        let copy = p.directory + "-backup"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try p.store.backup(to: copy)
        #expect(try RawScan.files(under: copy).map(\.path) == ["access.mdb", "keys.mdb", "log.mdb"])
        #expect(try RawScan.hits(RawScan.keyWindows(key, label: "Anne's key"), under: copy) == [])
        let restored = try DataProtection(store: try EventStore(at: copy))
        #expect(try restored.accessLog.list().map(\.entry.purpose) == ["Opslag"])
        #expect(try restored.accessLog.verify().isValid)
        #expect(try restored.isErased(anne))
        #expect(try restored.keys.pseudonym(forCPR: PrivacyFixture.anne.cpr) == anne)
    }
}
