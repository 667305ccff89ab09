import Foundation

extension EventStore {
    /// The log positions of every event retracted in the log whose last position is
    /// `head`, ascending; nil if the log's last position is no longer (or not yet) `head`.
    ///
    /// Read from the rule rows the appends keep (one per retracted event, holding its
    /// position), in one read transaction that also checks the head: a retraction's rule row
    /// is written in the same transaction as the retraction, so when the head is `head`
    /// these are exactly the events retracted at or before `head`. A fold of the whole log
    /// can then leave them out as it reads instead of folding their streams again.
    public func retractedPositions(ifHeadIs head: UInt64) throws -> [UInt64]? {
        try env.read { txn in
            let last = try txn.last(events).map { readBigEndian($0.key) } ?? 0
            guard last == head else { return nil }
            // The rows' keys are this prefix and the retracted event's 16-byte id.
            let kind = RuleKey.retracted([])
            var out: [UInt64] = []
            try txn.forEach(rules, from: kind) { key, value in
                guard key.starts(with: kind) else { return false }
                guard key.count == kind.count + 16, value.count == 8 else {
                    throw LogError.corrupt("a retraction rule row has a \(key.count)-byte key and a \(value.count)-byte value, not an id and a position; run verify")
                }
                out.append(readBigEndian(value))
                return true
            }
            out.sort()
            return out
        }
    }
}
