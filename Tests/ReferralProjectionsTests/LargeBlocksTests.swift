import Testing
@testable import ReferralProjections

/// The fold's big tables rely on `LargeBlocks` for 2 MiB alignment (huge pages) and on
/// blocks being whole however their size rounds.
@Suite struct LargeBlocksTests {
    @Test func largeBlocksAreAlignedAndWritable() {
        for bytes in [LargeBlocks.alignment, 3 << 20, (4 << 20) + 1234] {
            let p = LargeBlocks.allocate(bytes)
            #expect(UInt(bitPattern: p) % UInt(LargeBlocks.alignment) == 0, "\(bytes) bytes at \(p)")
            // Every byte is writable, the last one included.
            p.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)
            #expect(p.load(fromByteOffset: bytes - 1, as: UInt8.self) == 0xA5)
            LargeBlocks.free(p, bytes: bytes)
        }
    }

    @Test func smallBlocksAreCacheLineAligned() {
        let p = LargeBlocks.allocate(100)
        #expect(UInt(bitPattern: p) % 64 == 0)
        p.initializeMemory(as: UInt8.self, repeating: 1, count: 100)
        LargeBlocks.free(p, bytes: 100)
        LargeBlocks.returnFreedMemory()
    }
}
