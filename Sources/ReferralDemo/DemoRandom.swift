import Foundation
import ReferralEvents

/// SplitMix64 (Steele, Lea and Flood 2014): a small, fast generator whose output depends
/// only on its seed, on every platform and toolchain.
///
/// The demo never uses `Int.random(in:)` or `UUID()`: the standard library's ranged
/// sampling may change between releases, and would change the demo data with it. Every
/// draw here is spelled out, so the same seed gives the same bytes forever.
struct DemoRandom {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one entity (a case, an agreement), independent of the order in
    /// which entities are generated: seeded from the demo seed, a tag and the entity's number.
    init(seed: UInt64, tag: UInt64, index: UInt64) {
        state = DemoRandom.mix(seed ^ DemoRandom.mix(tag &* 0x9E37_79B9_7F4A_7C15 ^ DemoRandom.mix(index &+ 0x632B_E59B_D9B4_E019)))
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return DemoRandom.mix(state)
    }

    /// The SplitMix64 finaliser: a bijection that scatters nearby inputs.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (multiply-high; the bias is below 2⁻³² for the ranges used here).
    @inline(__always)
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) * 0x1.0p-53 < p
    }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// An index drawn with the given relative weights.
    mutating func weighted(_ weights: [Int]) -> Int {
        var r = below(weights.reduce(0, +))
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }

    /// Days drawn from a skewed distribution: most small, a long tail up to `max`
    /// (the minimum of two uniform draws, squared in effect).
    mutating func skewedDays(_ min: Int, _ max: Int) -> Int {
        let a = int(min...max), b = int(min...max)
        return Swift.min(a, b)
    }
}

/// Event ids made from the seed, so that the same demo has the same ids: a version-7
/// shaped UUID (RFC 9562) whose 48-bit time is `milliseconds` (the event's recording day
/// and its time of day), and whose other bits come from mixing the seed, the stream's tag
/// and number and the event's index in that stream.
///
/// Time-ordered like the ids `ProposedEvent` makes by default, so the demo's appends
/// insert into the log's id index near its right edge, as real appends do, instead of at
/// a random page per event.
func demoEventID(seed: UInt64, tag: UInt64, entity: UInt64, index: UInt64, milliseconds: Int64) -> UUID {
    let a = DemoRandom.mix(seed ^ DemoRandom.mix(tag &* 0xD1B5_4A32_D192_ED03 ^ DemoRandom.mix(entity)))
    let hi = DemoRandom.mix(a ^ DemoRandom.mix(index &* 0xA076_1D64_78BD_642F))
    let lo = DemoRandom.mix(hi ^ 0xE703_7ED1_A0B4_28DB ^ index)
    return UUID.timeOrdered(milliseconds: UInt64(max(0, milliseconds)), counter: hi, random: lo)
}
