import ArgumentParser
import ReferralEvents

extension ReferralCommand {
    /// `referral log-hours`: hours a shared employee spent.
    struct LogHours: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log hours a shared employee spent under an agreement, for a day or an ISO week.",
            discussion: """
                Hours are recorded per day. With --week (e.g. 2024-W10) the hours are spread \
                evenly over Monday to Friday of that week, to the hundredth of an hour (the \
                remainder goes to the first days), one event per day, all or nothing. Every \
                day must lie inside the agreement and not in the future; at most 24 hours a day.

                Example:
                  referral log-hours 2024-0001 --week 2024-W10 --hours 18,5 --area viborg-ellekonebakken --activity "Open office hours"
                """
        )

        @Argument(help: ArgumentHelp("The agreement id.", valueName: "agreement"), transform: Parse.agreementID)
        var agreementID: String

        // Also `--on`, which every other write command takes for its date.
        @Option(name: [.customLong("date"), .customLong("on")], help: ArgumentHelp("The day the hours were spent.", valueName: "date"), transform: Parse.date)
        var date: CalendarDate?

        @Option(help: ArgumentHelp("An ISO week (YYYY-Www): the hours are spread over its weekdays.", valueName: "week"), transform: Parse.isoWeek)
        var week: CalendarDate?

        @Option(parsing: .unconditional, help: ArgumentHelp("Hours, e.g. 7,5 (at most two decimals).", valueName: "hours"), transform: Parse.hours)
        var hours: Hours

        @Option(help: ArgumentHelp("The housing area the hours were spent in.", valueName: "area"))
        var area: String?

        @Option(name: .customLong("for"), help: ArgumentHelp("The organisation the hours were spent for.", valueName: "org"))
        var servedOrganisation: String?

        @Option(help: "What the employee did.")
        var activity: String = ""

        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            switch (date, week) {
            case (nil, nil): throw ValidationError("say when: --date DATE or --week YYYY-Www")
            case (.some, .some): throw ValidationError("give --date or --week, not both")
            default: break
            }
        }

        /// `total` spread over `days` days in hundredths; the first days take the remainder.
        static func spread(_ total: Hours, over days: Int) -> [Hours] {
            let each = total.hundredths / Int32(days), rest = Int(total.hundredths % Int32(days))
            return (0..<days).map { Hours(hundredths: each + ($0 < rest ? 1 : 0)) }
        }

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let a = try StreamSnapshot.loadAgreement(w.store, agreementID)
            let days: [(CalendarDate, Hours)]
            if let date {
                days = [(date, hours)]
            } else if let week {
                // Fewer than five hundredths leave some days at zero: those get no event.
                days = zip((0..<5).map { week.adding(days: $0) }, Self.spread(hours, over: 5)).filter { $0.1.hundredths > 0 }
            } else {
                throw CLIError.usage("say when: --date DATE or --week YYYY-Www")
            }
            let events = days.map { day, h in
                w.event(a.stream, .sharedHoursLogged(SharedHoursLogged(date: day, hours: h, areaId: area, servedOrganisation: servedOrganisation, activity: activity)),
                        at: min(Timestamp(day, hour: 12), Timestamp.now()))
            }
            let result = try w.store.append(events, expecting: [a.stream: .exactly(a.version)])
            for (e, (day, h)) in zip(result.events, days) {
                Console.out.line("position \(e.position)  event \(e.id.uuidString.lowercased())  agreement \(agreementID)  \(day.danish)  \(h) \(h.hundredths == 100 ? "hour" : "hours")")
            }
        }
    }
}
