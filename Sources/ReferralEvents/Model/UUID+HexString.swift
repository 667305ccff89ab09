import Foundation

extension UUID {
    /// Parses the 8-4-4-4-12 hex form, either case, without the C library's `sscanf` (a
    /// tenth of an import's parsing went there), and strictly: Foundation's
    /// `UUID(uuidString:)` takes a few malformed strings (a '-' for the last digit) and makes
    /// up a value. The import's check of a `uuid` field (`ValueShape.isUUID`) is this parse.
    init?(hexString s: String) {
        var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var s = s
        let ok = s.withUTF8 { b -> Bool in
            guard b.count == 36, b[8] == 0x2D, b[13] == 0x2D, b[18] == 0x2D, b[23] == 0x2D else { return false }
            return withUnsafeMutableBytes(of: &bytes) { out -> Bool in
                var k = 0
                var i = 0
                while i < 36 {
                    if i == 8 || i == 13 || i == 18 || i == 23 { i += 1; continue }
                    guard let hi = hexValue(b[i]), let lo = hexValue(b[i + 1]) else { return false }
                    out[k] = hi << 4 | lo
                    k += 1
                    i += 2
                }
                return true
            }
        }
        guard ok else { return nil }
        self.init(uuid: bytes)
    }
}
