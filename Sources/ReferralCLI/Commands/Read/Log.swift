import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral log`: the raw event log, like `git log`.
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the raw event log, oldest first; filter by stream, type, position and recorded time.",
            discussion: """
                Every event with its position, recorded-at and occurred-at (UTC), stream and \
                version, type, actor, organisation, id and payload. Retracted events are shown \
                like any other: the log never changes. --since and --until filter on when \
                events were recorded.

                Examples:
                  referral log --case 2024-0001
                  referral log --type referral-made --since 01.03.2024 --csv > referrals.csv
                  referral log --last 20
                """
        )

        @Option(help: ArgumentHelp("Only this stream, e.g. registry, case-2024-0001, agreement-2024-0001.", valueName: "stream"))
        var stream: String?

        @Option(name: .customLong("case"), help: ArgumentHelp("Only this case (the same as --stream case-CASE).", valueName: "case"), transform: Parse.caseID)
        var caseID: String?

        @Option(name: .customLong("type"), help: ArgumentHelp("Only this event type, e.g. referral-made (repeat for several).", valueName: "type"))
        var types: [String] = []

        @Option(parsing: .unconditional, help: ArgumentHelp("First position.", valueName: "position"))
        var from: UInt64?

        @Option(parsing: .unconditional, help: ArgumentHelp("Last position.", valueName: "position"))
        var to: UInt64?

        @Option(help: ArgumentHelp("Only events recorded at or after this date or time.", valueName: "date"), transform: Parse.instant)
        var since: Timestamp?

        @Option(help: ArgumentHelp("Only events recorded at or before this date or time (a date means its whole day).", valueName: "date"), transform: Parse.endOfPeriod)
        var until: Timestamp?

        @Option(parsing: .unconditional, help: ArgumentHelp("At most this many events (the first ones).", valueName: "n"))
        var limit: Int?

        @Option(parsing: .unconditional, help: ArgumentHelp("Only the last n matching events.", valueName: "n"))
        var last: Int?

        @OptionGroup var output: OutputOptions
        @OptionGroup var storeOptions: StoreOptions

        static let columns = [
            Column("position", "Position"), Column("recordedAt", "Recorded"), Column("occurredAt", "Occurred"),
            Column("stream", "Stream"), Column("version", "Version"), Column("type", "Type"), Column("actor", "Actor"),
            Column("organisation", "Organisation"), Column("id", "Event id"), Column("payload", "Details"),
        ]

        func validate() throws {
            if stream != nil && caseID != nil { throw ValidationError("give --stream or --case, not both") }
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
            if let last, last < 0 { throw ValidationError("--last must be 0 or more") }
            if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to)") }
            if let since, let until, since > until {
                throw ValidationError("--since is after --until: nothing can lie between them; give the earlier date or time with --since")
            }
            for t in types where EventType.named(t) == nil {
                throw ValidationError("'\(t)' is not an event type; the types are: \(EventType.all.map(\.name).joined(separator: ", "))")
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let wanted = Set(types.compactMap { EventType.named($0)?.code })
            var lo = max(from ?? 1, 1)
            var hi = min(to ?? .max, try store.head().position)
            if let since { lo = max(lo, try store.position(asKnownAt: Timestamp(millisecondsSinceEpoch: since.millisecondsSinceEpoch - 1)) + 1) }
            if let until { hi = min(hi, try store.position(asKnownAt: until)) }
            let streamFilter = try existingStream(stream: stream, caseID: caseID, in: store)

            var writer = output.writer(Self.columns)
            defer { writer.finish() }
            guard lo <= hi, limit != 0, last != 0 else { return }

            var matched: [RecordedEvent] = []
            var count = 0
            func take(_ e: RecordedEvent) -> Bool {
                if let last {
                    matched.append(e)
                    if matched.count > last { matched.removeFirst(matched.count - last) }
                    return true
                }
                writer.row(row(e))
                count += 1
                return limit.map { count < $0 } ?? true
            }
            if let streamFilter {
                for e in try store.readStream(streamFilter) where (lo...hi).contains(e.position) && (wanted.isEmpty || wanted.contains(e.envelope.type.code)) {
                    if !take(e) { break }
                }
            } else {
                if let last, wanted.isEmpty, hi - lo + 1 > UInt64(last) { lo = hi - UInt64(last) + 1 }
                try store.replay(from: lo, through: hi) { view in
                    guard wanted.isEmpty || wanted.contains(view.typeCode) else { return true }
                    return take(try view.decode())
                }
            }
            for e in matched { writer.row(row(e)) }
        }

        private func row(_ e: RecordedEvent) -> [Cell] {
            let env = e.envelope
            let details: Cell = output.format == .json || output.format == .csv ? .json(PayloadText.json(e.payload)) : .text(PayloadText.summary(e.payload))
            return [.int(env.position), .timestamp(env.recordedAt), .timestamp(env.occurredAt), .text(env.stream.rawValue), .int(env.version),
                    .text(env.type.name), .text(env.actor), .text(env.organisation), .text(env.id.uuidString.lowercased()), details]
        }
    }
}
