import Foundation

/// The few file-system calls whose failures reach users, made directly, so that a failure
/// says the system's reason as `mkdir` and `cat` would ("Not a directory", "Is a
/// directory", "Permission denied"). Foundation's errors for these read "The operation
/// could not be completed. (NSCocoaErrorDomain error 512.)".
public enum FileSystem {
    /// A failed call: the errno, read as `strerror` gives it.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let code: Int32
        public init(_ code: Int32) { self.code = code }
        public var description: String { String(cString: strerror(code)) }
    }

    /// Creates `path` and any missing parent (`mkdir -p`); `permissions` for the last
    /// directory, `parentPermissions` for the parents it makes (the umask applies to both).
    /// An existing directory is fine (its mode is left alone); an existing file is "File
    /// exists", a file on the way "Not a directory".
    public static func makeDirectories(_ path: String, permissions: mode_t = 0o777, parentPermissions: mode_t = 0o777) throws(Failure) {
        try makeDirectories(path, permissions: permissions, parentPermissions: parentPermissions, isParent: false)
    }

    /// Creates a directory for store files (a store, a backup), and any missing parent,
    /// owner-only (0700, as the XDG base directory spec asks of data directories): what it
    /// will hold includes residents' keys.
    public static func makePrivateDirectories(_ path: String) throws(Failure) {
        try makeDirectories(path, permissions: 0o700, parentPermissions: 0o700)
    }

    private static func makeDirectories(_ path: String, permissions: mode_t, parentPermissions: mode_t, isParent: Bool) throws(Failure) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(isParent ? ENOTDIR : EEXIST) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, parent != "/" {
            try makeDirectories(parent, permissions: parentPermissions, parentPermissions: parentPermissions, isParent: true)
        }
        guard mkdir(path, permissions) == 0 || (errno == EEXIST && isDirectory(path)) else { throw Failure(errno) }
    }

    /// The whole of the file at `path`.
    public static func read(_ path: String) throws(Failure) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(errno) }
        defer { Glibc.close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(errno)  // EISDIR for a directory
            }
            if n == 0 { return data }
            data.append(contentsOf: chunk[..<n])
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}
