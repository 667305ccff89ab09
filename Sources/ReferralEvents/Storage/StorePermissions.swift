import Foundation

/// The store's files and directory that other local users could read or change.
///
/// A store made by this build is owner-only (directory 0700, files 0600), but one made
/// by an earlier build, restored with `cp` under a loose umask, or opened up by hand may
/// not be. Opening such a store is not refused (git does not refuse either, and an
/// administrator may have given a service group access on purpose); `referral verify`
/// names each such file and the `chmod` that closes it (docs/data-protection.md).
public struct LooseFileMode: Sendable, Hashable, CustomStringConvertible {
    /// The file or directory.
    public var path: String
    /// Its permission bits (e.g. 0o644).
    public var mode: UInt32
    public var isDirectory: Bool

    public var description: String {
        let who = mode & 0o007 != 0 ? "every local user" : "the file's group"
        let what = isDirectory ? "directory" : "file"
        return "the store \(what) \(path) has mode \(String(mode, radix: 8)): \(who) may \(mode & 0o022 != 0 ? "change" : "read") it; run chmod \(isDirectory ? "700" : "600") '\(path)'"
    }
}

extension EventStore {
    /// The store directory and store files (`*.mdb`, their `-lock` and `-guard` files)
    /// whose mode gives the group or other users any access.
    public func looseFileModes() -> [LooseFileMode] {
        EventStore.looseFileModes(in: directory)
    }

    static func looseFileModes(in directory: String) -> [LooseFileMode] {
        var loose: [LooseFileMode] = []
        func consider(_ path: String, isDirectory: Bool) {
            var info = stat()
            // The mode of what a link names: a link's own mode is always 777, and `chmod`
            // follows it.
            guard stat(path, &info) == 0 else { return }
            let mode = UInt32(info.st_mode) & 0o777
            if mode & 0o077 != 0 { loose.append(LooseFileMode(path: path, mode: mode, isDirectory: isDirectory)) }
        }
        consider(directory, isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasSuffix(".mdb") || name.hasSuffix(".mdb-lock") || name.hasSuffix(".mdb-guard") {
            consider(directory + "/" + name, isDirectory: false)
        }
        return loose
    }
}
