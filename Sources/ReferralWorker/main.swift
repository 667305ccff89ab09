// referral-worker: a child process for the reliability tests (crash loops, concurrent
// writers, backup under load). It appends valid shared-hours events to a store and tells
// its parent, one flushed line at a time, exactly what the log acknowledged, so that a
// parent reading the pipe knows what must survive a SIGKILL at any moment.
//
// USAGE
//   referral-worker init   --store DIR [--agreement ID]... [--map-size BYTES]
//   referral-worker append --store DIR --stream S [--stream S]... [--count N] [--appends N] [--batch K]
//                          [--expect-conflicts] [--seed N] [--offset N] [--tag T]
//                          [--no-sync] [--map-size BYTES] [--threads T]
//
// `init` creates the store with a small registry (a jobcenter, a secretariat, a housing
// organisation, a municipality, one area, one liaison, one target group) and one hours
// agreement per `--agreement` (stream `agreement-<ID>`, valid from 2005-01-01).
//
// `append` logs 0.25 shared hours per event into the given agreement streams (chosen at
// random per append), until `--count` events or `--appends` successful appends are
// acknowledged (neither given: until killed). With `--batch K` about
// half the appends are batches of 2…K events in one stream. Dates cycle over 5,000 days
// from 2005-01-01, starting at `--offset`, so no day reaches the 24-hour rule. With
// `--expect-conflicts` every append names the stream's expected version; about one
// append in eight deliberately names a stale version, which must be refused as a conflict.
// With `--threads T`, T threads each do all of that (counts are per thread) through one
// `GroupCommitter`, so their appends are committed together in shared transactions.
//
// OUTPUT (stdout, one line per fact, each batch's lines written with one write(2)):
//   ready pid=<pid> head=<position> threads=<T>
//   begin batch=<n> stream=<s> ids=<id>,<id>,...         before the append is tried
//   ack batch=<n> pos=<p> ver=<v> stream=<s> id=<uuid> date=<yyyy-mm-dd> hours=<h>
//       activity=<text> recorded=<ms> hash=<hex> [expected=<v>] [deliberate=1]
//   conflict batch=<n> stream=<s> expected=<v> actual=<v> deliberate=<0|1>
//   done acked=<events> appends=<n> conflicts=<n>
// Anything unexpected goes to stderr as `error: …` with exit status 1; bad arguments exit 2.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ReferralEvents
import Synchronization

/// The parsed command line.
struct Options {
    var command = ""
    var store = ""
    var streams: [StreamID] = []
    var agreements: [String] = []
    var count = 0
    var appends = 0
    var batch = 1
    var expectConflicts = false
    var seed: UInt64 = 1
    var offset: Int?
    var tag = "w"
    var durable = true
    var mapSize = 1 << 20
    var threads = 1
}

/// SplitMix64: a small, seedable generator so that a run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("referral-worker: \(message)\nsee the comment at the top of Sources/ReferralWorker/main.swift for usage\n".utf8))
    exit(2)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

/// Writes `text` with one write(2) call, so a line is either wholly in the pipe or not at all
/// (writes up to PIPE_BUF bytes are atomic), and a SIGKILL right after leaves it readable.
func emit(_ text: String) {
    let bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { raw in
            guard let start = raw.baseAddress else { return 0 }
            return write(1, start + done, raw.count - done)
        }
        if n < 0 {
            if errno == EINTR { continue }
            exit(3)  // the parent went away
        }
        done += n
    }
}

func parse(_ args: [String]) -> Options {
    var o = Options()
    guard let command = args.first else { usage("name a command: init or append") }
    o.command = command
    var i = 1
    func value(_ name: String) -> String {
        i += 1
        guard i < args.count else { usage("\(name) needs a value") }
        return args[i]
    }
    func number(_ name: String) -> Int {
        let text = value(name)
        guard let n = Int(text), n >= 0 else { usage("\(name) takes a whole number ≥ 0, not '\(text)'") }
        return n
    }
    while i < args.count {
        switch args[i] {
        case "--store": o.store = value("--store")
        case "--stream": o.streams.append(StreamID(value("--stream")))
        case "--agreement": o.agreements.append(value("--agreement"))
        case "--count": o.count = number("--count")
        case "--appends": o.appends = number("--appends")
        case "--batch": o.batch = max(1, number("--batch"))
        case "--expect-conflicts": o.expectConflicts = true
        case "--seed": o.seed = UInt64(number("--seed"))
        case "--offset": o.offset = number("--offset")
        case "--tag": o.tag = value("--tag")
        case "--no-sync": o.durable = false
        case "--threads": o.threads = max(1, number("--threads"))
        case "--map-size": o.mapSize = max(64 << 10, number("--map-size"))
        case let other: usage("unknown option '\(other)'")
        }
        i += 1
    }
    guard !o.store.isEmpty else { usage("--store DIR is required") }
    return o
}

enum Registry {
    /// 2005-01-01 and 2030-12-31, as days since 1970 (no force-unwrapped date parts).
    static let base = CalendarDate(daysSinceEpoch: 12_784)
    static let planEnd = CalendarDate(daysSinceEpoch: 22_279)
    static let actor = "worker-liaison"
    static let organisation = "worker-secretariat"

    static func event(_ stream: StreamID, _ payload: EventPayload) -> ProposedEvent {
        ProposedEvent(stream: stream, payload: payload, occurredAt: Timestamp(base, hour: 9), actor: actor, organisation: organisation)
    }

    static func events(agreements: [String]) -> [ProposedEvent] {
        let r = StreamID.registry
        var out: [ProposedEvent] = [
            event(r, .organisationRegistered(.init(organisationId: "worker-jobcenter", name: "Jobcenter Test", kind: .municipality, sector: .jobcenter, municipality: "Testby"))),
            event(r, .organisationRegistered(.init(organisationId: organisation, name: "Boligsocialt sekretariat Test", kind: .secretariat, sector: .housingSocial, municipality: "Testby"))),
            event(r, .organisationRegistered(.init(organisationId: "worker-housing", name: "Boligselskabet Test", kind: .housingOrganisation, sector: .housingSocial, municipality: "Testby"))),
            event(r, .organisationRegistered(.init(organisationId: "worker-kommune", name: "Testby Kommune", kind: .municipality, sector: .other, municipality: "Testby"))),
            event(r, .housingAreaRegistered(.init(areaId: "worker-area", name: "Testparken", municipality: "worker-kommune", housingOrganisations: ["worker-housing"], plan: "Testby 2005-2030", planFrom: base, planTo: planEnd))),
            event(r, .liaisonRegistered(.init(liaisonId: actor, name: "Test Liaison", organisationId: organisation))),
            event(r, .targetGroupDefined(.init(code: "jobparat", label: "Jobparat", effectiveFrom: base, effectiveTo: nil))),
        ]
        for id in agreements {
            out.append(event(.agreement(id), .hoursAgreementMade(.init(
                agreementId: id, employee: "shared-\(id)", payingOrganisation: "worker-jobcenter",
                servedOrganisations: [organisation], servedAreas: ["worker-area"], hoursPerWeek: Hours(hundredths: 3700),
                validFrom: base, validTo: nil))))
        }
        return out
    }
}

func runInit(_ o: Options) throws {
    let store = try EventStore(at: o.store, create: true, durable: o.durable, initialMapSize: o.mapSize)
    let result = try store.append(Registry.events(agreements: o.agreements))
    emit("done head=\(result.headPosition)\n")
}

/// Totals across the appending threads.
struct Totals {
    var acked = 0, appended = 0, conflicts = 0
}

func runAppend(_ o: Options) throws {
    guard !o.streams.isEmpty else { usage("append needs at least one --stream agreement-<ID>") }
    let store = try EventStore(at: o.store, create: false, durable: o.durable, initialMapSize: o.mapSize)
    let start = try o.offset ?? Int(store.streamVersion(o.streams[0]))
    emit("ready pid=\(getpid()) head=\(try store.head().position) threads=\(o.threads)\n")
    let totals = Mutex(Totals())
    if o.threads == 1 {
        let t = try appendLoop(o, store: store, thread: 0, sequence: start) { try store.append($0, expecting: $1) }
        totals.withLock { $0 = t }
    } else {
        // Several threads share one group committer: their appends are committed together.
        let committer = GroupCommitter(store: store)
        DispatchQueue.concurrentPerform(iterations: o.threads) { thread in
            do {
                let t = try appendLoop(o, store: store, thread: thread, sequence: start + thread * 1_000) { try committer.appendAndWait($0, expecting: $1) }
                totals.withLock { $0.acked += t.acked; $0.appended += t.appended; $0.conflicts += t.conflicts }
            } catch {
                fail("thread \(thread): \(error)")
            }
        }
    }
    let t = totals.withLock { $0 }
    emit("done acked=\(t.acked) appends=\(t.appended) conflicts=\(t.conflicts)\n")
}

/// One thread's appends, reading back through the process's one `store` (LMDB forbids
/// opening the same file twice in a process). Batch numbers are `n * threads + thread`, unique in the process.
func appendLoop(_ o: Options, store: EventStore, thread: Int, sequence start: Int,
                _ append: ([ProposedEvent], [StreamID: ExpectedVersion]) throws -> AppendResult) throws -> Totals {
    var rng = SplitMix64(state: o.seed &+ UInt64(thread) &* 7919)
    var sequence = start
    var totals = Totals()
    var round = 0
    while (o.count == 0 || totals.acked < o.count) && (o.appends == 0 || totals.appended < o.appends) {
        let stream = o.streams[Int(rng.next() % UInt64(o.streams.count))]
        var size = 1
        if o.batch > 1, rng.next() % 2 == 0 { size = 2 + Int(rng.next() % UInt64(o.batch - 1)) }
        if o.count > 0 { size = min(size, o.count - totals.acked) }
        var deliberate = o.expectConflicts && rng.next() % 8 == 0
        round += 1
        let batchNumber = round * o.threads + thread
        var proposed: [ProposedEvent] = []
        for _ in 0..<size {
            let date = Registry.base.adding(days: sequence % 5000)
            sequence += 1
            proposed.append(ProposedEvent(
                stream: stream,
                payload: .sharedHoursLogged(.init(date: date, hours: Hours(hundredths: 25), areaId: "worker-area",
                                                  servedOrganisation: Registry.organisation, activity: "\(o.tag)-\(batchNumber)-\(proposed.count)")),
                occurredAt: Timestamp(date, hour: 15), actor: Registry.actor, organisation: Registry.organisation))
        }
        emit("begin batch=\(batchNumber) stream=\(stream) ids=\(proposed.map(\.id.uuidString).joined(separator: ","))\n")
        var expected: UInt64?
        var expecting: [StreamID: ExpectedVersion] = [:]
        if o.expectConflicts {
            let current = try store.streamVersion(stream)
            deliberate = deliberate && current > 0
            // A version the stream has already passed: no interleaving can make it right.
            let version = deliberate ? current - 1 : current
            expected = version
            expecting[stream] = .exactly(version)
        }
        let result: AppendResult
        do {
            result = try append(proposed, expecting)
        } catch let error as LogError where error.code == .conflict {
            totals.conflicts += 1
            emit("conflict batch=\(batchNumber) stream=\(stream) expected=\(expected.map(String.init) ?? "any") actual=\(error.actualVersion.map(String.init) ?? "?") deliberate=\(deliberate ? 1 : 0)\n")
            sequence -= size  // the same dates are tried again
            continue
        }
        let first = result.events[0].position, last = result.events[size - 1].position
        let stored = try store.read(from: first, through: last)
        guard stored.count == size, stored.map(\.id) == proposed.map(\.id) else {
            fail("positions \(first)…\(last) do not hold the batch just acknowledged")
        }
        var lines = ""
        for (event, record) in zip(proposed, stored) {
            guard case .sharedHoursLogged(let p) = event.payload else { continue }
            lines += "ack batch=\(batchNumber) pos=\(record.position) ver=\(record.envelope.version) stream=\(stream) id=\(event.id.uuidString)"
            lines += " date=\(p.date.iso8601) hours=\(p.hours.hundredths) activity=\(p.activity) recorded=\(record.envelope.recordedAt.millisecondsSinceEpoch)"
            lines += " hash=\(record.envelope.hash.hex)"
            if let expected { lines += " expected=\(expected)" }
            if deliberate { lines += " deliberate=1" }
            lines += "\n"
        }
        emit(lines)
        totals.acked += size
        totals.appended += 1
    }
    return totals
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
do {
    switch options.command {
    case "init": try runInit(options)
    case "append": try runAppend(options)
    default: usage("unknown command '\(options.command)'; use init or append")
    }
} catch {
    fail("\(error)")
}
