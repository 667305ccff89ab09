import Foundation
import ReferralDemo
import ReferralEvents

/// A benchmark failure: what went wrong, printed without a stack trace.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Monotonic nanoseconds.
@inline(__always)
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func seconds(_ ns: UInt64) -> Double { Double(ns) / 1e9 }
func nanoseconds(_ d: Duration) -> Double {
    let (s, attoseconds) = d.components
    return Double(s) * 1e9 + Double(attoseconds) / 1e9
}

/// CPU nanoseconds this process has used (all threads). Beside wall time, since the
/// machine is shared: CPU time shows the work done even when other processes queue for the cores.
func cpuNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall and CPU time of `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (value: T, wall: Double, cpu: Double) {
    let w = now(), c = cpuNow()
    let v = try body()
    return (v, seconds(now() - w), seconds(cpuNow() - c))
}

/// The 1-minute load average, to show how busy the shared machine was during a run.
func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
}

/// Nearest-rank percentile of `values` (sorted here), e.g. `percentile(x, 0.99)`.
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(sorted.count - 1, max(0, rank))]
}

/// The middle value; for an even count the mean of the two middle ones (not the lower,
/// which would favour the ratios and disfavour the rates of a run of two).
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted(), n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// `1234567` → `1,234,567`.
func grouped(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

func fmt(_ x: Double, _ digits: Int = 2) -> String {
    guard x.isFinite else { return "n/a" }
    return String(format: "%.\(digits)f", x)
}

/// Events per second as `1.23M/s` or `456k/s`.
func rate(_ perSecond: Double) -> String {
    if perSecond >= 1e6 { return fmt(perSecond / 1e6) + "M events/s" }
    if perSecond >= 1e3 { return fmt(perSecond / 1e3, 1) + "k events/s" }
    return fmt(perSecond, 0) + " events/s"
}

/// Microseconds, or milliseconds from 10 ms.
func latency(_ ns: Double) -> String {
    ns >= 10e6 ? fmt(ns / 1e6, 1) + " ms" : fmt(ns / 1e3, 1) + " µs"
}

// MARK: - Memory

/// Fields of /proc/self/status in kB.
func procStatus(_ field: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// Bytes this process has caused to be written to disk so far (/proc/self/io).
func bytesWritten() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
        return Int(line.split(separator: " ").last ?? "0") ?? 0
    }
    return 0
}

/// Bytes the block devices (`/sys/block/*`) have written since boot: what reached the disks,
/// where `bytesWritten()` counts what this process dirtied (a whole page-cache folio for a
/// page written into it). Loop and RAM disks are left out, and so are device-mapper and
/// software-RAID devices, whose writes the disks under them count again.
func deviceBytesWritten() -> Int {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/sys/block") else { return 0 }
    var sectors = 0
    for name in names where !["loop", "ram", "zram", "dm-", "md"].contains(where: name.hasPrefix) {
        guard let text = try? String(contentsOfFile: "/sys/block/\(name)/stat", encoding: .utf8) else { continue }
        let fields = text.split(separator: " ")
        if fields.count > 6 { sectors += Int(fields[6]) ?? 0 }
    }
    return sectors * 512
}

/// Resets the kernel's peak-RSS mark (VmHWM) so the next phase's peak can be read.
func resetPeakRSS() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// Samples anonymous memory (the process's own heap, without the mapped log file) every
/// 20 ms while a phase runs, since the kernel keeps no peak for it.
final class AnonSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var running = true

    init() {
        Thread.detachNewThread { [self] in
            while tick() { usleep(20_000) }
        }
    }

    private var filePeak = 0

    private func tick() -> Bool {
        let anon = procStatus("RssAnon"), file = procStatus("RssFile")
        lock.lock()
        defer { lock.unlock() }
        peak = max(peak, anon)
        filePeak = max(filePeak, file)
        return running
    }

    /// The peak of mapped file pages (the log, the projections file, the binary) in kB.
    var peakFile: Int {
        lock.lock()
        defer { lock.unlock() }
        return filePeak
    }

    /// The peak so far in kB.
    func peakSoFar() -> Int {
        _ = tick()
        lock.lock()
        defer { lock.unlock() }
        return peak
    }

    /// Stops sampling; the peak in kB.
    func stop() -> Int {
        _ = tick()
        lock.lock()
        defer { lock.unlock() }
        running = false
        return peak
    }
}

// MARK: - The machine

/// What the figures were measured on.
func machineDescription() -> String {
    var lines: [String] = []
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
    lines.append("cpu: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc)")
    let memKB = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("MemTotal") }
        .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
    lines.append("memory: \(fmt(Double(memKB) / 1_048_576, 1)) GiB")
    var u = utsname()
    uname(&u)
    let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    lines.append("kernel: Linux \(release)")
    return lines.joined(separator: "\n")
}

// MARK: - Options

/// `--name value` options after the workload name.
struct Options {
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init(_ args: ArraySlice<String>) throws {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            guard a.hasPrefix("--") else { throw BenchError("unexpected argument '\(a)'; options look like --events 100000") }
            let name = String(a.dropFirst(2))
            if Options.booleans.contains(name) {
                flags.insert(name)
                i += 1
                continue
            }
            guard i + 1 < args.endIndex else { throw BenchError("--\(name) needs a value") }
            values[name] = args[i + 1]
            i += 2
        }
    }

    static let booleans: Set<String> = ["seal", "durable", "keep", "plain", "nosync", "low-memory", "live-ids"]

    func int(_ name: String, _ fallback: Int) throws -> Int {
        guard let v = values[name] else { return fallback }
        guard let size = DemoSize(v) else { throw BenchError("--\(name) '\(v)' is not a number of events (e.g. 100000, 100k, 1M)") }
        return size.targetEvents
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    func has(_ flag: String) -> Bool { flags.contains(flag) }
}

/// A fresh directory under the work directory, removed by `cleanup`.
func scratch(_ work: String, _ name: String) throws -> String {
    let dir = work + "/scratch-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
