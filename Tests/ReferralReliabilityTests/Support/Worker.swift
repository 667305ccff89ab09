#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

/// `kill(2)`, under a name that a method called `kill` does not hide.
func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}

/// Where the built `referral-worker` is: beside the test bundle in `.build/<config>/`
/// (`swift test` builds every product), or `$REFERRAL_WORKER`.
enum WorkerBinary {
    static let path: String? = locate()

    static func locate() -> String? {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["REFERRAL_WORKER"] {
            return fm.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        var starts = [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
                      Bundle.main.bundleURL.resolvingSymlinksInPath()]
        // Tests/ReferralReliabilityTests/Support/Worker.swift → the package root.
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        starts.append(root.appendingPathComponent(".build/debug"))
        starts.append(root.appendingPathComponent(".build/release"))
        for start in starts {
            var dir = start
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent("referral-worker").path
                if fm.isExecutableFile(atPath: candidate) { return candidate }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    static func require() throws -> String {
        try #require(path, "the referral-worker executable was not found next to the test bundle or in .build/debug; build it with `swift build --product referral-worker` (or set REFERRAL_WORKER=/path/to/referral-worker)")
    }
}

/// One line the worker printed: `kind key=value key=value …`.
struct WorkerLine: Sendable, Hashable {
    var kind: String
    var fields: [String: String]

    init?(_ text: Substring) {
        let parts = text.split(separator: " ")
        guard let first = parts.first else { return nil }
        kind = String(first)
        var f: [String: String] = [:]
        for p in parts.dropFirst() {
            guard let eq = p.firstIndex(of: "=") else { continue }
            f[String(p[..<eq])] = String(p[p.index(after: eq)...])
        }
        fields = f
    }

    subscript(_ key: String) -> String? { fields[key] }
    func int(_ key: String) -> UInt64? { fields[key].flatMap { UInt64($0) } }
}

/// An acknowledged event as the worker reported it.
struct Ack: Sendable, Hashable {
    var batch: Int
    var position: UInt64
    var version: UInt64
    var stream: String
    var id: UUID
    var date: String
    var hours: Int32
    var activity: String
    var recordedAt: Int64
    var hash: String
    var expected: UInt64?
    var deliberate: Bool

    init?(_ line: WorkerLine) {
        guard line.kind == "ack", let batch = line["batch"].flatMap({ Int($0) }), let pos = line.int("pos"), let ver = line.int("ver"),
              let stream = line["stream"], let id = line["id"].flatMap(UUID.init(uuidString:)), let date = line["date"],
              let hours = line["hours"].flatMap({ Int32($0) }), let activity = line["activity"],
              let recorded = line["recorded"].flatMap({ Int64($0) }), let hash = line["hash"]
        else { return nil }
        self.batch = batch
        position = pos
        version = ver
        self.stream = stream
        self.id = id
        self.date = date
        self.hours = hours
        self.activity = activity
        recordedAt = recorded
        self.hash = hash
        expected = line.int("expected")
        deliberate = line["deliberate"] == "1"
    }
}

/// A batch the worker was about to append (it may or may not have been committed).
struct Begun: Sendable, Hashable {
    var batch: Int
    var stream: String
    var ids: [UUID]

    init?(_ line: WorkerLine) {
        guard line.kind == "begin", let batch = line["batch"].flatMap({ Int($0) }), let stream = line["stream"], let ids = line["ids"] else { return nil }
        self.batch = batch
        self.stream = stream
        self.ids = ids.split(separator: ",").compactMap { UUID(uuidString: String($0)) }
    }
}

/// What a finished worker left behind.
struct WorkerResult: Sendable {
    var status: Int32
    var killed: Bool
    var stdout: String
    var stderr: String

    /// Complete lines only: a line cut by SIGKILL (no newline yet) was never acknowledged.
    var lines: [WorkerLine] {
        var complete = stdout[...]
        if let lastNewline = complete.lastIndex(of: "\n") {
            complete = complete[..<lastNewline]
        } else {
            complete = ""
        }
        return complete.split(separator: "\n").compactMap(WorkerLine.init)
    }

    var acks: [Ack] { lines.compactMap(Ack.init) }
    var begun: [Begun] { lines.compactMap(Begun.init) }
    var conflicts: [WorkerLine] { lines.filter { $0.kind == "conflict" } }
    var exitedCleanly: Bool { !killed && status == 0 }
    var summary: String { "status \(status)\(killed ? " (killed)" : ""); stderr: \(stderr.prefix(2000))" }
}

/// A running `referral-worker` whose stdout and stderr are drained on their own threads,
/// so the child never blocks on a full pipe and nothing it wrote is lost when it is killed.
final class Worker: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let drained = DispatchGroup()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try WorkerBinary.require())
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        for (pipe, isOut) in [(stdout, true), (stderr, false)] {
            drained.enter()
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.lock()
                    if isOut { out.append(chunk) } else { err.append(chunk) }
                    lock.unlock()
                }
                drained.leave()
            }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// What the worker has printed so far.
    var outputSoFar: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: out, as: UTF8.self)
    }

    /// Sends SIGKILL: no handler, no flush, no clean-up in the child.
    func kill() {
        sendSignal(process.processIdentifier, SIGKILL)
    }

    /// Waits for the worker to end and for its pipes to be drained.
    func wait() -> WorkerResult {
        process.waitUntilExit()
        drained.wait()
        lock.lock()
        defer { lock.unlock() }
        return WorkerResult(status: process.terminationStatus, killed: process.terminationReason == .uncaughtSignal,
                            stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// Runs a worker to completion.
    static func run(_ arguments: [String]) throws -> WorkerResult {
        try Worker(arguments).wait()
    }
}
