import Foundation
import ReferralEvents
import Testing

/// Run sizes: small by default so `swift test` stays quick; the issue's full sizes with
/// `REFERRAL_HEAVY=1`.
enum RunSize {
    static let heavy = ProcessInfo.processInfo.environment["REFERRAL_HEAVY"] == "1"

    static func pick(_ normal: Int, heavy full: Int) -> Int { heavy ? full : normal }

    /// The seed for randomised tests: `REFERRAL_SEED` to repeat a run, else a fresh one
    /// (printed with the figures so a failure can be replayed).
    static let seed: UInt64 = ProcessInfo.processInfo.environment["REFERRAL_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 1...UInt64(UInt32.max))
}

/// Figures for `docs/reliability.md`, printed on one greppable line per test.
func report(_ test: String, _ figures: KeyValuePairs<String, Any>) {
    let text = figures.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    print("FIGURES \(test): \(text)")
}

/// A fresh temporary directory; remove it with `remove()` when the test is done.
struct TempDirectory {
    let path: String

    init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("referral-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func sub(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// SplitMix64: small and seedable, so a failing randomised run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What the worker's events must be, rebuilt from an acknowledgement line alone: the
/// worker's registry names and its fixed hour of day are written out here independently.
enum WorkerOracle {
    static let actor = "worker-liaison"
    static let organisation = "worker-secretariat"
    static let area = "worker-area"
    /// Events `referral-worker init` writes before the agreements: 4 organisations, an
    /// area, a liaison and a target group.
    static let registryEvents: UInt64 = 7

    static func proposed(_ ack: Ack) throws -> ProposedEvent {
        let date = try #require(CalendarDate(parsing: ack.date), "ack carries date \(ack.date)")
        return ProposedEvent(
            id: ack.id, stream: StreamID(ack.stream),
            payload: .sharedHoursLogged(.init(date: date, hours: Hours(hundredths: ack.hours), areaId: area,
                                              servedOrganisation: organisation, activity: ack.activity)),
            occurredAt: Timestamp(date, hour: 15), actor: actor, organisation: organisation)
    }

    /// Checks every acknowledged event against the log, byte for byte: the stored event's
    /// hash must equal the hash acknowledged, and the record this test rebuilds from the ack
    /// line (with `EventRecord.encode`, chained to the stored previous event) must hash to
    /// the same value. Returns the number of events that failed; records the first few.
    @discardableResult
    static func checkAcknowledged(_ acks: some Collection<Ack>, in events: [RecordedEvent]) throws -> Int {
        var failures = 0
        func failed(_ message: String) {
            failures += 1
            if failures <= 5 { Issue.record(Comment(rawValue: message)) }
        }
        for ack in acks {
            guard ack.position >= 1, ack.position <= UInt64(events.count) else {
                failed("acknowledged position \(ack.position) (\(ack.id)) is not in the log of \(events.count) events")
                continue
            }
            let stored = events[Int(ack.position) - 1]
            guard stored.position == ack.position, stored.id == ack.id, stored.envelope.hash.hex == ack.hash else {
                failed("position \(ack.position): acknowledged \(ack.id) hash \(ack.hash.prefix(12)), stored \(stored.id) hash \(stored.envelope.hash.hex.prefix(12))")
                continue
            }
            let previous = ack.position == 1 ? Digest.zero : events[Int(ack.position) - 2].envelope.hash
            let rebuilt = try EventRecord.encode(try proposed(ack), position: ack.position, version: ack.version,
                                             recordedAt: Timestamp(millisecondsSinceEpoch: ack.recordedAt), previousHash: previous)
            if rebuilt.hash.hex != ack.hash {
                failed("position \(ack.position): the record rebuilt from the ack line hashes to \(rebuilt.hash.hex.prefix(12)), not \(ack.hash.prefix(12))")
            }
            if stored.envelope.version != ack.version || stored.stream.rawValue != ack.stream {
                failed("position \(ack.position): stored \(stored.stream) v\(stored.envelope.version), acknowledged \(ack.stream) v\(ack.version)")
            }
        }
        return failures
    }
}

/// Positions 1…n in order, with no gap and no repeat.
func expectGapless(_ events: [RecordedEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    let firstBad = events.enumerated().first { $0.offset + 1 != Int($0.element.position) }
    #expect(firstBad == nil, "position \(firstBad.map { $0.offset + 1 } ?? 0) holds \(firstBad.map { String($0.element.position) } ?? "-")", sourceLocation: sourceLocation)
}

/// Each stream's versions are exactly 1…n in log order.
func expectContiguousVersions(_ events: [RecordedEvent], store: EventStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var seen: [StreamID: UInt64] = [:]
    var bad = 0
    for e in events {
        let next = (seen[e.stream] ?? 0) + 1
        if e.envelope.version != next { bad += 1 }
        seen[e.stream] = e.envelope.version
    }
    #expect(bad == 0, "\(bad) events break their stream's version sequence", sourceLocation: sourceLocation)
    for (stream, version) in seen {
        #expect(try store.streamVersion(stream) == version, "stream head of \(stream)", sourceLocation: sourceLocation)
        #expect(try store.readStream(stream).map(\.envelope.version) == Array(1...version), "versions of \(stream)", sourceLocation: sourceLocation)
    }
}

/// Runs one of the Python tools in `Tests/` (independent of this project's code).
enum PythonTool {
    static var testsDirectory: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Support/, ReferralReliabilityTests/ → Tests/
        return url.path
    }

    /// Runs `python3 Tests/<script> args…`; the test fails with advice if Python's `lmdb` is missing.
    static func run(_ script: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", testsDirectory + "/" + script] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if output.contains("No module named 'lmdb'") {
            Issue.record("Python's lmdb package is missing; install it with `python3 -m pip install lmdb` (scripts/bootstrap.sh does)")
        }
        return (p.terminationStatus, output)
    }
}

/// Copies a store's log file (not its lock file) into a new directory, as a backup tool or
/// an attacker with file access would.
func copyStoreFile(from store: String, to destination: String) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
    try? fm.removeItem(atPath: EventStore.logPath(in: destination))
    try? fm.removeItem(atPath: EventStore.logPath(in: destination) + "-lock")
    try fm.copyItem(atPath: EventStore.logPath(in: store), toPath: EventStore.logPath(in: destination))
}
