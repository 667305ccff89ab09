import ArgumentParser
import Foundation
import ReferralEvents
import ReferralProjections

/// `--as-of DATE` and `--as-of-position N`: read the projections as they were known then.
struct AsOfOptions: ParsableArguments {
    @Option(name: .customLong("as-of"),
            help: ArgumentHelp("As known at the end of this day (or at this ISO 8601 time): only events recorded by then count.", valueName: "date"),
            transform: Parse.endOfPeriod)
    var asOf: Timestamp?

    @Option(name: .customLong("as-of-position"), parsing: .unconditional, help: ArgumentHelp("As of this log position.", valueName: "n"))
    var asOfPosition: UInt64?

    func validate() throws {
        if asOf != nil && asOfPosition != nil { throw ValidationError("give --as-of or --as-of-position, not both") }
    }

    var isHistorical: Bool { asOf != nil || asOfPosition != nil }

    /// The log position asked for (nil: now).
    func position(in store: EventStore) throws -> UInt64? {
        if let asOfPosition {
            let head = try store.head().position
            guard asOfPosition <= head else {
                throw CLIError.usage("--as-of-position \(asOfPosition) is beyond the log's last position \(head)")
            }
            return asOfPosition
        }
        return try asOf.map { try store.position(asKnownAt: $0) }
    }
}

/// Opens a store's projections and brings them up to date, or folds them as of an earlier
/// position, showing progress on standard error when that takes a while.
enum ProjectionAccess {
    static func view(_ store: EventStore, asOf: AsOfOptions) throws -> ProjectionView {
        let projections = try Projections.opened(for: store)
        let progress = Progress(label: "reading the log")
        defer { progress.finish() }
        let report: (ProjectionProgress) -> Void = { p in
            progress.update(p.eventsDone, of: p.totalEvents, note: "\(p.phase.rawValue), " + Progress.rate(p.eventsPerSecond))
        }
        if let position = try asOf.position(in: store) {
            return try projections.asOf(position: position, progress: report)
        }
        try projections.catchUp(progress: report)
        return projections.current()
    }
}

extension Projections {
    /// Opens the store's projections, saying so on standard error if a damaged projections
    /// file had to be set aside (they are then rebuilt from the log).
    static func opened(for store: EventStore) throws -> Projections {
        let projections = try Projections(store: store)
        if let reason = projections.setAsideBecause {
            Console.err.line("referral: the projections were damaged (\(reason)); set aside as projections.mdb.damaged and rebuilt from the log, which is not affected")
        }
        return projections
    }
}
