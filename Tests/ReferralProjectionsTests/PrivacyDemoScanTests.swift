import Foundation
import ReferralDemo
import ReferralTestSupport
@testable import ReferralEvents
import Testing

/// The demo store, used as people use it (reads through the consent gate, lookups, an
/// access report, erasures and a retention run), holds no CPR number and no name in clear
/// in any of its files, in any encoding the store uses; the destroyed keys are gone too.
@Suite struct PrivacyDemoScanTests {
    /// A text as UTF-8 (composed and decomposed), UTF-16 in both byte orders, and with
    /// JSON's `\u` escapes of non-ASCII letters.
    static func encodings(_ text: String) -> [[UInt8]] {
        var forms: [[UInt8]] = [Array(text.utf8), Array(text.decomposedStringWithCanonicalMapping.utf8)]
        forms.append(text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        forms.append(text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        forms.append(Array(text.unicodeScalars.map { $0.isASCII ? String($0) : String(format: "\\u%04x", $0.value) }.joined().utf8))
        var seen: Set<[UInt8]> = []
        return forms.filter { seen.insert($0).inserted }
    }

    static func files(under directory: String) throws -> [(name: String, bytes: Data)] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().compactMap { name in
            var isDir: ObjCBool = false
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { return nil }
            return (name, try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    @Test func noFileOfAUsedDemoStoreHoldsACPRNumberANameOrADestroyedKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("referral-demo-scan-\(UUID().uuidString)").path
        let store = try EventStore(at: dir, create: true, durable: false)
        let dp = try DataProtection(store: store, createKeys: true, durable: false)
        let demo = try DemoGenerator(size: .small, seed: 7).write(to: store, keys: dp.keys)
        #expect(demo.sealed && demo.residents.count > 50)
        // The demo's erasures are recorded in the key store with their positions, as
        // `forget`'s are, so none of them looks unfinished.
        #expect(try KeyStore.verify(directory: dir).erasuresCarriedOut == demo.erasedResidents && demo.erasedResidents > 0)
        #expect(try dp.pendingErasures() == [])

        // Use it: reads by the holder of each of the first cases, lookups by CPR number,
        // an access report, an erasure and a retention run.
        let directory = try ResidentDirectory.scan(store)
        var destroyed: [[UInt8]] = []
        for r in demo.residents.prefix(20) {
            guard let facts = directory.cases[r.caseID] else { continue }
            let holder = ReaderIdentity(actor: "auditor", organisation: facts.organisation)
            _ = try dp.readPersonalDetails(caseID: r.caseID, by: holder, purpose: "Kontrol")
            _ = try dp.findResident(cpr: r.cpr, by: holder, purpose: "Kontrol")
        }
        let first = try #require(demo.residents.first { directory.cases[$0.caseID].map { !$0.isOpen && directory.erasure(of: $0.resident) == nil } ?? false })
        let firstCase = try #require(directory.cases[first.caseID])
        _ = try dp.accessReport(resident: firstCase.resident, by: ReaderIdentity(actor: "dpo", organisation: firstCase.organisation), purpose: "Indsigt")
        if let key = try dp.keys.rawKey(firstCase.resident) { destroyed.append(key) }
        try dp.forget(resident: firstCase.resident, reason: "Anmodning", legalBasis: "GDPR art. 17(1)(a)", by: ReaderIdentity(actor: "dpo", organisation: "dpo"))
        let policy = try RetentionPolicy(json: Data(#"{"rules":[{"years":1,"kle":"P1825D"}]}"#.utf8))
        let plan = try dp.retentionPlan(policy: policy, asOf: CalendarDate(year: 2026, month: 6, day: 1))
        for c in plan.due { if let key = try dp.keys.rawKey(c.resident) { destroyed.append(key) } }
        let (_, erased) = try dp.applyRetention(policy: policy, asOf: CalendarDate(year: 2026, month: 6, day: 1), by: ReaderIdentity(actor: "dpo", organisation: "dpo"))
        #expect(!erased.isEmpty)
        #expect(try store.verify().isValid)
        try store.sync()

        var needles: [(String, [UInt8])] = []
        for r in demo.residents {
            let hyphen = String(r.cpr.prefix(6)) + "-" + String(r.cpr.suffix(4))
            for form in Self.encodings(r.cpr) + Self.encodings(hyphen) { needles.append(("CPR of \(r.caseID)", form)) }
            for form in Self.encodings(r.name) { needles.append(("name of \(r.caseID)", form)) }
        }
        for (i, key) in destroyed.enumerated() {
            for start in stride(from: 0, through: 16, by: 8) { needles.append(("destroyed key \(i)", Array(key[start..<start + 16]))) }
        }
        let files = try Self.files(under: dir)
        #expect(Set(files.map(\.name)).isSuperset(of: ["log.mdb", "keys.mdb", "access.mdb"]))
        let scanner = NeedleScanner(needles.map(\.1))
        var hits: [String] = []
        for (name, bytes) in files {
            for i in scanner.found(in: Array(bytes)).sorted() { hits.append("\(name): \(needles[i].0)") }
        }
        // Control: the scanner finds a demo resident's name where it is written in clear.
        #expect(scanner.found(in: Array("x \(demo.residents[0].name) y".utf8)).count == 1)
        #expect(hits == [])
        try? FileManager.default.removeItem(atPath: dir)
    }
}
