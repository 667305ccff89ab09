import Foundation

/// Everything the event log can refuse or fail with.
///
/// `code` says what kind of failure it is (callers and the CLI's exit codes switch on
/// it); `message` says what went wrong and what to do. Codes are a struct with static
/// members rather than a closed enum so that new ones do not break callers.
public struct LogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An expected version did not match the stream.
        public static let conflict = Code("conflict")
        /// A domain rule refused an event; `rule` names it.
        public static let ruleViolation = Code("rule-violation")
        /// The input is malformed (bad JSON, an impossible date, an unknown type).
        public static let invalidInput = Code("invalid-input")
        /// A stored record or index does not match what was written (tampering or corruption).
        public static let corrupt = Code("corrupt")
        /// The thing asked for does not exist (store, stream, event, key).
        public static let notFound = Code("not-found")
        /// LMDB or the file system failed; `lmdbCode` or `errno` says how.
        public static let storage = Code("storage")
        /// The store was written by a newer format than this build reads.
        public static let unsupportedFormat = Code("unsupported-format")
    }

    public var code: Code
    public var message: String
    /// For `.ruleViolation`: which rule.
    public var rule: DomainRule?
    /// For batch failures: the index of the offending event in the batch (0-based).
    public var eventIndex: Int?
    public var eventId: UUID?
    /// For `.conflict`.
    public var stream: StreamID?
    public var expected: ExpectedVersion?
    /// For `.conflict`: the stream's actual last version (0 if it does not exist).
    public var actualVersion: UInt64?
    /// For `.storage`: the LMDB or errno result code.
    public var resultCode: Int32?
    /// For `.corrupt`: the first position found bad.
    public var position: UInt64?

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = LogError.clipped(message)
    }

    /// Messages quote the offending value; a hostile one may be a megabyte long. Keeping the
    /// start (which field) and the end (which rule, what to do) keeps the message readable.
    static func clipped(_ message: String, limit: Int = 1_000) -> String {
        guard message.count > limit else { return message }
        let keep = (limit - 40) / 2
        return "\(message.prefix(keep)) …[\(message.count - 2 * keep) characters left out]… \(message.suffix(keep))"
    }

    public var description: String { message }

    static func conflict(stream: StreamID, expected: ExpectedVersion, actual: UInt64) -> LogError {
        var e = LogError(.conflict, "version conflict on stream '\(stream)': expected \(expected), but the stream is at \(actual == 0 ? "no stream" : "version \(actual)"); read the stream again and retry")
        e.stream = stream
        e.expected = expected
        e.actualVersion = actual
        return e
    }

    static func corrupt(_ message: String, position: UInt64? = nil) -> LogError {
        var e = LogError(.corrupt, message)
        e.position = position
        return e
    }
}

/// A domain rule the log enforces before anything is written.
///
/// Rules are a struct with static members so that new rules can be added without
/// breaking callers that switch on the ones they know.
public struct DomainRule: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The event type belongs in another kind of stream (e.g. a case event outside `case-…`).
    public static let wrongStream = DomainRule("wrong-stream")
    /// Case events need a case that was opened; opening needs a case that does not exist.
    public static let caseMustExist = DomainRule("case-must-exist")
    public static let caseAlreadyExists = DomainRule("case-already-exists")
    /// Referrals, placements and consents need an open case.
    public static let caseMustBeOpen = DomainRule("case-must-be-open")
    public static let caseMustBeClosed = DomainRule("case-must-be-closed")
    /// A referral (or a read of personal details) needs valid consent covering the party and purpose.
    public static let consentRequired = DomainRule("consent-required")
    public static let unknownConsent = DomainRule("unknown-consent")
    public static let unknownReferral = DomainRule("unknown-referral")
    public static let referralAlreadyAnswered = DomainRule("referral-already-answered")
    /// A placement can only end if it started, and only once.
    public static let placementNotStarted = DomainRule("placement-not-started")
    public static let placementAlreadyStarted = DomainRule("placement-already-started")
    public static let placementAlreadyEnded = DomainRule("placement-already-ended")
    /// Hours must be positive, at most 24 a day (168 a week for weekly figures).
    public static let hoursOutOfRange = DomainRule("hours-out-of-range")
    /// Occurred-at may not lie in the future; dates must be ordered (start before end).
    public static let futureDate = DomainRule("future-date")
    public static let dateOrder = DomainRule("date-order")
    public static let unknownOrganisation = DomainRule("unknown-organisation")
    public static let unknownArea = DomainRule("unknown-area")
    public static let unknownLiaison = DomainRule("unknown-liaison")
    public static let unknownTargetGroup = DomainRule("unknown-target-group")
    public static let alreadyRegistered = DomainRule("already-registered")
    public static let unknownAgreement = DomainRule("unknown-agreement")
    public static let agreementExists = DomainRule("agreement-already-exists")
    public static let agreementEnded = DomainRule("agreement-ended")
    public static let unknownEvent = DomainRule("unknown-event")
    public static let alreadyRetracted = DomainRule("already-retracted")
    public static let invalidValue = DomainRule("invalid-value")
    /// A case has one first jobcenter contact; later ones are follow-ups.
    public static let firstContactAlreadyHeld = DomainRule("first-contact-already-held")
    /// One outcome per mark (1, 3, 6, 12 months) after each close of a case.
    public static let outcomeAlreadyRecorded = DomainRule("outcome-already-recorded")
    /// A target group's periods (its definitions not retracted) do not overlap.
    public static let targetGroupOverlap = DomainRule("target-group-overlap")
    /// An erasure that has been carried out cannot be refused afterwards.
    public static let alreadyErased = DomainRule("already-erased")
}
