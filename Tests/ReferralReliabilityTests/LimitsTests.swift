#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ReferralEvents
import Testing

/// Issue 6.5: a full map grows; a full disk fails the append clearly and leaves the store intact.
@Suite(.serialized) struct LimitsTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory("limits") }

    /// Hours logged under agreement A1 (made by `Samples.registry`), a hundredth at a time and
    /// spread over its 150 days, so that no day passes 24 hours (360,000 events fit).
    static func hours(_ i: Int) -> ProposedEvent {
        let date = CalendarDate(year: 2024, month: 1, day: 1)!.adding(days: i % 150)
        return Samples.event(.agreement("A1"), .sharedHoursLogged(.init(date: date, hours: Hours(hundredths: 1), areaId: "nord",
                                                                        servedOrganisation: "secretariat", activity: "limit test \(i)")),
                             at: Timestamp(date, hour: 16))
    }

    @Test func aFullMapGrowsAndKeepsEveryEvent() throws {
        defer { dir.remove() }
        let store = try EventStore(at: dir.sub("store"), create: true, durable: false, initialMapSize: 64 << 10, clock: { Samples.now })
        let startMap = store.mapSize
        try store.append(Samples.registry)
        let count = RunSize.pick(6_000, heavy: 60_000)
        var ids: [UUID] = []
        for start in stride(from: 0, to: count, by: 50) {
            let batch = (start..<min(start + 50, count)).map(Self.hours)
            ids += batch.map(\.id)
            try store.append(batch)
        }
        #expect(store.mapSize > startMap, "the map should have grown from \(startMap) bytes")
        let base = UInt64(Samples.registry.count)
        #expect(try store.head().position == base + UInt64(count))
        let stored = try store.read(from: base + 1)
        #expect(stored.map(\.id) == ids)
        #expect(try store.verify().isValid)
        report("map-growth", ["events": count, "initial_map_bytes": startMap, "final_map_bytes": store.mapSize])
    }

    /// Mounts a 2 MiB tmpfs at `path` (needs root or CAP_SYS_ADMIN); nil with the reason if not allowed.
    static func mountSmallDisk(at path: String) throws -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = ["-t", "tmpfs", "-o", "size=2m", "tmpfs", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return "cannot run mount: \(error)" }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 ? nil : "mount -t tmpfs failed (\(p.terminationStatus)): \(output)"
    }

    static func unmount(_ path: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/umount")
        p.arguments = [path]
        try? p.run()
        p.waitUntilExit()
    }

    @Test func aFullDiskFailsTheAppendClearlyAndLeavesTheStoreIntact() throws {
        defer { dir.remove() }
        let disk = dir.sub("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        if let reason = try Self.mountSmallDisk(at: disk) {
            try Test.cancel("skipped: a size-limited file system is needed and \(reason)")
        }
        defer { Self.unmount(disk) }
        let path = disk + "/store"
        // Some room to give back later, as an operator would by deleting old files.
        let ballast = disk + "/ballast"
        try Data(count: 256 << 10).write(to: URL(fileURLWithPath: ballast))

        var acknowledged: [(UUID, UInt64)] = []
        var failure: LogError?
        var appends = 0
        do {
            let store = try EventStore(at: path, create: true, initialMapSize: 64 << 10, clock: { Samples.now })
            try store.append(Samples.registry)
            var i = 0
            while failure == nil, appends < 10_000 {
                let batch = (i..<(i + 25)).map(Self.hours)
                i += 25
                do {
                    let result = try store.append(batch)
                    acknowledged += result.events.map { ($0.id, $0.position) }
                    appends += 1
                } catch let e as LogError {
                    failure = e
                    // The failed batch is not there, not even in this process's view.
                    #expect(try store.event(id: batch[0].id) == nil)
                }
            }
        }
        let error = try #require(failure, "the 2 MiB disk never filled")
        #expect(error.code == .storage)
        #expect(error.resultCode == ENOSPC, "result code \(error.resultCode.map(String.init) ?? "none")")
        #expect(error.message.contains("disk is full"), "\(error.message)")

        // Reopen: every acknowledged event is there and the chain verifies.
        do {
            let store = try EventStore(at: path, clock: { Samples.now })
            let verified = try store.verify()
            #expect(verified.isValid, "\(verified.failure?.message ?? "")")
            #expect(verified.head.position == UInt64(Samples.registry.count) + UInt64(acknowledged.count))
            for (id, position) in acknowledged {
                if try store.event(id: id)?.position != position { Issue.record("acknowledged \(id) at \(position) is missing"); break }
            }
            // Once space is freed the store takes appends again.
            try FileManager.default.removeItem(atPath: ballast)
            let after = try store.append([Self.hours(1_000_000)])
            #expect(after.headPosition == verified.head.position + 1)
            #expect(try store.verify().isValid)
            report("disk-full", ["disk_bytes": 2 << 20, "appends_before_full": appends, "events_acknowledged": acknowledged.count,
                                 "error": "\(error.code) \(error.message)"])
        }
    }
}
