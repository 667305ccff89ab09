import Foundation
import ReferralTestSupport
import Synchronization
@testable import ReferralEvents

/// A fresh store (the `Fixture` registry) with its key store and access log, plus helpers
/// to open cases with sealed details and to scan the store's raw files.
struct PrivacyFixture {
    let f: Fixture
    let dp: DataProtection
    var store: EventStore { f.store }
    var directory: String { f.directory }

    static let secretariat = ReaderIdentity(actor: "fre-lis-01", organisation: "secretariat-fredericia")
    static let jobcenter = ReaderIdentity(actor: "fre-lis-02", organisation: "jobcenter-fredericia")
    static let housing = ReaderIdentity(actor: "bk-01", organisation: "boligkontoret")
    static let dpo = ReaderIdentity(actor: "dpo-01", organisation: "fredericia-kommune")

    static let anne = PersonalDetails(cpr: "0101901234", name: "Anne Søgaard Ærø", phone: "+45 20 30 40 50", email: "anne@example.dk", address: "Vestergade 1, 7000 Fredericia")
    static let carl = PersonalDetails(cpr: "3112993579", name: "Carl Ibsen")
    static let bo = PersonalDetails(cpr: "1502852468", name: "Bo Åkesson", phone: nil, email: nil, address: "Nørrebrogade 12")

    init() throws {
        f = try Fixture()
        dp = try DataProtection(store: f.store, createKeys: true, durable: false)
    }

    /// Opens `caseID` for the resident with `details` (sealed), held by `organisation`.
    @discardableResult
    func openCase(_ caseID: String, _ details: PersonalDetails, organisation: String = "secretariat-fredericia",
                  liaison: String = "fre-lis-01", at: Timestamp = Fixture.at(2024, 2, 1)) throws -> Pseudonym {
        let resident = try dp.keys.pseudonym(forCPR: details.cpr)
        let sealed = try dp.keys.seal(details, for: resident)
        try store.append(ProposedEvent(stream: .case(caseID), payload: .caseOpened(CaseOpened(
            resident: resident, areaId: "fredericia-nord", organisationId: organisation, liaisonId: liaison, targetGroup: "jobparat",
            ageBand: .from30to39, gender: .female, personalData: sealed)), occurredAt: at, actor: liaison, organisation: organisation))
        return resident
    }

    func consent(_ caseID: String, id: String, parties: [String], purposes: [ConsentPurpose], until: CalendarDate? = Fixture.day(2024, 12, 31),
                 at: Timestamp = Fixture.at(2024, 2, 2)) throws {
        try store.append(Fixture.event(.case(caseID), .consentGiven(ConsentGiven(consentId: id, parties: parties, purposes: purposes, form: .written, validUntil: until)), at: at))
    }

    func withdraw(_ caseID: String, id: String, at: Timestamp = Fixture.at(2024, 3, 1)) throws {
        try store.append(Fixture.event(.case(caseID), .consentWithdrawn(ConsentWithdrawn(consentId: id, reason: "Borgeren trækker samtykket")), at: at))
    }

    func close(_ caseID: String, at: Timestamp) throws {
        try store.append(Fixture.event(.case(caseID), .caseClosed(CaseClosed(reason: "I job")), at: at))
    }

    /// The sealed details of the case's first opening, straight from the log.
    func sealedDetails(_ caseID: String) throws -> SealedData? {
        guard case .caseOpened(let p) = try store.readStream(.case(caseID)).first?.payload else { return nil }
        return p.personalData
    }

    /// Counts of events by type name, worked out by reading the whole log.
    func eventCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for e in try store.read() { counts[e.envelope.type.name, default: 0] += 1 }
        return counts
    }
}

/// Scans raw files for byte strings: the independent check that nothing personal (or no
/// destroyed key) is left in a store, whatever the storage code believes it wrote.
enum RawScan {
    /// Every regular file under `directory` (recursively), with its bytes.
    static func files(under directory: String) throws -> [(path: String, bytes: Data)] {
        let fm = FileManager.default
        var out: [(String, Data)] = []
        guard let walker = fm.enumerator(atPath: directory) else { return [] }
        for case let rel as String in walker {
            let path = directory + "/" + rel
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
            out.append((rel, try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The files (relative paths) under `directory` holding any of `needles`, with the needle's label.
    static func hits(_ needles: [(label: String, bytes: [UInt8])], under directory: String) throws -> [String] {
        let scanner = NeedleScanner(needles.map(\.bytes))
        var out: [String] = []
        for (path, data) in try files(under: directory) {
            for i in scanner.found(in: Array(data)).sorted() { out.append("\(path): \(needles[i].label)") }
        }
        return out
    }

    /// A text in every encoding a file in the store might use: UTF-8 (composed and
    /// decomposed), UTF-16 in both byte orders, and JSON's `\u` escapes of non-ASCII.
    static func encodings(_ text: String) -> [[UInt8]] {
        var forms: [[UInt8]] = [Array(text.utf8), Array(text.decomposedStringWithCanonicalMapping.utf8)]
        forms.append(text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        forms.append(text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        let escaped = text.unicodeScalars.map { $0.isASCII ? String($0) : String(format: "\\u%04x", $0.value) }.joined()
        forms.append(Array(escaped.utf8))
        forms.append(Array(escaped.uppercased().replacingOccurrences(of: "\\U", with: "\\u").utf8))
        var seen: Set<[UInt8]> = []
        return forms.filter { seen.insert($0).inserted }
    }

    /// A CPR number as `DDMMYYSSSS` and `DDMMYY-SSSS`, in every encoding.
    static func cprForms(_ cpr: String) -> [[UInt8]] {
        let digits = cpr.replacingOccurrences(of: "-", with: "")
        let hyphen = String(digits.prefix(6)) + "-" + String(digits.suffix(4))
        return encodings(digits) + encodings(hyphen)
    }

    /// Labelled needles for a resident's CPR number and name.
    static func needles(for details: PersonalDetails) -> [(label: String, bytes: [UInt8])] {
        cprForms(details.cpr).map { ("CPR \(details.cpr)", $0) } + encodings(details.name).map { ("name \(details.name)", $0) }
    }

    /// Overlapping 16-byte windows of a 32-byte key: any half left behind counts as a leak.
    static func keyWindows(_ key: [UInt8], label: String) -> [(label: String, bytes: [UInt8])] {
        stride(from: 0, through: key.count - 16, by: 8).map { ("\(label)[\($0)..<\($0 + 16)]", Array(key[$0..<$0 + 16])) }
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let value: Mutex<Timestamp>
    init(_ start: Timestamp) { value = Mutex(start) }
    func now() -> Timestamp { value.withLock { $0 } }
    func set(_ t: Timestamp) { value.withLock { $0 = t } }
}
