import ReferralEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How far a catch-up, rebuild or as-of fold has come, for a progress bar.
public struct ProjectionProgress: Sendable, Hashable {
    /// What is running.
    public enum Phase: String, Sendable, Hashable {
        /// Applying new events to the stored projections.
        case catchUp = "catch-up"
        /// Replaying the whole log into fresh databases.
        case rebuild
        /// Folding up to an earlier position in memory.
        case asOf = "as-of"
        /// Writing a rebuilt generation (events are done; `eventsDone == totalEvents`).
        case writing
    }

    public var phase: Phase
    public var eventsDone: UInt64
    public var totalEvents: UInt64
    public var eventsPerSecond: Double
    /// Nil until the rate is known.
    public var estimatedSecondsLeft: Double?

    public init(phase: Phase, eventsDone: UInt64, totalEvents: UInt64, eventsPerSecond: Double, estimatedSecondsLeft: Double?) {
        self.phase = phase
        self.eventsDone = eventsDone
        self.totalEvents = totalEvents
        self.eventsPerSecond = eventsPerSecond
        self.estimatedSecondsLeft = estimatedSecondsLeft
    }

    /// 0…1.
    public var fraction: Double { totalEvents == 0 ? 1 : min(1, Double(eventsDone) / Double(totalEvents)) }
}

/// Counts events and calls the progress callback every 64 Ki events and at the end, so
/// the fold pays one increment and one mask test per event.
struct ProgressMeter {
    var phase: ProjectionProgress.Phase
    let total: UInt64
    let callback: ((ProjectionProgress) -> Void)?
    let started: Double
    var done: UInt64 = 0

    init(phase: ProjectionProgress.Phase, total: UInt64, callback: ((ProjectionProgress) -> Void)?) {
        self.phase = phase
        self.total = total
        self.callback = callback
        started = monotonicSeconds()
    }

    @inline(__always)
    mutating func tick() {
        done &+= 1
        if done & 0xFFFF == 0, callback != nil { report() }
    }

    var elapsed: Double { monotonicSeconds() - started }

    func report() {
        guard let callback else { return }
        let seconds = max(elapsed, 1e-9)
        let rate = Double(done) / seconds
        let left = rate > 0 ? Double(total > done ? total - done : 0) / rate : nil
        callback(ProjectionProgress(phase: phase, eventsDone: done, totalEvents: total, eventsPerSecond: rate, estimatedSecondsLeft: left))
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
