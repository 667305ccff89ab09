#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for the fold's big tables (the packed case state, the case index): blocks of
/// 2 MiB or more are mapped straight from the system, aligned to 2 MiB and, on Linux,
/// backed by transparent huge pages where the system allows them
/// (`madvise(MADV_HUGEPAGE)`; this machine's setting is "madvise"); smaller ones come
/// from `malloc`.
///
/// A 10M-event fold looks up a case and appends to its records at random places in about
/// 200 MB: with 4 KiB pages nearly every such access also misses the TLB and walks the
/// page tables; with 2 MiB pages the whole state fits the TLB.
///
/// Mapping the blocks (instead of `posix_memalign`) gives them back to the system the
/// moment they are freed. From glibc's heap they were not: freeing a block this large
/// raises glibc's threshold for mapping allocations, so the next fold's blocks came from
/// the heap, where a grown table's old copy stays resident beside the new one. A second
/// rebuild in one process then peaked about 50 MiB higher than the first.
///
/// `free` must be given the size `allocate` was given.
enum LargeBlocks {
    static let alignment = 2 << 20

    /// `bytes` of uninitialised memory, 2 MiB-aligned from 2 MiB up (it traps only when
    /// memory is exhausted, as `allocate` does).
    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard bytes >= alignment else {
            var p: UnsafeMutableRawPointer?
            guard posix_memalign(&p, 64, max(bytes, 1)) == 0, let p else {
                fatalError("out of memory allocating \(bytes) bytes for the projections' fold")
            }
            return p
        }
        let length = mappedLength(bytes)
        // Map one alignment more than needed, then unmap what lies outside the aligned part.
        guard let raw = mmap(nil, length + alignment, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else {
            fatalError("out of memory mapping \(bytes) bytes for the projections' fold")
        }
        let address = UInt(bitPattern: raw)
        let aligned = (address + UInt(alignment - 1)) & ~UInt(alignment - 1)
        let head = Int(aligned - address)
        if head > 0 { munmap(raw, head) }
        munmap(raw + head + length, alignment - head)
        let p = raw + head
        #if os(Linux)
        // Advice only: without huge pages the memory works the same.
        _ = madvise(p, length, MADV_HUGEPAGE)
        #endif
        return p
    }

    /// Frees a block `allocate(bytes)` returned.
    static func free(_ p: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= alignment else {
            #if canImport(Glibc)
            Glibc.free(p)
            #else
            Darwin.free(p)
            #endif
            return
        }
        munmap(p, mappedLength(bytes))
    }

    /// `bytes` rounded up to whole pages of the system (so the tail unmapped after a block
    /// starts on a page boundary on 16 and 64 KiB page systems too).
    private static func mappedLength(_ bytes: Int) -> Int { (bytes + pageSize - 1) / pageSize * pageSize }

    private static let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// Gives the heap's free memory back to the system (glibc's `malloc_trim`, looked up at
    /// run time; elsewhere nothing). A rebuild calls it when its state is freed: glibc
    /// keeps the freed rows, sorted orders and counters of a large rebuild in its heap
    /// otherwise.
    static func returnFreedMemory() {
        #if os(Linux)
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
    }
}
