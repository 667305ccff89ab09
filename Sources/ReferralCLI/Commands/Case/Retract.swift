import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral retract`: a recorded event was wrong.
    struct Retract: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retract a wrong event. It stays in the log and the audit; projections leave it out.",
            discussion: """
                The retraction goes into the same stream as the event it retracts. Record the \
                corrected fact anew afterwards. Event ids are shown by `referral log` and \
                `referral history`.

                Example:
                  referral retract 5c0b7e2a-3f4d-4e21-9a57-1b2c3d4e5f60 --reason "Recorded on the wrong case"
                """
        )

        @Argument(help: ArgumentHelp("The id of the event to retract.", valueName: "event-id"), transform: Parse.eventID)
        var eventID: UUID

        @Option(help: "Why it was wrong.")
        var reason: String

        @OptionGroup var when: WhenOptions
        @OptionGroup var identity: IdentityOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let w = try WriteContext(storeOptions, identity)
            guard let target = try w.store.event(id: eventID) else {
                throw CLIError.notFound("there is no event \(eventID.uuidString.lowercased()) in the log; copy the id from `referral log` or `referral history`")
            }
            let payload = EventRetracted(retractedEventId: eventID, reason: reason)
            try w.append([w.event(target.stream, .eventRetracted(payload), at: when.resolve(), causedBy: eventID)],
                         notes: ["retracts position \(target.position) (\(target.envelope.type.name) in \(target.stream))"])
        }
    }
}
