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

                The log's pages are released from memory as the replay passes them, so the \
                process's resident memory stays bounded by the projections' state (about \
                250 MB for 10 million events) instead of growing to the log's size. \
                --no-low-memory keeps them mapped: about a third faster on large logs, but \
                the whole log then counts as resident memory.

                With --rules it instead derives the state the domain rules keep (registrations, \
                each case's consents, referrals and placements) again from the log and replaces \
                the stored rows, in one transaction: after `referral verify --rules` found them \
                wrong. Appends wait until it is done.

                Example:
                  referral rebuild
                  referral rebuild --no-low-memory
                  referral rebuild --rules
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        @Flag(help: "Rebuild the domain rules' state from the log instead of the projections.")
        var rules = false

        @Flag(inversion: .prefixedNo,
              help: "Release the log's pages from memory as the replay passes them (the default); --no-low-memory is faster on large logs but keeps the whole log resident.")
        var lowMemory = true

        func run() throws {
            let store = try storeOptions.open(lowMemoryReplay: lowMemory)
            if rules {
                let total = try store.head().position
                let progress = Progress(label: "replayed through the rules")
                let replayed = try store.rebuildRules { done in progress.update(done, of: total, note: "") }
                progress.finish()
                Console.out.line("rebuilt the rule state from \(Progress.grouped(Int64(replayed))) events in "
                    + DecimalText.format(progress.elapsed, places: 2, separator: ".") + " s")
                return
            }
            let projections = try Projections.opened(for: store)
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
