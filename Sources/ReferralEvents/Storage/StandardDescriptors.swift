import Foundation

/// Keeps the standard descriptors 0, 1 and 2 from being handed to a store's files.
///
/// A process started with standard output or error closed (`referral caseload >&- 2>&-`,
/// some service managers) has those numbers free, and `open` returns the lowest free
/// number: LMDB's lock file would become descriptor 1 and `log.mdb` descriptor 2, so the
/// first progress line or error message, written to "standard error", would land on the
/// log's meta page and destroy the store. As git does at start-up (`sanitize_stdfds`), each
/// closed one of the three is opened on `/dev/null` before any store file is opened.
public enum StandardDescriptors {
    /// Opens `/dev/null` on whichever of descriptors 0, 1 and 2 is closed. Cheap (three
    /// `fcntl` calls) and idempotent; called before every LMDB environment and lock file
    /// is opened, and by the command line first thing.
    public static func ensureOpen() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            // `open` takes the lowest free number: this one, as the ones below it are open.
            let opened = open("/dev/null", O_RDWR)
            // Another thread took this number meanwhile: /dev/null landed above the three and
            // is closed again. (`dup2` onto the number would close that thread's file.)
            if opened > 2 { close(opened) }
        }
    }
}
