import Foundation
import Testing
@testable import ReferralEvents

/// No CPR number and no name in clear in any file of a store that has been used the way
/// the demo uses one: cases with sealed details, consents, referrals, reads through the
/// gate, lookups by CPR number, access reports, erasures and a retention run.
@Suite struct PrivacyScanTests {
    let p: PrivacyFixture
    init() throws { p = try PrivacyFixture() }

    static let firstNames = ["Søren", "Ærtebjørg", "Åse", "Mette", "Mohammed", "Fatima", "Jørgen", "Zeynep", "Noël", "Ida"]
    static let lastNames = ["Østergård", "Nielsen", "Al-Hassan", "Kjærsgaard", "Brøndum", "Yılmaz", "Lund", "Hansen"]

    /// Forty residents with distinct, valid CPR numbers (born 1950–1989) and names.
    static let residents: [PersonalDetails] = (0..<40).map { i in
        let day = 1 + i % 28, month = 1 + i % 12, year = 50 + i
        let serial = 1000 + i * 37
        let cpr = String(format: "%02d%02d%02d%04d", day, month, year, serial)
        let name = "\(firstNames[i % firstNames.count]) \(lastNames[(i * 3) % lastNames.count]) \(i)"
        return PersonalDetails(cpr: cpr, name: name, phone: "+45 \(20_000_000 + i)", email: "beboer\(i)@example.dk", address: "Bøgevej \(i), 7000 Fredericia")
    }

    @Test func noFileOfAUsedStoreHoldsACPRNumberOrAName() throws {
        let dp = p.dp
        var pseudonyms: [Pseudonym] = []
        for (i, d) in Self.residents.enumerated() {
            let caseID = "FRE-\(1000 + i)"
            pseudonyms.append(try p.openCase(caseID, d, at: Fixture.at(2024, 1, 2 + i % 20)))
            try p.consent(caseID, id: "K\(i)", parties: ["jobcenter-fredericia"], purposes: [.referral, .informationSharing, .personalDetails],
                          at: Fixture.at(2024, 1, 25))
            try p.store.append(Fixture.referral(caseID, id: "R\(i)", at: Fixture.at(2024, 2, 1)))
            if i % 3 == 0 { try p.close(caseID, at: Fixture.at(2024, 3, 1)) }
            // Reads by the holder and, under consent, by the jobcenter; lookups by CPR number.
            _ = try dp.readPersonalDetails(caseID: caseID, by: PrivacyFixture.secretariat, purpose: "Opfølgning")
            if i % 3 != 0 { _ = try dp.readPersonalDetails(caseID: caseID, by: PrivacyFixture.jobcenter, purpose: "Første samtale") }
            _ = try dp.findResident(cpr: i % 2 == 0 ? d.cpr : String(d.cpr.prefix(6)) + "-" + String(d.cpr.suffix(4)), by: PrivacyFixture.secretariat, purpose: "Henvendelse")
        }
        var reports: [Data] = []
        for r in pseudonyms.prefix(5) { reports.append(try dp.accessReport(resident: r, by: PrivacyFixture.secretariat, purpose: "Indsigt").json()) }
        try dp.forget(resident: pseudonyms[1], reason: "Anmodning", legalBasis: "GDPR art. 17(1)(a)", by: PrivacyFixture.dpo)
        try dp.refuseErasure(resident: pseudonyms[2], reason: "Journalpligt", legalBasis: "Arkivloven § 4", by: PrivacyFixture.dpo)
        let policy = try RetentionPolicy(json: Data(#"{"rules":[{"years":5,"kle":"P1825D"}]}"#.utf8))
        let (_, erased) = try dp.applyRetention(policy: policy, asOf: Fixture.day(2029, 3, 1), by: PrivacyFixture.dpo)
        #expect(erased.count == 14)  // every third of 40 was closed on 01.03.2024
        try p.store.sync()

        var needles: [(label: String, bytes: [UInt8])] = []
        for d in Self.residents {
            needles += RawScan.needles(for: d)
            for extra in [d.phone, d.email, d.address].compactMap({ $0 }) { needles += RawScan.encodings(extra).map { ("detail of \(d.name)", $0) } }
        }
        let files = try RawScan.files(under: p.directory).map(\.path)
        #expect(Set(files).isSuperset(of: ["log.mdb", "keys.mdb", "access.mdb"]))
        #expect(try RawScan.hits(needles, under: p.directory) == [])

        // An export of the whole log (CloudEvents JSON Lines) carries none of them either.
        let exportDir = FileManager.default.temporaryDirectory.appendingPathComponent("referral-scan-export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: exportDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: exportDir) }
        let export = try p.store.read().cloudEventJSONLines()
        #expect(export.contains("\"personalData\""))  // the sealed form is exported, as ciphertext
        try Data(export.utf8).write(to: URL(fileURLWithPath: exportDir + "/events.jsonl"))
        #expect(try RawScan.hits(needles, under: exportDir) == [])

        // Control: the same scan finds the details in the access reports (they are for the
        // residents), in the composed and escaped forms a JSON file could use.
        let control = FileManager.default.temporaryDirectory.appendingPathComponent("referral-scan-control-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: control) }
        try reports[0].write(to: URL(fileURLWithPath: control + "/report.json"))
        try Data(String(decoding: reports[0], as: UTF8.self).utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).write(to: URL(fileURLWithPath: control + "/report-utf16.json"))
        let found = try RawScan.hits(RawScan.needles(for: Self.residents[0]), under: control)
        #expect(found.contains("report.json: CPR \(Self.residents[0].cpr)") && found.contains("report.json: name \(Self.residents[0].name)"))
        #expect(found.contains("report-utf16.json: name \(Self.residents[0].name)"))
    }

    /// How long the scan behind lookups, reports and retention takes on a large log.
    /// Opt-in: `REFERRAL_HEAVY=1 swift test --filter PrivacyScanTests`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["REFERRAL_HEAVY"] == "1"))
    func theResidentScanOnAMillionEvents() throws {
        let cases = Int(ProcessInfo.processInfo.environment["REFERRAL_HEAVY_CASES"] ?? "") ?? 100_000
        let clock = ContinuousClock()
        let build = try clock.measure {
            var batch: [ProposedEvent] = []
            for i in 0..<cases {
                let id = "H\(i)"
                let resident = Pseudonym(high: 42, low: UInt64(i))
                batch.append(ProposedEvent(stream: .case(id), payload: .caseOpened(CaseOpened(
                    resident: resident, areaId: "fredericia-nord", organisationId: "secretariat-fredericia", liaisonId: "fre-lis-01",
                    targetGroup: "jobparat", ageBand: .from25to29, gender: .male, personalData: SealedData(combined: Array(repeating: 7, count: 120)))),
                    occurredAt: Fixture.at(2024, 1, 5), actor: "fre-lis-01", organisation: "secretariat-fredericia"))
                batch.append(Fixture.consent(id, id: "K", at: Fixture.at(2024, 1, 6)))
                for r in 0..<6 { batch.append(Fixture.referral(id, id: "R\(r)", at: Fixture.at(2024, 1, 7 + r))) }
                batch.append(Fixture.event(.case(id), .jobcenterContactHeld(JobcenterContactHeld(contactKind: .first, jobcenter: "jobcenter-fredericia")), at: Fixture.at(2024, 2, 1)))
                if i % 2 == 0 { batch.append(Fixture.event(.case(id), .caseClosed(CaseClosed(reason: "Job")), at: Fixture.at(2024, 3, 1))) }
                if batch.count >= 5000 {
                    try p.store.append(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { try p.store.append(batch) }
        }
        let events = try p.store.head().position
        var directory = ResidentDirectory()
        let scan = try clock.measure { directory = try ResidentDirectory.scan(p.store) }
        #expect(directory.cases.count == cases)
        #expect(directory.links.count == cases)
        let policy = try RetentionPolicy(json: Data(#"{"rules":[{"years":5,"kle":"P1825D"}]}"#.utf8))
        var plan: RetentionPlan?
        let planning = try clock.measure { plan = try p.dp.retentionPlan(policy: policy, asOf: Fixture.day(2030, 1, 1)) }
        #expect(plan?.due.count == (cases + 1) / 2)
        print("privacy-heavy: \(events) events built in \(build); resident scan \(scan); retention plan \(planning)")
    }
}
