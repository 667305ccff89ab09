import ArgumentParser
import Foundation
import ReferralEvents

/// `--on`: when the recorded fact happened in the world (occurred-at).
struct WhenOptions: ParsableArguments {
    @Option(name: .customLong("on"),
            help: ArgumentHelp("When it happened: YYYY-MM-DD, DD.MM.YYYY or an ISO 8601 date-time (default: now).", valueName: "date"),
            transform: Parse.instant)
    var occurredAt: Timestamp?

    /// `--on` if given; else `fallback` (e.g. a placement's start date) unless it lies in
    /// the future; else now.
    func resolve(fallback: CalendarDate? = nil) -> Timestamp {
        if let occurredAt { return occurredAt }
        let now = Timestamp.now()
        if let fallback, Timestamp(fallback) <= now { return Timestamp(fallback) }
        return now
    }
}

/// An open store and the identity a command writes with: builds events, appends them and
/// reports where they landed.
struct WriteContext {
    let store: EventStore
    let identity: Identity

    /// Opens the store (exit 66 if there is none) and resolves the identity (exit 64 if
    /// there is none).
    init(_ storeOptions: StoreOptions, _ identityOptions: IdentityOptions) throws {
        store = try storeOptions.open()
        identity = try identityOptions.resolve()
    }

    /// An event recorded by this identity.
    func event(_ stream: StreamID, _ payload: EventPayload, at occurredAt: Timestamp, causedBy cause: UUID? = nil) -> ProposedEvent {
        ProposedEvent(stream: stream, payload: payload, occurredAt: occurredAt, actor: identity.actor,
                      organisation: identity.organisation, causationId: cause)
    }

    /// Appends atomically and prints one line per event: `position 42  event <uuid>` and
    /// the `notes` (e.g. `case 2024-0001`).
    @discardableResult
    func append(_ events: [ProposedEvent], expecting: [StreamID: ExpectedVersion] = [:], notes: [String] = []) throws -> AppendResult {
        let result = try store.append(events, expecting: expecting)
        Self.report(result, notes: notes)
        return result
    }

    static func report(_ result: AppendResult, notes: [String]) {
        for e in result.events {
            var parts = ["position \(e.position)", "event \(e.id.uuidString.lowercased())"] + notes
            if e.duplicate { parts.append("(already in the log)") }
            Console.out.line(parts.joined(separator: "  "))
        }
    }

    /// A new sequential id `YYYY-NNNN` for a case or agreement in `category`, one past the
    /// highest of that year. Two writers may pick the same one; the append's `.noStream`
    /// expectation catches that and the caller retries.
    func nextSequentialID(category: String, year: Int) throws -> String {
        let prefix = "\(category)-\(year)-"
        let highest = try store.streamIDs(prefix: prefix)
            .compactMap { Int($0.stream.rawValue.dropFirst(prefix.count)) }
            .max() ?? 0
        let n = String(highest + 1)
        return "\(year)-" + String(repeating: "0", count: max(0, 4 - n.count)) + n
    }

    /// Opens a new stream under a generated id, retrying when another writer took the id
    /// first.
    func appendToNewStream(category: String, year: Int, attempts: Int = 5,
                           _ build: (String) throws -> [ProposedEvent], notes: (String) -> [String]) throws -> (String, AppendResult) {
        var lastError: LogError?
        for _ in 0..<attempts {
            let id = try nextSequentialID(category: category, year: year)
            let events = try build(id)
            do {
                let result = try store.append(events, expecting: [events[0].stream: .noStream])
                Self.report(result, notes: notes(id))
                return (id, result)
            } catch let e as LogError where e.code == .conflict || e.rule == .caseAlreadyExists || e.rule == .agreementExists {
                lastError = e
            }
        }
        throw lastError ?? CLIError.storage("could not find a free id")
    }
}
