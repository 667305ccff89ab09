import ArgumentParser
import Foundation
import ReferralDemo
import ReferralEvents

extension ReferralCommand {
    /// `referral demo`: deterministic, realistic demo data.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill an empty store with a deterministic, realistic demo data set from the seeds' real places.",
            discussion: """
                The plans of Viborg (Ellekonebakken, Klostervænget, Houlkærvænget, Vestervang, \
                Ringparken), Fredericia, Kolding (ByLivKolding, Fjordparken) and Ishøj \
                (Vejleåparken) from 2021 to 2025: their parties of every sector, liaisons, \
                target groups, cases with consents, referrals, jobcenter contacts, placements, \
                outcomes, corrections and erasures, and shared employees' hours. About 3,000 \
                (small), 100,000 (medium) or 1,000,000 (large) events, or a number such as \
                250k. The same --seed gives the same data. Every event goes through the same \
                append path and domain rules as everything else. The residents are synthetic; \
                with --seal (the default for small) their made-up names and CPR numbers are \
                sealed with their own keys, which costs one durable key write per resident.

                The store is created if it does not exist; it must be empty. The demo's \
                world ends on 31.12.2025: judge caseloads on that day with --today 31.12.2025.

                Example:
                  referral demo --store /tmp/referral-demo --size small
                  referral caseload --store /tmp/referral-demo --by area --today 31.12.2025
                """
        )

        @Option(parsing: .unconditional, help: ArgumentHelp("small (~3k events), medium (~100k), large (~1M), or a number such as 250k (at least 500).", valueName: "size"),
                transform: Self.parseSize)
        var size: DemoSize = .small

        @Option(parsing: .unconditional, help: ArgumentHelp("The seed: the same seed gives the same data.", valueName: "n"), transform: Parse.wholeNumber)
        var seed: UInt64 = 1

        @Flag(inversion: .prefixedNo, help: "Seal the residents' made-up personal details (default: only for small).")
        var seal: Bool?

        @OptionGroup var storeOptions: StoreOptions

        /// Checked while parsing, before `run()` creates the store: a size the generator
        /// would refuse must not leave an empty store behind.
        static func parseSize(_ text: String) throws -> DemoSize {
            if text.hasPrefix("-") {
                throw ArgumentValueError("a size must be small, medium, large or a non-negative whole number of events (at least \(DemoSize.minimumEvents)), not negative")
            }
            guard let size = DemoSize(text) else {
                throw ArgumentValueError("not a size; use small, medium, large or a number of events such as 250k")
            }
            guard size.targetEvents >= DemoSize.minimumEvents else {
                throw ArgumentValueError("a demo needs at least \(DemoSize.minimumEvents) events for its registry and cases; use small or a number of at least \(DemoSize.minimumEvents)")
            }
            return size
        }

        func run() throws {
            let dir = storeOptions.directory
            let created = !StoreLocation.exists(dir)
            if created, let contents = try? FileManager.default.contentsOfDirectory(atPath: dir), !contents.isEmpty {
                throw CLIError(ExitStatus.alreadyExists, "\(dir) is not empty and holds no store; give a new or empty directory with --store")
            }
            // Not fsync'd per append: the demo is synced once at the end, and a failed demo
            // is thrown away rather than resumed.
            let store = try EventStore(at: dir, create: created, durable: false)
            let keys = try KeyStore(directory: dir, create: created)
            let head = try store.head()
            guard head.position == 0 else {
                throw CLIError(ExitStatus.alreadyExists, "the store at \(dir) already holds \(head.position) events; demo data goes into an empty store: give a new directory with --store")
            }
            if created { Console.err.line("created a store at \(dir)") }
            var generator = DemoGenerator(size: size, seed: seed)
            generator.sealsPersonalDetails = seal ?? (size == .small)
            let progress = Progress(label: "written")
            let started = Date()
            let summary = try generator.write(to: store, keys: keys) { p in
                progress.update(UInt64(p.eventsWritten), of: UInt64(p.targetEvents), note: p.day.danish)
            }
            try store.sync()
            progress.finish()
            let seconds = Date().timeIntervalSince(started)
            Console.out.line("demo \(summary.size), seed \(summary.seed): \(Progress.grouped(Int64(summary.events))) events, "
                + "\(Progress.grouped(Int64(summary.cases))) cases, \(summary.agreements) hours agreements, "
                + "\(summary.erasedResidents) residents erased, personal details \(summary.sealed ? "sealed" : "not sealed")")
            Console.out.line("written in " + DecimalText.format(seconds, places: 1, separator: ".") + " s ("
                + Progress.rate(seconds > 0 ? Double(summary.events) / seconds : 0) + "); head position \(summary.head.position) hash \(summary.head.hash)")
            Console.out.line("next: referral caseload --by area --today 31.12.2025; referral stats funnel --by area")
        }
    }
}
