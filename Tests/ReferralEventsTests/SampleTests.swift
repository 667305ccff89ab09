import Testing
@testable import ReferralEvents

/// The samples themselves: one per type, each what it says it is.
struct SampleTests {
    @Test func oneFullSamplePerEventTypeInOrder() {
        #expect(Samples.full.map(\.payload.type) == EventType.all)
    }

    @Test func recordedSamplesFormAChain() {
        var previous = Digest.zero
        var recordedAt = Timestamp(millisecondsSinceEpoch: 0)
        for (k, e) in Samples.recorded.enumerated() {
            #expect(e.position == UInt64(k + 1))
            #expect(e.envelope.previousHash == previous)
            #expect(e.envelope.recordedAt >= recordedAt)
            #expect(e.envelope.recordedAt >= e.envelope.occurredAt)
            previous = e.envelope.hash
            recordedAt = e.envelope.recordedAt
        }
    }

    @Test(arguments: EventType.all)
    func minimalSamplesLeaveOutOptionalFields(type: EventType) throws {
        guard let minimal = Samples.minimal(type) else { return }
        #expect(minimal.payload.type == type)
        #expect(minimal.payload != Samples.full(type).payload)
    }
}
