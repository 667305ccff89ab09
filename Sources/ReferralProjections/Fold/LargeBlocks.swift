#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for the fold's big tables (the packed case state, the case index), in blocks
/// aligned to 2 MiB and, on Linux, backed by transparent huge pages where the system allows
/// them (`madvise(MADV_HUGEPAGE)`; this machine's setting is "madvise").
///
/// A 10M-event fold looks up a case and appends to its records at random places in about
/// 200 MB: with 4 KiB pages nearly every such access also misses the TLB and walks the
/// page tables; with 2 MiB pages the whole state fits the TLB. Freed with `free`.
enum LargeBlocks {
    static let alignment = 2 << 20

    /// `bytes` of uninitialised memory, 2 MiB-aligned from 2 MiB up (it traps only when
    /// memory is exhausted, as `allocate` does).
    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, bytes >= alignment ? alignment : 64, max(bytes, 1)) == 0, let p else {
            fatalError("out of memory allocating \(bytes) bytes for the projections' fold")
        }
        #if os(Linux)
        if bytes >= alignment {
            // Advice only: without huge pages the memory works the same.
            _ = madvise(p, bytes, MADV_HUGEPAGE)
        }
        #endif
        return p
    }

    static func free(_ p: UnsafeMutableRawPointer) {
        #if canImport(Glibc)
        Glibc.free(p)
        #else
        Darwin.free(p)
        #endif
    }
}
