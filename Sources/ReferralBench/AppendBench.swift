import Foundation
import ReferralEvents

/// Workloads 1–3: durable single appends, batched appends, concurrent appenders.
enum AppendBench {
    /// The stored bytes of `events` as the log would hold them, for the raw LMDB baseline.
    static func records(_ events: [ProposedEvent]) throws -> [[UInt8]] {
        let at = Timestamp.now()
        var previous = Digest.zero
        return try events.enumerated().map { i, e in
            let (bytes, hash) = try EventRecord.encode(e, position: UInt64(i + 1), version: 1, recordedAt: at, previousHash: previous)
            previous = hash
            return bytes
        }
    }

    // MARK: 1. Durable single appends

    static func single(_ o: Options, work: String) throws {
        let n = try o.int("events", 1_000)
        let runs = try o.int("runs", 3)
        let source = try AppendSource(work: work, count: n, after: o.int("after", 0), liveIDs: o.has("live-ids"))
        print("== 1. durable single appends: \(grouped(n)) events, one per transaction, \(runs) runs\(source.heading)")
        let events = source.events
        let values = try records(events)
        var storeP50: [Double] = [], storeP99: [Double] = [], rawP50: [Double] = [], rawP99: [Double] = [], cpuPerAppend: [Double] = []
        for run in 1...runs {
            let dir = try scratch(work, "single")
            defer { remove(dir) }
            // The store's append and the baseline alternate, event by event, so both meet the
            // disk in the same mood: this machine's flush latency swings between 0.1 and 8 ms.
            // Baseline: the same bytes, one fsync'd LMDB put-and-commit each, through the C API.
            var raw: [Double] = [], mine: [Double] = []
            var cpu: UInt64 = 0
            do {
                let env = try source.rawLog(at: dir + "/raw.mdb")
                let store = try source.store(at: dir + "/store", initialMapSize: 64 << 20)
                for (i, e) in events.enumerated() {
                    var t = now()
                    try env.commitOne(position: UInt64(source.after + i + 1), value: values[i])
                    raw.append(Double(now() - t))
                    t = now()
                    let c = cpuNow()
                    try store.append(e)
                    cpu += cpuNow() - c
                    mine.append(Double(now() - t))
                }
            }
            cpuPerAppend.append(Double(cpu) / Double(events.count))
            let (r50, r99, s50, s99) = (percentile(raw, 0.5), percentile(raw, 0.99), percentile(mine, 0.5), percentile(mine, 0.99))
            rawP50.append(r50); rawP99.append(r99); storeP50.append(s50); storeP99.append(s99)
            print("  run \(run): store p50 \(latency(s50)) p99 \(latency(s99)), CPU \(latency(cpuPerAppend[cpuPerAppend.count - 1])) an append | raw LMDB commit p50 \(latency(r50)) p99 \(latency(r99)) | load \(loadAverage())")
        }
        // The ratio of each run's medians, then the median ratio: runs in different disk moods
        // are not mixed.
        let ratio = median(zip(storeP50, rawP50).map { $0 / $1 })
        print("  median: store p50 \(latency(median(storeP50))), p99 \(latency(median(storeP99))), CPU \(latency(median(cpuPerAppend))) an append; raw LMDB p50 \(latency(median(rawP50))), p99 \(latency(median(rawP99)))")
        print("  RESULT single-append p50 \(latency(median(storeP50))) = \(fmt(ratio))× raw LMDB commit (target ≤ 1.5×: \(ratio <= 1.5 ? "met" : "MISSED")); p99 \(latency(median(storeP99))) = \(fmt(median(zip(storeP99, rawP99).map { $0 / $1 })))× raw")
    }

    // MARK: 2. Batched appends

    static func batch(_ o: Options, work: String) throws {
        let n = try o.int("events", 100_000)
        let runs = try o.int("runs", 3)
        let size = try o.int("batch", 1_000)
        let source = try AppendSource(work: work, count: n, after: o.int("after", 0), liveIDs: o.has("live-ids"))
        print("== 2. batched appends: \(grouped(n)) events, \(size) per \(o.has("nosync") ? "NON-durable (--nosync)" : "durable") transaction, \(runs) runs\(source.heading)")
        let events = source.events
        let values = try records(events)
        // The batches are cut before the clocks start: copying a slice of events into an
        // array retains every string of every event, which is the caller's cost, not the store's.
        let eventBatches = stride(from: 0, to: events.count, by: size).map { Array(events[$0..<min(events.count, $0 + size)]) }
        let valueBatches = stride(from: 0, to: values.count, by: size).map { Array(values[$0..<min(values.count, $0 + size)]) }
        var mine: [Double] = [], raw: [Double] = [], cpuRates: [Double] = []
        for run in 1...runs {
            let dir = try scratch(work, "batch")
            defer { remove(dir) }
            var rawSeconds = 0.0
            var rawBytes = 0, storeBytes = 0, deviceBytes = 0
            do {
                let env = try source.rawLog(at: dir + "/raw.mdb", durable: !o.has("nosync"))
                let b = bytesWritten()
                defer { rawBytes = bytesWritten() - b }
                let t = now()
                var first = source.after + 1
                for batch in valueBatches {
                    try env.commit(from: UInt64(first), values: batch)
                    first += batch.count
                }
                rawSeconds = seconds(now() - t)
            }
            var storeSeconds = 0.0, storeCPU = 0.0
            do {
                let store = try source.store(at: dir + "/store", durable: !o.has("nosync"), initialMapSize: 512 << 20)
                let b = bytesWritten(), d = deviceBytesWritten()
                defer { storeBytes = bytesWritten() - b; deviceBytes = deviceBytesWritten() - d }
                let t = now(), c = cpuNow()
                for batch in eventBatches { try timedAppend(store, batch) }
                storeSeconds = seconds(now() - t)
                storeCPU = seconds(cpuNow() - c)
            }
            let (s, r) = (Double(n) / storeSeconds, Double(n) / rawSeconds)
            mine.append(s)
            cpuRates.append(Double(n) / storeCPU)
            raw.append(r)
            let logSize = (try? FileManager.default.attributesOfItem(atPath: dir + "/store/log.mdb")[.size] as? Int) ?? 0
            print("  run \(run): store \(rate(s)) (\(fmt(storeSeconds)) s wall, \(fmt(storeCPU)) s CPU, load \(loadAverage()), \(fmt(Double(storeBytes) / Double(n), 0)) bytes written to disk an event (the disks wrote \(fmt(Double(deviceBytes) / Double(n), 0))), log.mdb \(logSize >> 20) MiB) | raw LMDB puts \(rate(r)) (\(fmt(Double(rawBytes) / Double(n), 0)) bytes an event)")
        }
        let m = median(mine)
        print("  RESULT batched \(rate(m)) (target ≥ 300k: \(m >= 300_000 ? "met" : "MISSED")); raw LMDB \(rate(median(raw))), store = \(fmt(median(raw) / m, 1))× slower; per CPU-second \(rate(median(cpuRates)))")
    }

    /// One timed batch, in a function of its own so that a profiler can collect the timed
    /// appends alone (`valgrind --tool=callgrind --toggle-collect=` its mangled name, which
    /// `nm referral-bench | grep timed` shows).
    @inline(never)
    static func timedAppend(_ store: EventStore, _ batch: [ProposedEvent]) throws {
        _ = try store.append(batch)
    }

    // MARK: 3. Concurrent appenders with group commit

    static func concurrent(_ o: Options, work: String) async throws {
        let n = try o.int("events", 20_000)
        let runs = try o.int("runs", 3)
        let tasks = try o.int("tasks", 16)
        // With --live-ids each task gives an event its id when it appends it, as a live client
        // does (`UUID.timeOrdered()`): the tasks append in an order of their own, not the log's.
        let live = o.has("live-ids")
        let source = try AppendSource(work: work, count: n, after: o.int("after", 0))
        print("== 3. concurrent appenders: \(tasks) tasks, \(grouped(n)) single durable appends, group commit, \(runs) runs\(source.heading)")
        let all = source.events
        // Registry events go in first, untimed (cases need their organisations); every other stream
        // belongs to one task, so each task's events stay in their stream's order.
        let registry = all.filter { $0.stream == .registry }
        // Whole streams to tasks, the longest first to the least loaded task, so that all 16
        // stay busy to the end (a hash split left one task with a long tail of agreement logs).
        var byStream: [StreamID: [ProposedEvent]] = [:]
        var order: [StreamID] = []
        for e in all where e.stream != .registry {
            if byStream[e.stream] == nil { order.append(e.stream) }
            byStream[e.stream, default: []].append(e)
        }
        var queues = [[ProposedEvent]](repeating: [], count: tasks)
        for stream in order.sorted(by: { (byStream[$0]?.count ?? 0, $1.rawValue) > (byStream[$1]?.count ?? 0, $0.rawValue) }) {
            let k = queues.indices.min { queues[$0].count < queues[$1].count } ?? 0
            queues[k] += byStream[stream] ?? []
        }
        print("  events per task: \(queues.map(\.count).min() ?? 0)–\(queues.map(\.count).max() ?? 0)")
        let timed = queues.reduce(0) { $0 + $1.count }
        var rates: [Double] = [], p50s: [Double] = [], p99s: [Double] = [], groups: [Double] = [], baselines: [Double] = []
        for run in 1...runs {
            let dir = try scratch(work, "concurrent")
            defer { remove(dir) }
            // Baseline in the same run: one fsync'd raw LMDB commit per event, back to back,
            // 100 before and 100 after the measurement (the disk's flush latency drifts).
            var raw: [Double] = []
            let env = try source.rawLog(at: dir + "/raw.mdb")
            let values = try records(Array(all.prefix(200)))
            func baseline(_ range: Range<Int>) throws {
                for i in range {
                    let t = now()
                    try env.commitOne(position: UInt64(source.after + i + 1), value: values[i])
                    raw.append(Double(now() - t))
                }
            }
            try baseline(0..<min(100, values.count))
            let store = try source.store(at: dir + "/store", initialMapSize: 256 << 20)
            var i = 0
            while i < registry.count {
                try store.append(Array(registry[i..<min(registry.count, i + 1000)]))
                i += 1000
            }
            let committer = GroupCommitter(store: store)
            let start = now()
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for q in queues {
                    group.addTask {
                        var lat: [Double] = []
                        lat.reserveCapacity(q.count)
                        var renamed: [UUID: UUID] = [:]  // a retraction is in its target's stream, so in this task
                        for var e in q {
                            if live { e = e.identified(as: .timeOrdered(), renamed: &renamed) }
                            let t = now()
                            try await committer.append(e)
                            lat.append(Double(now() - t))
                        }
                        return lat
                    }
                }
                var all: [Double] = []
                for try await l in group { all += l }
                return all
            }
            let wall = seconds(now() - start)
            try baseline(min(100, values.count)..<values.count)
            let stats = committer.statistics
            let r = Double(timed) / wall, p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99)
            let perCommit = Double(stats.appends) / Double(max(1, stats.commits)), baseline = 1e9 / percentile(raw, 0.5)
            rates.append(r); p50s.append(p50); p99s.append(p99); groups.append(perCommit); baselines.append(baseline)
            let commits = Double(max(1, stats.commits))
            print("  run \(run): \(rate(r)), p50 \(latency(p50)), p99 \(latency(p99)), \(grouped(stats.commits)) commits, \(fmt(perCommit, 1)) appends a commit (applied in \(latency(nanoseconds(stats.applying) / commits)), then written and flushed by LMDB's commit in \(latency(nanoseconds(stats.committing) / commits))) | one raw commit per event: \(rate(baseline))")
        }
        let m = median(rates)
        print("  RESULT \(tasks) concurrent appenders \(rate(m)) (target ≥ 20k: \(m >= 20_000 ? "met" : "MISSED")), p99 \(latency(median(p99s))); \(fmt(m / median(baselines), 1))× one raw fsync'd commit per event")
        if o.has("plain") { try plainConcurrent(queues: queues, registry: registry, source: source, work: work, tasks: tasks) }
    }

    /// The same load without group commit: threads calling `EventStore.append`, which LMDB serialises.
    static func plainConcurrent(queues: [[ProposedEvent]], registry: [ProposedEvent], source: AppendSource, work: String, tasks: Int) throws {
        let dir = try scratch(work, "plain")
        defer { remove(dir) }
        let store = try source.store(at: dir + "/store", initialMapSize: 256 << 20)
        if !registry.isEmpty { try store.append(registry) }
        let limit = 200  // per thread: one fsync each, so keep it short
        let start = now()
        let failures = NSLock()
        nonisolated(unsafe) var failed = 0
        DispatchQueue.concurrentPerform(iterations: tasks) { t in
            for e in queues[t].prefix(limit) {
                do { try store.append(e) } catch {
                    failures.lock(); failed += 1; failures.unlock()
                }
            }
        }
        let wall = seconds(now() - start)
        let done = queues.reduce(0) { $0 + min(limit, $1.count) }
        print("  without group commit (\(tasks) threads, EventStore.append): \(rate(Double(done) / wall))\(failed > 0 ? ", \(failed) failed" : "")")
    }
}
