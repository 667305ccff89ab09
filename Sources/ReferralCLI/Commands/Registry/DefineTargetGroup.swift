import ArgumentParser
import ReferralEvents

extension ReferralCommand.Registry {
    /// `referral registry define-target-group`.
    struct DefineTargetGroup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Define a target group (målgruppe), in effect from a date and optionally until one.",
            discussion: """
                Target groups are reference data because they are being reformed: a case can \
                only be opened in a group in effect on the day it opens. Define the same code \
                again to give it another period.

                Example:
                  referral registry define-target-group jobparat --label Jobparat --from 01.01.2020
                """
        )

        @Argument(help: ArgumentHelp("The code, e.g. jobparat.", valueName: "code"))
        var code: String

        @Option(help: "Its label.")
        var label: String

        @Option(help: ArgumentHelp("First day in effect.", valueName: "date"), transform: Parse.date)
        var from: CalendarDate

        @Option(help: ArgumentHelp("Last day in effect (default: open-ended).", valueName: "date"), transform: Parse.date)
        var to: CalendarDate?

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            let payload = TargetGroupDefined(code: code, label: label, effectiveFrom: from, effectiveTo: to)
            try w.append([w.event(.registry, .targetGroupDefined(payload), at: when.resolve())], notes: ["target group \(code)"])
        }
    }
}
