import Foundation
import Testing
@testable import ReferralEvents

/// Import decodes an event's `data` straight from the parsed tree (`JSONValueDecoder`)
/// instead of writing it back to text for Foundation's `JSONDecoder`. Both must read the
/// same payloads the same way.
struct JSONValueDecoderTests {
    /// Every sample event's exported `data` reads back as the payload it came from: one
    /// sample of every event type, with every optional field of some given.
    @Test func everyPayloadReadsBack() throws {
        for sample in Samples.recorded {
            let shape = try #require(PayloadShape.forType(sample.payload.type))
            #expect(try shape.decode(sample.payload.cloudEventData) == sample.payload, "\(sample.payload.type.name)")
        }
    }

    /// Export builds `data` with `JSONValueEncoder`; it must write what Foundation's
    /// `JSONEncoder` wrote, read back and normalised (keys compared sorted, as exported).
    @Test func everyPayloadEncodesAsJSONEncoderEncodesIt() throws {
        for sample in Samples.recorded {
            let payload = sample.payload
            let viaText = try JSONParser.parse(Array(JSONEncoder().encode(payload.binaryPayload)))
            let expected = ValueShape.payload(payload.type).normalised(viaText).compact(sortKeys: true)
            #expect(payload.cloudEventData.compact(sortKeys: true) == expected, "\(payload.type.name)")
        }
        // Strings that need escapes, and names whose bytes sort differently from their
        // characters, still come out as before.
        struct Odd: Encodable { var b: String; var a: [String]; var ø: Int; var Z: Bool?; var aa: Double }
        let odd = Odd(b: "linje 1\nlinje 2 \"citat\" \u{2028} \\", a: ["æ", "\u{1}"], ø: -3, Z: nil, aa: 0.5)
        let viaText = try JSONParser.parse(Array(JSONEncoder().encode(odd)))
        #expect(try JSONValueEncoder.encode(odd).compact(sortKeys: true) == viaText.compact(sortKeys: true))
    }

    struct Numbers: Decodable, Equatable {
        var count: Int
        var small: UInt8
        var hours: Double
        var id: UUID
        var note: String?
        var list: [Int]
    }

    static func numbers(_ json: String) throws -> Numbers {
        try JSONValueDecoder.decode(Numbers.self, from: JSONParser.parse(Array(json.utf8)))
    }

    @Test func numbersAndOptionalsAreReadAsJSONDecoderReadsThem() throws {
        let id = "0B9E3C9E-5F0A-4C1E-9D3B-2F6A1E7C8D90"
        let cases = [
            #"{"count": 3, "small": 255, "hours": 7.25, "id": "\#(id)", "list": [1, 2]}"#,
            #"{"count": 3.0, "small": 2e2, "hours": 7, "id": "\#(id.lowercased())", "note": null, "list": []}"#,
            #"{"count": -3, "small": 0, "hours": 1e-2, "id": "\#(id)", "note": "x", "list": [1e1]}"#,
        ]
        for json in cases {
            let ours = try Self.numbers(json)
            let foundation = try JSONDecoder().decode(Numbers.self, from: Data(json.utf8))
            #expect(ours == foundation, "\(json)")
        }
        let refused = [
            #"{"count": 3.5, "small": 1, "hours": 1, "id": "\#(id)", "list": []}"#,  // not whole
            #"{"count": 3, "small": 256, "hours": 1, "id": "\#(id)", "list": []}"#,  // too large
            #"{"count": "3", "small": 1, "hours": 1, "id": "\#(id)", "list": []}"#,  // a string
            #"{"count": 3, "small": 1, "hours": 1, "id": "\#(id.dropLast())", "list": []}"#,  // not a UUID
            #"{"count": 3, "small": 1, "hours": 1, "list": []}"#,  // missing
            #"{"count": 3, "small": 1, "hours": 1, "id": "\#(id)", "list": [true]}"#,
        ]
        for json in refused {
            #expect(throws: DecodingError.self, "\(json)") { try Self.numbers(json) }
            #expect(throws: DecodingError.self, "\(json)") { try JSONDecoder().decode(Numbers.self, from: Data(json.utf8)) }
        }
    }

    @Test func uuidsParseAsFoundationParsesThem() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefABCDEFgx-".utf8)
        for _ in 0..<2_000 {
            var text = Array(UUID().uuidString.utf8)
            if Bool.random(using: &rng) { text = Array(String(decoding: text, as: UTF8.self).lowercased().utf8) }
            if Int.random(in: 0..<3, using: &rng) == 0 { text[Int.random(in: 0..<36, using: &rng)] = alphabet.randomElement(using: &rng)! }
            if Int.random(in: 0..<20, using: &rng) == 0 { text.removeLast() }
            let s = String(decoding: text, as: UTF8.self)
            // Foundation's own parser (sscanf) takes a few malformed strings, e.g. a '-' for a
            // digit at the end ("…235-D"), and makes something up; the strict form is the oracle.
            let strict = s.wholeMatch(of: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/) != nil
            let expected = strict ? UUID(uuidString: s) : nil
            #expect(UUID(hexString: s) == expected, "\(s)")
        }
    }
}
