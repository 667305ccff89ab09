import Foundation
import ReferralEvents
import Testing

/// `import` and `export`, run through the built binary.
@Suite struct ExchangeEndToEndTests {
    let sandbox: Sandbox
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
        try sandbox.openCase("C1")
        #expect(try sandbox.run(["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "referral", "--on", "02.02.2024"]).status == 0)
        #expect(try sandbox.run(["refer", "C1", "--to", "jobcenter-viborg", "--kind", "mentor", "--reason", "Needs a mentor", "--on", "03.02.2024"]).status == 0)
    }

    func objects(_ jsonl: String) throws -> [[String: Any]] {
        try jsonl.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func exportWritesOneCloudEventPerLine() throws {
        let r = try sandbox.run(["export"])
        #expect(r.status == 0, "\(r)")
        let lines = try objects(r.out)
        #expect(lines.count == 12)
        let referral = lines[11]
        #expect(referral["specversion"] as? String == "1.0")
        #expect(referral["type"] as? String == "dk.referral.referral-made.v1")
        #expect(referral["subject"] as? String == "case-C1")
        #expect(referral["source"] as? String == "urn:referral:org:secretariat-viborg")
        #expect(referral["time"] as? String == "2024-02-03T00:00:00.000Z")
        #expect(referral["position"] as? Int == 12)
        #expect((referral["data"] as? [String: Any])?["reason"] as? String == "Needs a mentor")
        #expect(referral["id"] as? String == (try sandbox.events()[11].id.uuidString.lowercased()))
    }

    @Test func exportARangeOrAStream() throws {
        var r = try sandbox.run(["export", "--from", "2", "--to", "4"])
        #expect(try objects(r.out).map { $0["position"] as? Int } == [2, 3, 4], "\(r)")
        r = try sandbox.run(["export", "--case", "C1"])
        #expect(try objects(r.out).map { $0["position"] as? Int } == [10, 11, 12], "\(r)")
        r = try sandbox.run(["export", "--stream", "case-NOPE"])
        #expect(r.status == 66 && r.err.contains("no stream 'case-NOPE'"), "\(r)")
        r = try sandbox.run(["export", "--case", "NOPE"])
        #expect(r.status == 66 && r.err.contains("there is no case 'NOPE'"), "\(r)")
    }

    /// A record changed outside referral is not passed on: export checks each record's hash
    /// as it reads it (an import would give the events new, sound hashes), stops with 70
    /// before it, and leaves no --out file.
    @Test func anExportStopsAtARecordThatDoesNotMatchItsHash() throws {
        let log = sandbox.store + "/log.mdb"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: log)))
        let needle = Array("Needs a mentor".utf8)
        var flipped = 0
        for i in bytes.indices.dropLast(needle.count) where bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) {
            bytes[i] = UInt8(ascii: "M")  // "Meeds a mentor", in every copy LMDB left
            flipped += 1
        }
        try #require(flipped > 0)
        try Data(bytes).write(to: URL(fileURLWithPath: log))

        for args in [["export"], ["export", "--case", "C1"], ["export", "--from", "12"]] {
            let r = try sandbox.run(args)
            #expect(r.status == 70, "\(args): \(r)")
            #expect(r.err.contains("the record at position 12 does not match its hash"), "\(args): \(r)")
            #expect(!r.out.contains("Meeds"), "\(args): \(r)")
        }
        let out = sandbox.root + "/out.jsonl"
        let r = try sandbox.run(["export", "--out", out])
        #expect(r.status == 70, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try sandbox.run(["export", "--to", "11"]).status == 0)
    }

    /// Records removed or moved outside referral stop an export of a range too (a deleted
    /// withdrawal or retraction must not vanish into a sound-looking copy elsewhere).
    @Test(arguments: [(["delete", "11"], ["export"], "the log jumps from position 10 to 12"),
                      (["delete", "11"], ["export", "--from", "12"], "no record at position 11"),
                      (["swap", "5", "8"], ["export"], "the log jumps from position 4 to 8"),
                      (["delete", "12"], ["export", "--to", "11"], nil)])
    func anExportStopsWhereRecordsWereRemovedOrMoved(_ tamper: [String], _ args: [String], _ message: String?) throws {
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        tool.arguments = ["python3", tests + "/tamper_store.py", sandbox.store] + tamper
        try tool.run()
        tool.waitUntilExit()
        try #require(tool.terminationStatus == 0, "tamper_store.py failed (is Python's lmdb installed? scripts/bootstrap.sh installs it)")
        let r = try sandbox.run(args)
        if let message {
            #expect(r.status == 70 && r.err.contains(message), "\(args): \(r)")
        } else {
            #expect(r.status == 0, "\(args): the records up to 11 are sound: \(r)")
        }
    }

    @Test func aSourceThatIsNotAURIReferenceIsRefused() throws {
        for source in ["", "not a uri", "urn:x\u{7f}"] {
            let r = try sandbox.run(["export", "--source", source])
            #expect(r.status == 64, "\(source): \(r)")
            #expect(r.err.contains("is not a URI reference") && r.out.isEmpty, "\(source): \(r)")
        }
        let r = try sandbox.run(["export", "--source", "urn:referral:org:viborg%20test"])
        #expect(r.status == 0 && r.out.contains("\"source\":\"urn:referral:org:viborg%20test\""), "\(r)")
    }

    @Test func exportThroughALinkOrIntoADevice() throws {
        // A symbolic link stays a link; the file it names gets the export.
        let real = sandbox.root + "/real.jsonl", link = sandbox.root + "/link.jsonl"
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: real))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        var r = try sandbox.run(["export", "--case", "C1", "--out", link])
        #expect(r.status == 0, "\(r)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == real)
        #expect(try objects(String(contentsOfFile: real, encoding: .utf8)).map { $0["position"] as? Int } == [10, 11, 12])
        // A device is written as it is, never replaced.
        r = try sandbox.run(["export", "--out", "/dev/null"])
        #expect(r.status == 0, "\(r)")
        let attributes = try FileManager.default.attributesOfItem(atPath: "/dev/null")
        #expect(attributes[.type] as? FileAttributeType == .typeCharacterSpecial)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    /// `export > file` on a full disk must not look like a complete export: an incomplete
    /// backup that exits 0 is found out only when it is needed.
    @Test func anExportToStandardOutputThatCannotBeWrittenFails() throws {
        // Each event's line is hundreds of bytes; one block of file holds a few of them.
        let r = try sandbox.run(["export"], fileSizeBlocks: 1)
        #expect(r.status == 74, "\(r)")
        #expect(r.err == "referral: cannot write standard output: File too large; the output is incomplete\n", "\(r)")
        // Into a file with --out, the same limit is named with the file, and nothing is left.
        let file = sandbox.root + "/big.jsonl"
        let f = try sandbox.run(["export", "--out", file], fileSizeBlocks: 1)
        #expect(f.status == 74 && f.err.contains("cannot write \(file): File too large"), "\(f)")
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    /// Ctrl-C or `kill` during `export --out` used to leave `FILE.<pid>.partial` behind.
    /// The export is stopped (SIGSTOP) while its partial file exists, then terminated.
    @Test func anInterruptedExportLeavesNoPartialFile() throws {
        do {  // enough events that the export is still writing when it is stopped
            let store = try EventStore(at: sandbox.store)
            let resident = Pseudonym(high: 9, low: 9)
            try store.append((0..<20_000).map { i in
                ProposedEvent(stream: .resident(resident), payload: .erasureRefused(.init(resident: resident, reason: "Sagen kører \(i)", legalBasis: "Arkivloven")),
                              occurredAt: Timestamp(Sandbox.day(2024, 3, 1)), actor: "admin", organisation: "secretariat-viborg")
            })
        }
        let file = sandbox.root + "/big.jsonl"
        func partials() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") } }
        var caught = false
        for _ in 0..<5 where !caught {
            let pid = try Self.spawnInterruptible([Sandbox.binary, "export", "--out", file, "--store", sandbox.store])
            var status: Int32 = 0
            var exited = false
            let deadline = Date().addingTimeInterval(30)
            while !exited, Date() < deadline, try partials().isEmpty {
                exited = waitpid(pid, &status, WNOHANG) == pid
                usleep(100)
            }
            kill(pid, SIGSTOP)
            if !exited, waitpid(pid, &status, WNOHANG) == 0, try !partials().isEmpty {
                caught = true
                kill(pid, SIGTERM)
                kill(pid, SIGCONT)
                waitpid(pid, &status, 0)
                #expect(status & 0x7f == SIGTERM, "ended with status \(status), not by SIGTERM")
                #expect(try partials().isEmpty)
                #expect(!FileManager.default.fileExists(atPath: file))
            } else {
                kill(pid, SIGCONT)
                if !exited { waitpid(pid, &status, 0) }
                try? FileManager.default.removeItem(atPath: file)
            }
        }
        #expect(caught, "every export finished before it could be stopped")
    }

    /// Starts `arguments` with no signal blocked and SIGTERM at its default (a child started
    /// with `Process` inherits the test thread's blocked signals), output to /dev/null.
    static func spawnInterruptible(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), term = sigset_t()
        sigemptyset(&none)
        sigemptyset(&term)
        sigaddset(&term, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &term)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard rc == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "posix_spawn failed: \(rc)"]) }
        return pid
    }

    @Test func aFailedExportLeavesTheFileAsItWas() throws {
        let file = sandbox.root + "/earlier.jsonl"
        try Data("an earlier export\n".utf8).write(to: URL(fileURLWithPath: file))
        var r = try sandbox.run(["export", "--case", "NOPE", "--out", file])
        #expect(r.status == 66, "\(r)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "an earlier export\n")
        // Nothing half-written is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") }.isEmpty)
        r = try sandbox.run(["export", "--out", sandbox.root])
        #expect(r.status == 74 && r.err.contains("it is a directory"), "\(r)")
        // A successful export replaces it.
        r = try sandbox.run(["export", "--case", "C1", "--out", file])
        #expect(r.status == 0, "\(r)")
        let good = try String(contentsOfFile: file, encoding: .utf8)
        #expect(try objects(good).map { $0["position"] as? Int } == [10, 11, 12])
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") }.isEmpty)

        // An export that fails halfway, at a damaged record (a byte of position 11 flipped
        // through Python's own LMDB binding, Tests/tamper_store.py), keeps the earlier file too.
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        tool.arguments = ["python3", tests + "/tamper_store.py", sandbox.store, "flip", "11", "120"]
        try tool.run()
        tool.waitUntilExit()
        try #require(tool.terminationStatus == 0, "tamper_store.py flip failed (is Python's lmdb installed? scripts/bootstrap.sh installs it)")
        r = try sandbox.run(["export", "--out", file])
        #expect(r.status == 70 || r.status == 74, "\(r)")
        #expect(r.err.contains("position 11"), "\(r)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == good)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    @Test func anExportImportsIntoAFreshStoreAndReimportingChangesNothing() throws {
        let file = sandbox.root + "/all.jsonl"
        var r = try sandbox.run(["export", "--out", file])
        #expect(r.status == 0 && r.err.contains("exported 12 events to \(file)"), "\(r)")

        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        r = try other.run(["import", file])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "imported 12 events at positions 1–12\n")
        let original = try sandbox.events(), copy = try other.events()
        #expect(copy.map(\.id) == original.map(\.id))
        #expect(copy.map(\.payload) == original.map(\.payload))
        #expect(copy.map(\.envelope.occurredAt) == original.map(\.envelope.occurredAt))
        #expect(copy.map(\.envelope.actor) == original.map(\.envelope.actor))
        #expect(try EventStore(at: other.store).verify().isValid)

        let before = try other.head()
        r = try other.run(["import", "-"], stdin: try String(contentsOfFile: file, encoding: .utf8))
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "imported 0 events; 12 were already in the log\n")
        #expect(try other.head() == before)
    }

    /// `--as-recorded` moves a history into an empty store judged by the rules it was recorded
    /// under: `verify --rules` says which events that covers. Into a store that holds events
    /// it is refused and writes nothing.
    @Test func aHistoryImportedAsRecordedIsNotedByVerify() throws {
        let file = sandbox.root + "/all.jsonl"
        #expect(try sandbox.run(["export", "--out", file]).status == 0)
        var r = try sandbox.run(["verify", "--rules"])
        #expect(r.status == 0 && !r.out.contains("note:"), "\(r)")

        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        r = try other.run(["import", file, "--as-recorded"])
        #expect(r.status == 0 && r.out == "imported 12 events at positions 1–12\n", "\(r)")
        r = try other.run(["verify", "--rules"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("note: the events before position 13 are replayed without the dated rules of layout 5 or the close-lapse rule of layout 6 (a store moved from an older layout, or a history imported with --as-recorded"), "\(r.out)")

        let before = try sandbox.head()
        r = try sandbox.run(["import", file, "--as-recorded"])
        #expect(r.status == 65 && r.err.contains("only into an empty store; this one holds 12 events; make a new store"), "\(r)")
        #expect(try sandbox.head() == before)
    }

    @Test func malformedJSONNamesTheLineAndWritesNothing() throws {
        let good = try sandbox.run(["export", "--from", "1", "--to", "1"]).out
        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        let file = other.root + "/bad.jsonl"
        try Data((good + "{\"specversion\": \"1.0\", oops}\n").utf8).write(to: URL(fileURLWithPath: file))
        let r = try other.run(["import", file])
        #expect(r.status == 65, "\(r)")
        #expect(r.err.contains("\(file): line 2: not valid JSON"))
        #expect(r.err.contains("nothing was imported"))
        #expect(r.out.isEmpty)
        #expect(try other.head().position == 0)
    }

    /// Reading stops at --max-errors, so the count is a lower bound and says so.
    @Test func moreBadLinesThanTheLimitAreCountedAsAtLeast() throws {
        let file = sandbox.root + "/bad.jsonl"
        try Data(String(repeating: "{oops}\n", count: 5).utf8).write(to: URL(fileURLWithPath: file))
        var r = try sandbox.run(["import", file, "--max-errors", "3"])
        #expect(r.status == 65 && r.err.contains("has at least 3 bad lines (reading stopped after 3); nothing was imported"), "\(r)")
        r = try sandbox.run(["import", file])
        #expect(r.status == 65 && r.err.contains("has 5 bad lines; nothing was imported"), "\(r)")
    }

    @Test func aBadFieldIsNamedWithItsRule() throws {
        var line = try sandbox.run(["export", "--from", "12", "--to", "12"]).out
        line = line.replacingOccurrences(of: "\"kind\":\"mentor\"", with: "\"kind\":\"astronaut\"")
        let before = try sandbox.head()
        let r = try sandbox.run(["import", "-"], stdin: line)
        #expect(r.status == 65, "\(r)")
        #expect(r.err.contains("line 1: data.kind: 'astronaut' is not one of"))
        #expect(try sandbox.head() == before)
    }

    @Test func aReferralWithoutConsentInAnImportIsRefusedWithItsLine() throws {
        // Case C2 opened and referred in one file, with no consent between.
        let opened = try sandbox.run(["export", "--from", "10", "--to", "10"]).out
            .replacingOccurrences(of: "case-C1", with: "case-C2")
        let referral = try sandbox.run(["export", "--from", "12", "--to", "12"]).out
            .replacingOccurrences(of: "case-C1", with: "case-C2")
        func freshID(_ line: String) throws -> String {
            var o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            o["id"] = UUID().uuidString.lowercased()
            return String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self) + "\n"
        }
        let before = try sandbox.head()
        let r = try sandbox.run(["import", "-"], stdin: try freshID(opened) + "\n" + (try freshID(referral)))
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("standard input line 3:"))
        #expect(r.err.contains("consent-required"))
        #expect(r.err.contains("nothing of the import was written"))
        #expect(try sandbox.head() == before)
    }

    /// An import is handed to the store a part at a time, in one transaction: the parts
    /// here are 5 events, so the 12 lines make three.
    @Test func anImportInPartsIsOneTransaction() throws {
        let file = sandbox.root + "/all.jsonl"
        #expect(try sandbox.run(["export", "--out", file]).status == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        try #require(lines.count == 12)

        // Line 12 (the third part) refers a case that does not exist: nothing is written.
        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        let bad = lines.enumerated().map { $0.offset == 11 ? $0.element.replacingOccurrences(of: "case-C1", with: "case-NOPE") : $0.element }
        let badFile = other.root + "/bad.jsonl"
        try Data((bad.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: badFile))
        var r = try other.run(["import", badFile, "--part-size", "5"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("\(badFile) line 12: event 12 (referral-made): "), "\(r)")
        #expect(try other.head().position == 0)

        // A malformed line after the refused one is what is reported, as if checked first.
        try Data((bad.joined(separator: "\n") + "\n{oops}\n").utf8).write(to: URL(fileURLWithPath: badFile))
        r = try other.run(["import", badFile, "--part-size", "5"])
        #expect(r.status == 65, "\(r)")
        #expect(r.err.contains("line 13: not valid JSON"), "\(r)")
        #expect(try other.head().position == 0)

        // The clean file, through a pipe, in parts: all of it, the same events.
        r = try other.run(["import", "-", "--part-size", "5"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "imported 12 events at positions 1–12\n")
        #expect(try other.events().map(\.id) == (try sandbox.events()).map(\.id))
        #expect(try EventStore(at: other.store).verify().isValid)
        r = try other.run(["import", "-", "--part-size", "0"], stdin: "")
        #expect(r.status == 64 && r.err.contains("--part-size must be at least 1"), "\(r)")
    }

    /// An import from a pipe grows the store's map up front (it cannot read a pipe twice);
    /// under a limit on address space it grows it only as far as is safe: a mapping LMDB
    /// fails to make leaves it with none.
    @Test func aPipedImportUnderAnAddressSpaceLimitStillImports() throws {
        let all = try sandbox.run(["export"]).out
        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        let r = try other.run(["import", "-"], stdin: all, addressSpaceKB: 8_000_000)
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "imported 12 events at positions 1–12\n")
    }

    @Test func importingAMissingFileIsNotFound() throws {
        let r = try sandbox.run(["import", sandbox.root + "/nope.jsonl"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("there is no file"))
    }

    @Test func dryRunWritesNothing() throws {
        let all = try sandbox.run(["export"]).out
        let other = try Sandbox()
        #expect(try other.run(["init"]).status == 0)
        let r = try other.run(["import", "-", "--dry-run"], stdin: all)
        #expect(r.status == 0 && r.out.contains("12 events are well formed"), "\(r)")
        #expect(try other.head().position == 0)
    }

    /// Whether the CloudEvents Python SDK is installed (`pip install cloudevents`).
    static let sdkAvailable: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import cloudevents.v1.http, cloudevents.core.formats.json"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test(.enabled(if: sdkAvailable, "needs the CloudEvents Python SDK: pip install cloudevents"))
    func theExportIsReadByTheCloudEventsSDK() throws {
        let file = sandbox.root + "/all.jsonl"
        #expect(try sandbox.run(["export", "--out", file]).status == 0)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cli_cloudevents_sdk_check.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, file]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text == "12 events read\n")
    }
}
