import Foundation
import ReferralEvents
import Testing

/// What one run of the built `referral` binary did.
struct CLIResult: CustomStringConvertible {
    var status: Int32
    var out: String
    var err: String

    var description: String { "exit \(status)\n--- stdout\n\(out)--- stderr\n\(err)" }
}

/// A temporary directory with a store, a config file and a home of its own, and a way to run
/// the built binary against it with a clean environment.
struct Sandbox {
    let root: String
    var store: String { root + "/store" }
    var config: String { root + "/config.json" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("referral-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
    }

    /// The built executable: beside the test bundle, or under .build/debug from the package root.
    static let binary: String = {
        let fm = FileManager.default
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("referral").path
        if fm.isExecutableFile(atPath: besideTests) { return besideTests }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent(".build/debug/referral").path
            if fm.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return besideTests
    }()

    /// Runs `referral args…`, adding `--store <sandbox store>` at the end unless `store` is
    /// false, and an identity in the environment unless `identity` is false; with
    /// `addressSpaceKB`, under that limit (`ulimit -v`); with `fileSizeBlocks`, unable to
    /// write a file past that many blocks (`ulimit -f`; with `ignoreFileSizeSignal`, the
    /// default, SIGXFSZ ignored by the shell that starts it, so a write fails with EFBIG as on
    /// a full disk whatever `referral` does about the signal; without, started with the
    /// signal's default action, which needs `env --default-signal`); with `stdoutPath`, writing standard output there; with
    /// `closedStandardStreams`, started with standard output and error closed (`>&- 2>&-`);
    /// with `asNobody`, as the unprivileged user 65534 (through `setpriv` when the tests run
    /// as root, where permissions would not be checked); with `umask`, under that
    /// file-creation mask (e.g. "022").
    @discardableResult
    func run(_ args: [String], store: Bool = true, identity: Bool = true, stdin: String? = nil,
             environment extra: [String: String] = [:], addressSpaceKB: Int? = nil,
             fileSizeBlocks: Int? = nil, ignoreFileSizeSignal: Bool = true, stdoutPath: String? = nil, closedStandardStreams: Bool = false,
             asNobody: Bool = false, umask mask: String? = nil) throws -> CLIResult {
        let p = Process()
        let arguments = args + (store ? ["--store", self.store] : [])
        var limits: [String] = []
        if let kb = addressSpaceKB { limits.append("ulimit -v \(kb)") }
        if let blocks = fileSizeBlocks { limits.append((ignoreFileSizeSignal ? "trap '' XFSZ && " : "") + "ulimit -f \(blocks)") }
        if let mask { limits.append("umask \(mask)") }
        if !limits.isEmpty {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            // The test process may itself run with SIGXFSZ ignored, which a shell cannot undo
            // ("trap -" leaves a signal ignored on entry alone); env can.
            let exec = fileSizeBlocks != nil && !ignoreFileSizeSignal ? "exec env --default-signal=XFSZ \"$0\" \"$@\"" : "exec \"$0\" \"$@\""
            p.arguments = ["-c", (limits + [exec]).joined(separator: " && "), Sandbox.binary] + arguments
        } else if asNobody && getuid() == 0 {
            p.executableURL = URL(fileURLWithPath: Sandbox.setpriv)
            p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Sandbox.binary] + arguments
        } else if closedStandardStreams {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "exec \"$0\" \"$@\" >&- 2>&-", Sandbox.binary] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: Sandbox.binary)
            p.arguments = arguments
        }
        var env = [
            "HOME": root + "/home", "XDG_CONFIG_HOME": root + "/home/.config", "XDG_DATA_HOME": root + "/home/.local/share",
            "REFERRAL_CONFIG": config, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
        ]
        if identity {
            env["REFERRAL_ACTOR"] = "vib-lis-01"
            env["REFERRAL_ORG"] = "secretariat-viborg"
        }
        env.merge(extra) { $1 }
        p.environment = env
        // Files, not pipes: a long output cannot fill a pipe and block the child.
        let id = UUID().uuidString
        let outPath = root + "/out-\(id)", errPath = root + "/err-\(id)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath ?? outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        try out.close()
        try err.close()
        // Decoded by hand: String(contentsOfFile:) would drop a byte-order mark.
        let o = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)
        let e = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
        return CLIResult(status: p.terminationStatus, out: o, err: e)
    }

    static let setpriv = "/usr/bin/setpriv"

    /// Whether `run(asNobody: true)` runs without privileges here: not as root, or as root
    /// with `setpriv` to drop them.
    static var canRunUnprivileged: Bool {
        getuid() != 0 || FileManager.default.isExecutableFile(atPath: setpriv)
    }

    /// `referral init`, then the Viborg registry appended directly: two jobcenters... see
    /// `registry` for what is there.
    func seed() throws {
        let r = try run(["init"])
        #expect(r.status == 0, "\(r)")
        let store = try EventStore(at: self.store)
        try store.append(Sandbox.registry)
    }

    /// Opens case `id` for a pseudonymous resident, on 01.02.2024.
    func openCase(_ id: String = "C1") throws {
        let r = try run(["open", id, "--resident", "0123456789abcdef0123456789abcdef", "--area", "viborg-ellekonebakken",
                         "--liaison", "vib-lis-01", "--target-group", "jobparat", "--age-band", "25-29", "--on", "01.02.2024"])
        #expect(r.status == 0, "\(r)")
    }

    /// The log's head, read directly from the store.
    func head() throws -> LogHead {
        try EventStore(at: store).head()
    }

    /// Every event in the log.
    func events() throws -> [RecordedEvent] {
        try EventStore(at: store).read()
    }

    static func day(_ y: Int, _ m: Int, _ d: Int) -> CalendarDate { CalendarDate(year: y, month: m, day: d)! }

    static var registry: [ProposedEvent] {
        let t = Timestamp(day(2024, 1, 2), hour: 9)
        func e(_ p: EventPayload) -> ProposedEvent {
            ProposedEvent(stream: .registry, payload: p, occurredAt: t, actor: "admin", organisation: "secretariat-viborg")
        }
        return [
            e(.organisationRegistered(.init(organisationId: "jobcenter-viborg", name: "Jobcenter Viborg", kind: .municipality, sector: .jobcenter, municipality: "Viborg"))),
            e(.organisationRegistered(.init(organisationId: "secretariat-viborg", name: "Boligsocialt sekretariat Viborg", kind: .secretariat, sector: .housingSocial, municipality: "Viborg"))),
            e(.organisationRegistered(.init(organisationId: "viborg-kommune", name: "Viborg Kommune", kind: .municipality, sector: .other, municipality: "Viborg"))),
            e(.organisationRegistered(.init(organisationId: "boligselskabet-viborg", name: "Boligselskabet Viborg", kind: .housingOrganisation, sector: .housingSocial, municipality: "Viborg"))),
            e(.organisationRegistered(.init(organisationId: "grocer-viborg", name: "Købmanden i Ellekonebakken", kind: .employer, sector: .other, municipality: "Viborg"))),
            e(.housingAreaRegistered(.init(areaId: "viborg-ellekonebakken", name: "Ellekonebakken", municipality: "viborg-kommune", housingOrganisations: ["boligselskabet-viborg"],
                                           plan: "Viborg helhedsplan 2021-2025", planFrom: day(2021, 1, 1), planTo: day(2025, 12, 31)))),
            e(.liaisonRegistered(.init(liaisonId: "vib-lis-01", name: "Anne Jensen", organisationId: "secretariat-viborg"))),
            e(.liaisonRegistered(.init(liaisonId: "vib-lis-02", name: "Bo Hansen", organisationId: "jobcenter-viborg"))),
            e(.targetGroupDefined(.init(code: "jobparat", label: "Jobparat", effectiveFrom: day(2020, 1, 1)))),
        ]
    }
}

extension String {
    /// The lines of a command's output, without the trailing empty one.
    var lines: [String] { split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
}
