import Foundation
import Synchronization

extension UUID {
    /// A new time-ordered UUID, version 7 (RFC 9562 §5.7): 48 bits of Unix milliseconds,
    /// a 12-bit counter, then 62 random bits.
    ///
    /// The default id of a `ProposedEvent`. Ids made later sort after ids made earlier, so
    /// the log's id index (`event_ids`, keyed by the id's bytes) grows at its right edge
    /// instead of at a random page per event: a batch of appends then changes a handful of
    /// index pages, not one per event. Within one millisecond the counter (RFC 9562 §6.2,
    /// method 1, started at a random value below 2,048) keeps ids made in this process in
    /// order; when it runs out, the timestamp borrows the next millisecond. Ids from other
    /// processes or machines are still unique (62 random bits), only not strictly ordered.
    public static func timeOrdered() -> UUID {
        var rng = SystemRandomNumberGenerator()
        let random = rng.next() as UInt64
        let now = UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded(.down)))
        let (ms, counter) = timeOrderedState.withLock { state -> (UInt64, UInt64) in
            if now > state.ms {
                state = (now, UInt64(rng.next() as UInt16) & 0x7FF)
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                state = (state.ms + 1, 0)
            }
            return (state.ms, state.counter)
        }
        return timeOrdered(milliseconds: ms, counter: counter, random: random)
    }

    /// A version-7 UUID from given parts, for ids that must be reproducible (the demo
    /// generator's): `milliseconds` (low 48 bits), `counter` (low 12 bits) and `random`
    /// (low 62 bits; the top two make way for the RFC 9562 variant).
    public static func timeOrdered(milliseconds ms: UInt64, counter: UInt64, random: UInt64) -> UUID {
        let high = (ms & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | (counter & 0xFFF)
        let low = random & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { b in
            UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
        }
    }
}

/// The last millisecond and counter handed out by `UUID.timeOrdered()` in this process.
private let timeOrderedState = Mutex<(ms: UInt64, counter: UInt64)>((0, 0))
