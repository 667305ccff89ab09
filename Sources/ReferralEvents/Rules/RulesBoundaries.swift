/// The positions in the log from which rules that came after a store's first events bind
/// (docs/domain-rules.md, "The rules boundaries"). A mature log is never judged again by a
/// rule that did not exist when its events were accepted: an event before a boundary is
/// checked, on every replay, as it was when it was appended.
///
/// Each boundary is 1 in a store made by a build that has its rule (every event is bound),
/// and the head position + 1 in a store moved from an older layout, or imported with
/// `--as-recorded` (`EventStore.appendChunked(asRecorded:)`). Kept in `meta`
/// (`EventStore.datedRulesFromKey`, `EventStore.closeLapseFromKey`).
struct RulesBoundaries: Equatable, Sendable {
    /// Layout 5's rules: the checks that read days (a consent's given-on and lapsed-on
    /// days, dates in a case's order, a placement's end in the future) and the duplicate
    /// checks (a second first contact, an outcome recorded twice, target group periods
    /// overlapping). `meta` `rules-2-from`.
    var datedRules: UInt64
    /// Layout 6's rule: a close lapses a consent that already lapsed on a later day
    /// (withdrawn, or by an earlier close) on the close's day, so that after a reopening it
    /// does not cover the days between: a consent lapses on the earliest such day. Before
    /// it, the consent kept its first lapse's day. `meta` `rules-3-from`.
    var closeLapse: UInt64

    /// Every event bound by every rule: a store made by this build.
    static let everyEvent = RulesBoundaries(datedRules: 1, closeLapse: 1)

    /// No event bound by a later rule: while a history recorded under older rules is
    /// imported (`EventStore.appendChunked(asRecorded:)`).
    static let noEvent = RulesBoundaries(datedRules: .max, closeLapse: .max)

    /// Every rule binds only the events after `head`: a history accepted under older rules.
    static func after(_ head: UInt64) -> RulesBoundaries {
        RulesBoundaries(datedRules: head + 1, closeLapse: head + 1)
    }
}
