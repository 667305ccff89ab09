import ArgumentParser
import ReferralEvents
import ReferralProjections

extension ReferralCommand {
    /// `referral rebuild`: replays the whole log into the projections.
    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay the whole log into the projections (caseloads, statistics) from scratch.",
            discussion: """
                Read commands keep the projections up to date by themselves; rebuild after a \
                change of projection code, or to measure replay speed. Readers keep the \
                previous projections until the new ones are complete. Shows a progress bar \
                on a terminal and plain progress lines otherwise, and ends with the number of \
                events replayed per second.

                --low-memory keeps the process's resident memory bounded by the projections' \
                state rather than the log's size, at some cost in speed on large logs.

                Example:
                  referral rebuild
                  referral rebuild --low-memory
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        @Flag(help: "Release the log's pages from memory as the replay passes them (slower on large logs).")
        var lowMemory = false

        func run() throws {
            let store = try storeOptions.open(lowMemoryReplay: lowMemory)
            let projections = try Projections(store: store)
            let progress = Progress(label: "replayed")
            let run = try projections.rebuild { p in
                progress.update(p.eventsDone, of: p.totalEvents, note: p.phase == .writing ? "writing" : Progress.rate(p.eventsPerSecond))
            }
            progress.finish()
            try projections.sync()
            Console.out.line("rebuilt the projections from \(Progress.grouped(Int64(run.eventsApplied))) events in "
                + DecimalText.format(run.seconds, places: 2, separator: ".") + " s: " + Progress.rate(run.eventsPerSecond))
        }
    }
}
