import CLMDB
import Foundation
import Testing
@testable import ReferralEvents

/// How LMDB's result codes reach users: damage as `.corrupt` (exit 70), the rest as
/// `.storage` (exit 74), each with what to do.
@Suite struct StorageErrorTests {
    @Test func damageIsCorruptAndFailuresAreStorage() {
        for rc in [MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID] {
            #expect(lmdbError(rc, "opening").code == .corrupt, "\(rc)")
        }
        for rc in [EIO, ENOSPC, EACCES, EROFS, EFBIG, MDB_READERS_FULL] {
            #expect(lmdbError(rc, "committing").code == .storage, "\(rc)")
        }
        #expect(lmdbError(ENOSPC, "committing").resultCode == ENOSPC)
    }

    /// Reading a store still writes its lock file: a copy without write permission or on
    /// read-only media says how to read it anyway.
    @Test func aStoreThatCannotBeWrittenSaysHowToReadIt() {
        let denied = lmdbError(EACCES, "opening the store file /media/backup/log.mdb").message
        #expect(denied.contains("check the store's file permissions"), "\(denied)")
        #expect(denied.contains("copy its directory somewhere you can write"), "\(denied)")
        let readOnly = lmdbError(EROFS, "opening the store file /media/backup/log.mdb").message
        #expect(readOnly.contains("on a read-only file system") && readOnly.contains("--store"), "\(readOnly)")
        #expect(lmdbError(EFBIG, "committing").message.contains("a file size limit (ulimit -f) was reached"))
    }
}
