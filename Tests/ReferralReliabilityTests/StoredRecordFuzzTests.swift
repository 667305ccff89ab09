import Foundation
import ReferralEvents
import Testing

/// Issue 6.4, the stored-record decoder: thousands of truncated, mutated and random buffers
/// never crash `EventView(checking:)` / `EventRecord.decode`; each is a `LogError`, and a
/// changed record that still decodes never passes its hash check.
@Suite struct StoredRecordFuzzTests {
    /// What happened to one input.
    enum Outcome: Hashable {
        case rejected(LogError.Code)
        /// It decoded (the mutation kept the structure) but the hash gives it away.
        case decodedButHashFails
        case unchanged
    }

    /// Decodes `buffer` every way a reader can, and checks the property.
    static func probe(_ buffer: [UInt8], original: [UInt8]) -> Outcome {
        buffer.withUnsafeBytes { raw -> Outcome in
            do {
                let view = try EventView(checking: raw)
                let event = try view.decode()
                _ = try view.payload()
                // Everything a tool shows about a record must be printable, whatever the values.
                _ = "\(event.envelope.occurredAt) \(event.envelope.recordedAt) \(event.payload) \(view.stream) \(view.id)"
                let again = try EventRecord.decode(raw)
                if again != event { Issue.record("EventRecord.decode and EventView.decode disagree") }
                if buffer == original { return .unchanged }
                if view.hashIsValid { Issue.record("a changed record passes its hash check: \(buffer.count) bytes") }
                return .decodedButHashFails
            } catch let error as LogError {
                if ![.corrupt, .unsupportedFormat].contains(error.code) { Issue.record("unexpected code \(error.code): \(error.message)") }
                if error.message.isEmpty { Issue.record("an empty error message") }
                return .rejected(error.code)
            } catch {
                Issue.record("not a LogError: \(error)")
                return .rejected(LogError.Code("other"))
            }
        }
    }

    static func setU16(_ b: inout [UInt8], _ offset: Int, _ v: UInt16) {
        b[offset] = UInt8(v & 0xFF)
        b[offset + 1] = UInt8(v >> 8)
    }

    static func setU32(_ b: inout [UInt8], _ offset: Int, _ v: UInt32) {
        for i in 0..<4 { b[offset + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }

    static func u16(_ b: [UInt8], _ offset: Int) -> Int { Int(b[offset]) | Int(b[offset + 1]) << 8 }
    static func u32(_ b: [UInt8], _ offset: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[offset + $1]) << (8 * $1) } }

    /// One mutation of a valid record, chosen by `kind`.
    static func mutate(_ record: [UInt8], kind: Int, rng: inout SplitMix64) -> [UInt8] {
        var b = record
        let n = b.count
        func random(_ bound: Int) -> Int { Int(rng.next() % UInt64(max(bound, 1))) }
        switch kind {
        case 0:  // overwrite a few random bytes
            for _ in 0...random(8) { b[random(n)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 1:  // flip single bits
            for _ in 0...random(3) { b[random(n)] ^= 1 << UInt8(random(8)) }
        case 2:  // extend with junk
            b += (0...random(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        case 3:  // move bytes between two length fields, keeping the total consistent
            let fields = [(6, 2), (88, 2), (90, 2), (92, 4)]
            let from = fields[random(4)], to = fields[random(4)]
            let get = { (f: (Int, Int)) in f.1 == 2 ? u16(b, f.0) : u32(b, f.0) }
            let moved = min(get(from), 1 + random(8))
            let set = { (f: (Int, Int), v: Int) in if f.1 == 2 { setU16(&b, f.0, UInt16(clamping: v)) } else { setU32(&b, f.0, UInt32(clamping: v)) } }
            set(from, get(from) - moved)
            set(to, get(to) + moved)
        case 4:  // another type's code, or an unknown type or schema version
            let codes = EventType.all.map(\.code) + [0, 5, 22, 33, 63, 64, 999, .max]
            setU16(&b, 2, codes[random(codes.count)])
            if random(4) == 0 { b[1] = [0, 2, 255][random(3)] }
            if random(8) == 0 { b[0] = [0, 2, 255][random(3)] }
        case 5:  // random payload bytes of the same length
            let payload = u32(b, 92)
            let start = n - 32 - payload
            for i in start..<(n - 32) { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
        case 6:  // a payload of random length and content, header adjusted
            let payload = u32(b, 92)
            let start = n - 32 - payload
            let junk = (0..<random(80)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 4 == 0 ? 0xFF : rng.next() % 8) }
            b = Array(b[..<start]) + junk + Array(b[(n - 32)...])
            setU32(&b, 92, UInt32(junk.count))
        case 7:  // invalid UTF-8 inside the stream, actor or organisation text
            let textBytes = u16(b, 6) + u16(b, 88) + u16(b, 90)
            if textBytes > 0 { b[96 + random(textBytes)] = [0xFF, 0xC0, 0xED, 0x80, 0xF8][random(5)] }
        case 8:  // the correlation / causation flags say something else
            b[4] ^= UInt8(1 + random(3))
        case 9:  // absurd lengths
            let fields = [6, 88, 90]
            if random(2) == 0 { setU16(&b, fields[random(3)], [0, 0xFFFF, UInt16(random(600))][random(3)]) } else {
                setU32(&b, 92, [0, .max, UInt32(random(1000)), UInt32(n)][random(4)])
            }
        case 10:  // extreme times and positions (structure unchanged, hash broken)
            let offsets = [8, 16, 24, 32]
            let at = offsets[random(4)]
            let value: UInt64 = [0, .max, 1 << 63, (1 << 63) - 1, rng.next()][random(5)]
            for i in 0..<8 { b[at + i] = UInt8((value >> (8 * UInt64(i))) & 0xFF) }
        default:  // a varint inside the payload made enormous
            let payload = u32(b, 92)
            if payload > 0 {
                let start = n - 32 - payload
                let at = start + random(payload)
                let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
                for (i, byte) in huge.enumerated() where at + i < n - 32 { b[at + i] = byte }
            }
        }
        return b
    }

    @Test func everyEventTypeHasASample() throws {
        #expect(Set(Samples.payloads.map(\.type)) == Set(EventType.all), "add a sample for each new event type")
        for record in try Samples.records() { #expect(Self.probe(record, original: record) == .unchanged) }
    }

    @Test func truncatedRecordsAreRejected() throws {
        var tried = 0
        for record in try Samples.records() {
            for length in 0..<record.count {
                let outcome = Self.probe(Array(record[..<length]), original: record)
                #expect(outcome == .rejected(.corrupt), "a record cut to \(length) of \(record.count) bytes")
                tried += 1
            }
        }
        report("decoder-truncated", ["inputs": tried])
    }

    @Test func mutatedRecordsAreRejectedOrFailTheirHash() throws {
        let perKind = RunSize.pick(2_000, heavy: 100_000)
        var rng = SplitMix64(seed: RunSize.seed)
        var outcomes: [Outcome: Int] = [:]
        let records = try Samples.records()
        for kind in 0...11 {
            for _ in 0..<perKind {
                let record = records[Int(rng.next() % UInt64(records.count))]
                outcomes[Self.probe(Self.mutate(record, kind: kind, rng: &rng), original: record), default: 0] += 1
            }
        }
        let tried = outcomes.values.reduce(0, +)
        #expect(tried == 12 * perKind)
        report("decoder-mutated", ["inputs": tried, "rejected_corrupt": outcomes[.rejected(.corrupt)] ?? 0,
                                   "rejected_unsupported": outcomes[.rejected(.unsupportedFormat)] ?? 0,
                                   "decoded_hash_fails": outcomes[.decodedButHashFails] ?? 0, "unchanged": outcomes[.unchanged] ?? 0,
                                   "seed": RunSize.seed])
    }

    @Test func randomBuffersAreRejected() {
        let count = RunSize.pick(5_000, heavy: 200_000)
        var rng = SplitMix64(seed: RunSize.seed ^ 0xABCD)
        var rejected = 0
        for _ in 0..<count {
            var buffer = (0..<Int(rng.next() % 400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if buffer.count > 4, rng.next() % 2 == 0 {  // a plausible start, so the length checks run
                buffer[0] = 1
                buffer[1] = 1
                buffer[2] = UInt8(EventType.all[Int(rng.next() % UInt64(EventType.all.count))].code)
                buffer[3] = 0
            }
            if case .rejected = Self.probe(buffer, original: []) { rejected += 1 }
        }
        #expect(rejected == count, "random bytes decoded as an event")
        report("decoder-random", ["inputs": count, "rejected": rejected])
    }

    /// The text forms of times and dates never trap, and what parses prints back the same.
    @Test func timeAndIdentifierParsersSurviveHostileText() {
        let count = RunSize.pick(20_000, heavy: 500_000)
        var rng = SplitMix64(seed: RunSize.seed ^ 0x5EED)
        let seeds = ["2024-03-01T09:30:00.000Z", "2024-02-29T23:59:60.999+23:59", "1900-01-01T00:00:00-12:00", "2199-12-31T23:59:59Z",
                     "2024-03-01", "01.03.2024", "29.02.2023", "0123456789abcdef0123456789abcdef", "9999-99-99T99:99:99Z"]
        let alphabet = Array("0123456789-:.TZz+ tabcdefABCDEF\u{0}é🙂".unicodeScalars)
        var parsedTimes = 0, parsedDates = 0
        for _ in 0..<count {
            var chars = Array(seeds[Int(rng.next() % UInt64(seeds.count))].unicodeScalars)
            for _ in 0...(rng.next() % 4) {
                let i = Int(rng.next() % UInt64(chars.count + 1))
                let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0 where i < chars.count: chars[i] = c
                case 1: chars.insert(c, at: i)
                default: if i < chars.count { chars.remove(at: i) }
                }
            }
            let text = String(String.UnicodeScalarView(chars))
            if let t = Timestamp(parsing: text) {
                parsedTimes += 1
                _ = t.date.danish
                // Within the years a date can be written in, the printed form parses back.
                if (1900...2199).contains(t.date.year) { #expect(Timestamp(parsing: t.iso8601) == t, "\(text) → \(t.iso8601)") }
            }
            if let d = CalendarDate(parsing: text) {
                parsedDates += 1
                #expect(CalendarDate(parsing: d.iso8601) == d && CalendarDate(parsing: d.danish) == d, "\(text)")
            }
            _ = Pseudonym(hex: text)
            _ = Digest(hex: text)
        }
        for ms: Int64 in [.min, .max, 0, -1, .min + 1, .max - 1] {
            let t = Timestamp(millisecondsSinceEpoch: ms)
            _ = "\(t) \(t.date) \(t.date.danish) \(t.date.isoWeek)"
        }
        report("text-parsers", ["inputs": count, "parsed_times": parsedTimes, "parsed_dates": parsedDates])
    }
}
