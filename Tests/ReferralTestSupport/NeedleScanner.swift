/// Helpers shared by the test targets (which cannot import each other).

/// Finds which of many byte strings occur in a buffer, in one pass: a table of the
/// needles' first two bytes rules out almost every position before any comparison.
public struct NeedleScanner: Sendable {
    private var starts = [Bool](repeating: false, count: 65536)
    private var byPrefix: [UInt32: [Int]] = [:]
    public let needles: [[UInt8]]

    /// Needles must be at least 4 bytes long.
    public init(_ needles: [[UInt8]]) {
        precondition(needles.allSatisfy { $0.count >= 4 }, "needles need at least 4 bytes")
        self.needles = needles
        for (i, n) in needles.enumerated() {
            starts[Int(n[0]) << 8 | Int(n[1])] = true
            byPrefix[UInt32(n[0]) << 24 | UInt32(n[1]) << 16 | UInt32(n[2]) << 8 | UInt32(n[3]), default: []].append(i)
        }
    }

    /// The indices of the needles found in `data`.
    public func found(in data: [UInt8]) -> Set<Int> {
        var hits: Set<Int> = []
        data.withUnsafeBufferPointer { b in
            guard b.count >= 4 else { return }
            for i in 0..<(b.count - 3) where starts[Int(b[i]) << 8 | Int(b[i + 1])] {
                let key = UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
                guard let candidates = byPrefix[key] else { continue }
                for c in candidates where !hits.contains(c) {
                    let n = needles[c]
                    if i + n.count <= b.count, (0..<n.count).allSatisfy({ b[i + $0] == n[$0] }) { hits.insert(c) }
                }
            }
        }
        return hits
    }
}
