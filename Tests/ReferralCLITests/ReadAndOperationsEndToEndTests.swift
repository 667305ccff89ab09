import Foundation
import ReferralEvents
import Testing

/// `log`, `head`, `verify`, `backup` and the top-level behaviour, run through the built binary.
@Suite struct ReadAndOperationsEndToEndTests {
    let sandbox: Sandbox
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
        try sandbox.openCase("C1")
        try sandbox.openCase("C2")
        #expect(try sandbox.run(["consent", "C1", "--party", "jobcenter-viborg", "--purpose", "referral", "--on", "02.02.2024"]).status == 0)
    }

    func json(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test func logShowsEveryEventOldestFirst() throws {
        let r = try sandbox.run(["log", "--json"])
        #expect(r.status == 0, "\(r)")
        let rows = try json(r.out)
        #expect(rows.map { $0["position"] as? Int } == Array(1...12))
        let consent = rows[11]
        #expect(consent["stream"] as? String == "case-C1")
        #expect(consent["version"] as? Int == 2)
        #expect(consent["type"] as? String == "consent-given")
        #expect(consent["occurredAt"] as? String == "2024-02-02T00:00:00.000Z")
        #expect(consent["actor"] as? String == "vib-lis-01")
        let payload = try #require(consent["payload"] as? [String: Any])
        #expect(payload["consentId"] as? String == "K1")
        #expect(payload["parties"] as? [String] == ["jobcenter-viborg"])
    }

    @Test func logFilters() throws {
        var r = try sandbox.run(["log", "--case", "C1", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [10, 12], "\(r)")
        r = try sandbox.run(["log", "--stream", "case-C2", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [11])
        r = try sandbox.run(["log", "--type", "case-opened", "--type", "dk.referral.consent-given.v1", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [10, 11, 12])
        r = try sandbox.run(["log", "--from", "3", "--to", "5", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [3, 4, 5])
        r = try sandbox.run(["log", "--last", "2", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [11, 12])
        r = try sandbox.run(["log", "--type", "organisation-registered", "--last", "2", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [4, 5])
        r = try sandbox.run(["log", "--limit", "2", "--json"])
        #expect(try json(r.out).map { $0["position"] as? Int } == [1, 2])
        // Everything was recorded today; nothing before 2000, everything until the far future.
        r = try sandbox.run(["log", "--until", "31.12.1999", "--json"])
        #expect(r.out == "[]\n", "\(r)")
        r = try sandbox.run(["log", "--since", "2000-01-01", "--until", "2199-12-31", "--json"])
        #expect(try json(r.out).count == 12)
        // A stream or case that is not in the log is named, not shown as an empty list.
        r = try sandbox.run(["log", "--stream", "agreement"])
        #expect(r.status == 66, "\(r)")
        #expect(r.out.isEmpty)
        #expect(r.err.contains("there is no stream 'agreement'; streams are registry, case-<id>, agreement-<id> and resident-<pseudonym>"), "\(r)")
        r = try sandbox.run(["log", "--case", "C9", "--json"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("there is no case 'C9'"), "\(r)")
        // A stream that is there but has nothing in the range is an empty list.
        r = try sandbox.run(["log", "--case", "C1", "--until", "31.12.1999", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "[]\n", "\(r)")
    }

    @Test func logAsATableAndAsCSV() throws {
        var r = try sandbox.run(["log", "--case", "C2"])
        #expect(r.status == 0, "\(r)")
        let lines = r.out.lines
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("Position  Recorded          Occurred          Stream   Version  Type         Actor       Organisation        Event id"))
        #expect(lines[1].hasPrefix("      11  "))
        #expect(lines[1].contains("  01.02.2024 00:00  case-C2        1  case-opened  vib-lis-01  secretariat-viborg  "))
        #expect(lines[1].contains("resident=0123456789abcdef0123456789abcdef areaId=viborg-ellekonebakken"))

        r = try sandbox.run(["log", "--case", "C2", "--csv"])
        let csv = r.out.components(separatedBy: "\r\n")
        #expect(csv[0] == "position,recordedAt,occurredAt,stream,version,type,actor,organisation,id,payload")
        #expect(csv[1].hasPrefix("11,"))
        #expect(csv[1].contains(",2024-02-01T00:00:00.000Z,case-C2,1,case-opened,vib-lis-01,secretariat-viborg,"))
        // The payload is JSON, quoted with its quotes doubled.
        #expect(csv[1].contains(",\"{\"\"ageBand\"\":\"\"25-29\"\","))
        #expect(csv.count == 3 && csv[2] == "")

        r = try sandbox.run(["log", "--case", "C2", "--excel-csv"])
        #expect(r.out.hasPrefix("\u{FEFF}Position;Recorded;Occurred;Stream;"))
        #expect(r.out.contains(";01.02.2024 00:00:00;case-C2;1;case-opened;"))
    }

    /// A table that could not be written (`referral log > file` on a full disk) is an I/O
    /// failure, as in git and coreutils, not a success with half a table.
    @Test func outputThatCannotBeWrittenIsAnError() throws {
        var r = try sandbox.run(["log"], fileSizeBlocks: 1)
        #expect(r.status == 74, "\(r)")
        #expect(r.err == "referral: cannot write standard output: File too large; the output is incomplete\n", "\(r)")
        r = try sandbox.run(["log", "--json"], fileSizeBlocks: 1)
        #expect(r.status == 74, "\(r)")
        // Output that fits is written as before.
        r = try sandbox.run(["head"], fileSizeBlocks: 1)
        #expect(r.status == 0 && r.err.isEmpty, "\(r)")
    }

    /// The same under a file size limit when nothing ignores SIGXFSZ (a user's shell, cron):
    /// the kernel's signal would end the process half-way through the output, and `export
    /// --out` would leave its `FILE.<pid>.partial` behind; docs/cli.md promises exit 74 with
    /// a message instead, as on a full disk.
    @Test(.enabled(if: Self.envResetsSignals)) func aFileSizeLimitIsAnErrorNotASignal() throws {
        var r = try sandbox.run(["log"], fileSizeBlocks: 1, ignoreFileSizeSignal: false)
        #expect(r.status == 74, "\(r)")
        #expect(r.err == "referral: cannot write standard output: File too large; the output is incomplete\n", "\(r)")
        let out = sandbox.root + "/limited.jsonl"
        r = try sandbox.run(["export", "--out", out], fileSizeBlocks: 1, ignoreFileSizeSignal: false)
        #expect(r.status == 74, "\(r)")
        #expect(r.err.contains("File too large"), "\(r)")
        let left = try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasPrefix("limited.jsonl") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// A demo that hits the limit is a storage error (exit 74), not "a bug in the demo generator".
    @Test(.enabled(if: Self.envResetsSignals)) func aDemoStoppedByAFileSizeLimitSaysSo() throws {
        let store = sandbox.root + "/limited-demo"
        let r = try sandbox.run(["demo", "--store", store, "--size", "small", "--no-seal"], store: false, fileSizeBlocks: 400, ignoreFileSizeSignal: false)
        #expect(r.status == 74, "\(r)")
        #expect(r.err.contains("file size limit") && !r.err.contains("bug"), "\(r)")
    }

    /// The same on a real full disk, where the machine has /dev/full.
    @Test(.enabled(if: Self.isCharacterDevice("/dev/full"))) func outputToAFullDiskIsAnError() throws {
        let r = try sandbox.run(["log"], stdoutPath: "/dev/full")
        #expect(r.status == 74, "\(r)")
        #expect(r.err.contains("cannot write standard output: No space left on device"), "\(r)")
    }

    /// A write whose result cannot be printed has still been recorded: the message says so,
    /// so that it is not run again.
    @Test(.enabled(if: Self.isCharacterDevice("/dev/full"))) func aWriteWhoseOutputIsLostSaysWhatItRecorded() throws {
        let before = try sandbox.head().position
        let r = try sandbox.run(["assign", "C2", "--to", "vib-lis-02", "--reason", "Holiday cover"], stdoutPath: "/dev/full")
        #expect(r.status == 74, "\(r)")
        #expect(r.err.contains("but the command did record its events (position \(before + 1)): see `referral log --from \(before + 1)`"), "\(r)")
        #expect(try sandbox.head().position == before + 1)
        // A read whose output is lost records nothing, and says nothing of the kind.
        let read = try sandbox.run(["log"], stdoutPath: "/dev/full")
        #expect(read.status == 74 && !read.err.contains("record"), "\(read)")
    }

    /// Whether `env --default-signal` (GNU coreutils 8.31 and later) is there.
    static let envResetsSignals: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["--default-signal=XFSZ", "true"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static func isCharacterDevice(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeCharacterSpecial
    }

    /// A negative number is a value, not an option: it gets the option's own message.
    @Test func negativeNumbersAreNamedAsValues() throws {
        for (args, message) in [(["log", "--limit", "-1"], "--limit must be 0 or more"), (["log", "--last", "-3"], "--last must be 0 or more"),
                                (["stats", "funnel", "--year", "-1"], "--year must be between 1900 and 2199"),
                                (["log", "--from", "-1"], "The value '-1' is invalid for '--from <position>'")] {
            let r = try sandbox.run(args)
            #expect(r.status == 64 && r.err.contains(message) && !r.err.contains("Missing value"), "\(args): \(r)")
        }
    }

    /// Started with standard output and error closed (a service manager, `>&- 2>&-`), the
    /// store's own files would take descriptors 1 and 2, and the first progress line or
    /// error would be written over `log.mdb`'s meta page: the store destroyed by a read.
    @Test func closedStandardStreamsNeverReachTheStoreFiles() throws {
        let before = try sandbox.head()
        var r = try sandbox.run(["caseload", "--today", "01.03.2024"], closedStandardStreams: true)
        #expect(r.status == 0, "\(r)")
        r = try sandbox.run(["history", "NOPE"], closedStandardStreams: true)
        #expect(r.status == 66, "\(r)")
        r = try sandbox.run(["assign", "C2", "--to", "vib-lis-02", "--reason", "Holiday cover"], closedStandardStreams: true)
        #expect(r.status == 0, "\(r)")
        let lock = try FileManager.default.attributesOfItem(atPath: sandbox.store + "/log.mdb-lock")[.size] as? Int
        #expect(lock.map { $0 <= 1 << 16 } == true, "the lock file grew to \(String(describing: lock)) bytes: output went into it")
        r = try sandbox.run(["verify"])
        #expect(r.status == 0 && r.out.contains("ok: \(before.position + 1) events"), "\(r)")
    }

    @Test func logRejectsAnUnknownType() throws {
        let r = try sandbox.run(["log", "--type", "case-exploded"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("'case-exploded' is not an event type"))
        #expect(r.err.contains("referral-made"))
    }

    @Test func headAndConfigFilesAreWrittenThroughSymbolicLinks() throws {
        let fm = FileManager.default
        // A head file kept elsewhere (an audit share), reached through a link.
        let realHead = sandbox.root + "/audit-head.json", linkHead = sandbox.root + "/head-link.json"
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: realHead))
        try fm.createSymbolicLink(atPath: linkHead, withDestinationPath: realHead)
        var r = try sandbox.run(["head", "--out", linkHead])
        #expect(r.status == 0, "\(r)")
        #expect(try fm.destinationOfSymbolicLink(atPath: linkHead) == realHead)
        #expect(try JSONDecoder().decode(LogHead.self, from: Data(contentsOf: URL(fileURLWithPath: realHead))) == sandbox.head())
        // A configuration file kept in a dotfiles checkout, reached through a link.
        let realConfig = sandbox.root + "/dotfiles-config.json"
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: realConfig))
        try fm.createSymbolicLink(atPath: sandbox.config, withDestinationPath: realConfig)
        r = try sandbox.run(["config", "--actor", "anne", "--org", "secretariat-viborg"], store: false)
        #expect(r.status == 0, "\(r)")
        #expect(try fm.destinationOfSymbolicLink(atPath: sandbox.config) == realConfig)
        #expect(try String(contentsOfFile: realConfig, encoding: .utf8).contains("\"anne\""))
        #expect(try fm.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    @Test func headVerifyAndHeadFiles() throws {
        let headFile = sandbox.root + "/head.json"
        var r = try sandbox.run(["head", "--out", headFile])
        #expect(r.status == 0, "\(r)")
        let head = try sandbox.head()
        let saved = try JSONDecoder().decode(LogHead.self, from: Data(contentsOf: URL(fileURLWithPath: headFile)))
        #expect(saved == head)
        r = try sandbox.run(["head"])
        #expect(try JSONDecoder().decode(LogHead.self, from: Data(r.out.utf8)) == head)

        // Later writes keep an earlier head valid.
        #expect(try sandbox.run(["close", "C2", "--reason", "moved"]).status == 0)
        r = try sandbox.run(["verify", "--head", headFile])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("ok: 13 events"))
        #expect(r.out.contains("matches the head file (position 12)"))

        // A head the log does not reach: truncated or rolled back.
        var ahead = head
        ahead.position = 40
        try Data(JSONEncoder().encode(ahead)).write(to: URL(fileURLWithPath: headFile))
        r = try sandbox.run(["verify", "--head", headFile])
        #expect(r.status == 70, "\(r)")
        #expect(r.err.contains("verify failed at position 14"))
        #expect(r.err.contains("truncated"))

        // Another hash at the same position: rewritten.
        var rewritten = head
        rewritten.hash = String(repeating: "ab", count: 32)
        try Data(JSONEncoder().encode(rewritten)).write(to: URL(fileURLWithPath: headFile))
        r = try sandbox.run(["verify", "--head", headFile])
        #expect(r.status == 70, "\(r)")
        // One sentence, not "verify failed at position 12 has hash …".
        #expect(r.err.contains("verify failed: position 12 has hash "), "\(r)")
        #expect(r.err.contains("the log was rewritten"))
    }

    @Test func verifyRulesReplaysTheLogThroughTheRules() throws {
        #expect(try sandbox.run(["close", "C2", "--reason", "moved"]).status == 0)
        let r = try sandbox.run(["verify", "--rules"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("ok: 13 events; hash chain and indexes sound"))
        #expect(r.out.contains("ok: the rule state is what the log gives (2 case rows,"), "\(r.out)")
        let rebuilt = try sandbox.run(["rebuild", "--rules"])
        #expect(rebuilt.status == 0, "\(rebuilt)")
        #expect(rebuilt.out.contains("rebuilt the rule state from 13 events in "), "\(rebuilt.out)")
        #expect(try sandbox.run(["verify", "--rules"]).status == 0)

        // A closed case's row marked open behind the log's back (Tests/tamper_store.py, through
        // Python's own LMDB binding): the log is sound, the rule state is not.
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        tool.arguments = ["python3", tests + "/tamper_store.py", sandbox.store, "reopen-case", "C2"]
        try tool.run()
        tool.waitUntilExit()
        try #require(tool.terminationStatus == 0, "tamper_store.py reopen-case failed (is Python's lmdb installed? scripts/bootstrap.sh installs it)")
        #expect(try sandbox.run(["verify"]).status == 0)
        let forged = try sandbox.run(["verify", "--rules"])
        #expect(forged.status == 70, "\(forged)")
        #expect(forged.err.contains("verify --rules failed: the rule row of 'case-C2' is not what the log gives"), "\(forged.err)")
        #expect(forged.err.contains("`referral rebuild --rules`"))
        #expect(try sandbox.run(["rebuild", "--rules"]).status == 0)
        #expect(try sandbox.run(["verify", "--rules"]).status == 0)
    }

    /// Any command moves a store of an older layout, a read too, and says so on standard
    /// error once, since builds of that layout can no longer open it.
    @Test func movingAnOlderStoreSaysSoOnce() throws {
        let head = try sandbox.head().position
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        tool.arguments = ["python3", tests + "/tamper_store.py", sandbox.store, "as-layout-5"]
        try tool.run()
        tool.waitUntilExit()
        try #require(tool.terminationStatus == 0, "tamper_store.py as-layout-5 failed (is Python's lmdb installed? scripts/bootstrap.sh installs it)")
        var r = try sandbox.run(["caseload"])
        #expect(r.status == 0, "\(r)")
        #expect(r.err.hasPrefix("note: moved the store at \(sandbox.store) from layout 5 to layout 6; builds of layout 5 can no longer open it (docs/lmdb-layout.md)\n"), "\(r)")
        r = try sandbox.run(["verify", "--rules"])
        #expect(r.status == 0 && !r.err.contains("moved the store"), "\(r)")
        #expect(r.out.contains("note: the events before position \(head + 1) are replayed without the close-lapse rule of layout 6 ("), "\(r.out)")
    }

    @Test func aHeadFileThatIsADirectorySaysSo() throws {
        let r = try sandbox.run(["verify", "--head", sandbox.root])
        #expect(r.status == 74, "\(r)")
        #expect(r.err == "referral: cannot read the head file \(sandbox.root): Is a directory\n", "\(r)")
    }

    @Test func aBadHeadFileIsInvalidData() throws {
        let headFile = sandbox.root + "/head.json"
        try Data("{\"position\": \"twelve\"}".utf8).write(to: URL(fileURLWithPath: headFile))
        var r = try sandbox.run(["verify", "--head", headFile])
        #expect(r.status == 65, "\(r)")
        #expect(r.err.contains("\(headFile) is not a head file"))
        r = try sandbox.run(["verify", "--head", sandbox.root + "/missing.json"])
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("there is no head file"))
    }

    /// A log cut short (a copy that ran out of disk) used to crash every command with SIGBUS
    /// and a backtrace, `verify` included: LMDB maps the file and reads past its end.
    @Test func aLogCutShortIsReportedAsDamagedNotACrash() throws {
        let log = sandbox.store + "/log.mdb"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        #expect(size > 16384)
        #expect(truncate(log, 16384) == 0)
        for command in [["verify"], ["log"], ["caseload", "--today", "01.03.2024"]] {
            let r = try sandbox.run(command)
            #expect(r.status == 70, "\(command): \(r)")
            #expect(r.err.contains("log.mdb is cut short: it holds 16384 bytes, but its last committed page ends at byte \(size)"), "\(command): \(r)")
            #expect(!r.err.contains("Backtracing"), "\(command): \(r)")
        }
    }

    /// LMDB starts a 0-byte file afresh: an emptied log was opened as an empty one and
    /// `verify` called it sound; an emptied key store would have got a new secret.
    @Test func anEmptiedStoreFileIsDamagedNotANewStore() throws {
        for file in ["log.mdb", "keys.mdb"] {
            let path = sandbox.store + "/" + file
            let kept = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(truncate(path, 0) == 0)
            let r = try sandbox.run(file == "log.mdb" ? ["verify"] : ["resident", "find", "--cpr", "-", "--reason", "Check"], stdin: "010190-1234\n")
            #expect(r.status == 70, "\(file): \(r)")
            #expect(r.err.contains("\(file) is empty (0 bytes)"), "\(file): \(r)")
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0, "\(file) was started afresh")
            try kept.write(to: URL(fileURLWithPath: path))
        }
        // Pages that are not what their tree says are damage too (exit 70), not an I/O error.
        let log = sandbox.store + "/log.mdb"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seek(toOffset: 8192)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        try handle.write(contentsOf: Data(count: size - 8192))
        try handle.close()
        let r = try sandbox.run(["verify"])
        #expect(r.status == 70 && r.err.contains("the store is damaged") && r.err.contains("MDB_CORRUPTED"), "\(r)")
    }

    /// The projections hold only what the log gives: a damaged projections file is set aside
    /// and rebuilt, not reported as a damaged store to restore from a backup (backups leave
    /// it out).
    @Test func damagedProjectionsAreSetAsideAndRebuilt() throws {
        let file = sandbox.store + "/projections.mdb"
        let expected = try sandbox.run(["caseload", "--today", "01.03.2024", "--json"])
        #expect(expected.status == 0, "\(expected)")
        for damage in ["cut short", "empty", "not an LMDB file"] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            switch damage {
            case "cut short": #expect(truncate(file, size / 2) == 0)
            case "empty": #expect(truncate(file, 0) == 0)
            default: try Data(repeating: 0x5A, count: 65536).write(to: URL(fileURLWithPath: file))
            }
            let r = try sandbox.run(["caseload", "--today", "01.03.2024", "--json"])
            #expect(r.status == 0 && r.out == expected.out, "\(damage): \(r)")
            #expect(r.err.contains("the projections were damaged") && r.err.contains("set aside as projections.mdb.damaged"), "\(damage): \(r)")
            #expect(FileManager.default.fileExists(atPath: file + ".damaged"))
        }
        #expect(try sandbox.run(["verify"]).status == 0)
    }

    @Test func verifyNamesTheFirstTamperedPosition() throws {
        #expect(try sandbox.run(["close", "C2", "--reason", "Tamper-Me-Here"]).status == 0)
        #expect(try sandbox.run(["close", "C1", "--reason", "Later event"]).status == 0)
        #expect(try sandbox.run(["verify"]).status == 0)
        // Change one letter of position 13's reason everywhere it sits in the file (LMDB's
        // copy-on-write may have left older copies of the page): its stored hash no longer
        // matches its bytes.
        let path = sandbox.store + "/log.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let marker = Data("Tamper-Me-Here".utf8)
        var changed = 0
        var searchFrom = bytes.startIndex
        while let range = bytes.range(of: marker, in: searchFrom..<bytes.endIndex) {
            bytes[range.lowerBound + 11] = UInt8(ascii: "a")
            searchFrom = range.upperBound
            changed += 1
        }
        #expect(changed >= 1)
        try bytes.write(to: URL(fileURLWithPath: path))
        let r = try sandbox.run(["verify"])
        #expect(r.status == 70, "\(r)")
        #expect(r.err.contains("verify failed at position 13:"))
        #expect(!r.err.contains("position 13: position 13"), "\(r)")  // the position said once
        #expect(r.err.contains("altered"))
    }

    @Test func backupMakesAVerifiedCopyThatCanBeUsedAsTheStore() throws {
        let dest = sandbox.root + "/backup-1"
        var r = try sandbox.run(["backup", dest])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("12 events, verified, head position 12"))
        #expect(FileManager.default.fileExists(atPath: dest + "/log.mdb"))
        #expect(FileManager.default.fileExists(atPath: dest + "/keys.mdb"))
        // Restore: point --store at the copy.
        r = try sandbox.run(["verify", "--store", dest], store: false)
        #expect(r.status == 0 && r.out.contains("ok: 12 events"), "\(r)")
        #expect(try EventStore(at: dest).head() == sandbox.head())
        // The copy keeps the secret: the same CPR number gives the same pseudonym.
        #expect(try KeyStore(directory: dest).pseudonym(forCPR: "010190-1234") == KeyStore(directory: sandbox.store).pseudonym(forCPR: "010190-1234"))

        r = try sandbox.run(["backup", dest])
        #expect(r.status == 73, "\(r)")
        #expect(r.err.contains("already exists"))
    }

    /// A backup that runs out of space leaves nothing that looks like a store: half a
    /// log.mdb used to stay behind, and the next backup into it was refused.
    /// Into an existing empty directory (a mount point of another disk, where a directory
    /// beside it would be on the wrong disk and could not be renamed into place).
    @Test func aBackupIntoAnEmptyDirectoryIsWrittenInsideIt() throws {
        let dest = sandbox.root + "/mount"
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: false)
        let r = try sandbox.run(["backup", dest])
        #expect(r.status == 0 && r.out.contains("verified"), "\(r)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dest).filter { !$0.hasSuffix("-lock") }.sorted()
        #expect(files == ["keys.mdb", "log.mdb"], "\(files)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.contains(".partial-") }.isEmpty)
    }

    @Test func aFailedBackupLeavesNothingBehind() throws {
        let made = sandbox.root + "/backup-new", empty = sandbox.root + "/backup-empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        for dest in [made, empty] {
            let r = try sandbox.run(["backup", dest], fileSizeBlocks: 8)
            #expect(r.status == 74 && r.err.contains("File too large"), "\(r)")
        }
        #expect(!FileManager.default.fileExists(atPath: made))
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.contains(".partial-") }.isEmpty)
        // The directory can be used at once, with room to write.
        let r = try sandbox.run(["backup", empty])
        #expect(r.status == 0, "\(r)")
    }

    /// A backup killed at any moment leaves either no store at its destination or a whole
    /// one: the files are written beside it and renamed into place when complete. (Copied
    /// straight into the destination, a kill after log.mdb left a log without its keys that
    /// `verify` called sound.)
    @Test func aKilledBackupLeavesNoHalfStore() throws {
        for round in 0..<24 {
            let dest = sandbox.root + "/killed-\(round)"
            // Half the rounds into an existing empty directory (a mount point, say), where
            // the files are written inside it and moved into place one by one.
            if round % 2 == 1 { try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: false) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Sandbox.binary)
            p.arguments = ["backup", dest, "--no-verify", "--store", sandbox.store]
            p.environment = ["HOME": sandbox.root + "/home", "PATH": "/usr/bin:/bin"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32(round / 2) * 2_000)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            guard FileManager.default.fileExists(atPath: dest + "/log.mdb") else { continue }
            let files = try FileManager.default.contentsOfDirectory(atPath: dest)
            #expect(files.contains("keys.mdb"), "round \(round): \(files)")
            let r = try sandbox.run(["verify", "--store", dest], store: false)
            #expect(r.status == 0, "round \(round): \(r)")
        }
    }

    @Test func helpAndVersionAndCompletionExitZero() throws {
        var r = try sandbox.run(["--help"], store: false)
        #expect(r.status == 0)
        #expect(r.out.contains("EXIT STATUS"))
        #expect(r.out.contains(" 67  refused by a domain rule"))
        r = try sandbox.run(["refer", "--help"], store: false)
        #expect(r.status == 0 && r.out.contains("Example:") && r.out.contains("--reason"))
        r = try sandbox.run(["--version"], store: false)
        #expect(r.status == 0 && r.out == "0.1.0 (store layout 6)\n", "\(r)")
        for shell in ["bash", "zsh", "fish"] {
            r = try sandbox.run(["--generate-completion-script", shell], store: false)
            #expect(r.status == 0 && r.out.contains("referral") && r.out.contains("start-placement"), "\(shell): \(r)")
        }
    }

    @Test func unknownFlagsAndCommandsAreUsageErrors() throws {
        var r = try sandbox.run(["log", "--colour"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("--colour"))
        #expect(r.err.contains("Usage:") || r.err.contains("USAGE:"))
        r = try sandbox.run(["fly"], store: false)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("fly"))
    }
}
