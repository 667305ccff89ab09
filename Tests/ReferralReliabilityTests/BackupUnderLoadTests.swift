import Foundation
import ReferralEvents
import Testing

/// Issue 6.6: a backup taken while writers run opens, verifies and holds a prefix of the log.
@Suite(.serialized) struct BackupUnderLoadTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory("backup") }

    @Test func backupsTakenWhileTwoProcessesAppendArePrefixesOfTheLog() throws {
        defer { dir.remove() }
        let path = dir.sub("store")
        let created = try Worker.run(["init", "--store", path, "--agreement", "a", "--agreement", "b"])
        try #require(created.exitedCleanly, "init: \(created.summary)")
        let count = RunSize.pick(1_000, heavy: 15_000)
        let workers = try (0..<2).map { i in
            try Worker(["append", "--store", path, "--stream", "agreement-a", "--stream", "agreement-b", "--count", "\(count)",
                        "--batch", "6", "--seed", "\(RunSize.seed &+ UInt64(i))", "--tag", "b\(i)", "--offset", "\(i * 2_500)"])
        }
        let store = try EventStore(at: path)
        var backups: [(path: String, duringLoad: Bool)] = []
        while workers.contains(where: \.isRunning) || backups.isEmpty {
            let running = workers.allSatisfy(\.isRunning)
            let target = dir.sub("backup-\(backups.count)")
            try store.backup(to: target)
            backups.append((target, running && workers.allSatisfy(\.isRunning)))
            if backups.count >= RunSize.pick(12, heavy: 100) { break }  // enough snapshots; the rest of the run only adds time
            usleep(100_000)
        }
        for (i, w) in workers.enumerated() {
            let r = w.wait()
            #expect(r.exitedCleanly, "worker \(i): \(r.summary)")
        }
        let original = try store.read()
        #expect(original.count == Int(WorkerOracle.registryEvents) + 2 + 2 * count)

        var sizes: [Int] = []
        for (backupPath, _) in backups {
            let copy = try EventStore(at: backupPath)
            let report = try copy.verify()
            #expect(report.isValid, "\(backupPath): \(report.failure?.message ?? "")")
            let events = try copy.read()
            sizes.append(events.count)
            #expect(events.count <= original.count)
            let mismatch = zip(events, original).first { $0.envelope.hash != $1.envelope.hash || $0.id != $1.id }
            #expect(mismatch == nil, "\(backupPath) differs from the log at position \(mismatch?.0.position ?? 0)")
            // The head of the original at the backup's length is the backup's head: verify agrees.
            #expect(try store.verify(expectedHead: report.head).isValid)
        }
        let midRun = zip(backups, sizes).filter { $0.0.duringLoad && $0.1 > Int(WorkerOracle.registryEvents) + 2 && $0.1 < original.count }
        #expect(!midRun.isEmpty, "no backup was taken while both writers were mid-run; sizes \(sizes)")
        #expect(sizes == sizes.sorted(), "later backups hold at least as much")
        // The independent reader accepts a backup taken under load.
        if let sample = midRun.first {
            let python = try PythonTool.run("check_store.py", [sample.0.path])
            #expect(python.status == 0, "check_store.py: \(python.output)")
        }
        report("backup-under-load", ["writers": 2, "events_per_writer": count, "backups": backups.count,
                                     "backups_mid_run": midRun.count, "log_events": original.count])
    }
}
