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
            // The rows' leaves are scattered over the file, and where the page cache holds
            // the file in 2 MiB folios each leaf maps a whole one: 15,267 rows of the 10M
            // demo log mapped 380 MiB at once. Released as a scan's pages are.
            var pages = lowMemoryReplay ? MapPageReleaser(env, window: 256) : nil
            try txn.forEach(rules, from: kind) { key, value in
                guard key.starts(with: kind) else { return false }
                guard key.count == kind.count + 16, value.count == 8 else {
                    throw LogError.corrupt("a retraction rule row has a \(key.count)-byte key and a \(value.count)-byte value, not an id and a position; run verify")
                }
                out.append(readBigEndian(value))
                pages?.passed(value)
                return true
            }
            pages?.finish()
            out.sort()
            return out
        }
    }
}
