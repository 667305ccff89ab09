import Foundation

/// A file (or standard output) written through a buffered `Console`.
///
/// A file is written under a temporary name beside it and renamed over `path` only by
/// `close()`, as git writes through lock files: an export that fails (an unknown stream, a
/// damaged record, a full disk) or is interrupted (`PartialFiles`) leaves an existing file
/// as it was and no partial one. A
/// symbolic link is followed (the file it names is replaced, the link stays); a device or
/// pipe (`/dev/null`, a FIFO) is written directly.
final class FileOutput {
    let console: Console
    private let descriptor: Int32
    private let path: String?
    /// Where the file is written until `close()` renames it to `path`.
    private let temporary: String?
    private var finished = false
    /// The temporary file's place in `PartialFiles`, which removes it if a signal ends the
    /// process first.
    private var partialSlot: Int?

    static var standardOutput: FileOutput { FileOutput(console: Console.out, descriptor: 1, path: nil, temporary: nil) }

    private init(console: Console, descriptor: Int32, path: String?, temporary: String?) {
        self.console = console
        self.descriptor = descriptor
        self.path = path
        self.temporary = temporary
    }

    /// Starts writing `path` (created or, once `close()` succeeds, replaced).
    convenience init(_ path: String) throws {
        var target = path
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                throw CLIError.storage("cannot write \(path): it is a directory; give a file name")
            case S_IFREG:
                if let resolved = realpath(path, nil) {  // through a symbolic link: replace what it names
                    target = String(cString: resolved)
                    free(resolved)
                }
            default:  // a device or a pipe: nothing to replace
                let fd = open(path, O_WRONLY)
                guard fd >= 0 else { throw CLIError.storage("cannot write \(path): \(String(cString: strerror(errno)))") }
                self.init(console: Console(fileDescriptor: fd, flushEachLine: false), descriptor: fd, path: path, temporary: nil)
                return
            }
        }
        let temporary = target + ".\(getpid()).partial"
        let slot = PartialFiles.register(temporary)  // before it exists: a signal never leaves it
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o640)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            PartialFiles.unregister(slot)
            throw CLIError.storage("cannot write \(path): \(reason)")
        }
        self.init(console: Console(fileDescriptor: fd, flushEachLine: false), descriptor: fd, path: target, temporary: temporary)
        partialSlot = slot
    }

    /// Flushes the output; for a file, makes it durable and puts it in place (a device or
    /// pipe is only closed), and throws if it could not be written in full (a full disk).
    /// Standard output lost is reported once, by `Runner`, for every command alike.
    func close() throws {
        console.flush()
        guard let path else { return }
        finished = true
        var failure = console.writeError
        if failure == nil, temporary != nil, fsync(descriptor) != 0 { failure = errno }
        if Foundation.close(descriptor) != 0, failure == nil { failure = errno }
        if failure == nil, let temporary, rename(temporary, path) != 0 { failure = errno }
        defer { PartialFiles.unregister(partialSlot) }
        guard let failure else { return }
        if let temporary { unlink(temporary) }
        throw CLIError.storage("cannot write \(path): \(String(cString: strerror(failure)))")
    }

    deinit {
        guard !finished, path != nil else { return }
        _ = Foundation.close(descriptor)
        // Not closed: the command failed, so nothing it wrote is kept.
        if let temporary { unlink(temporary) }
        PartialFiles.unregister(partialSlot)
    }
}

extension FileOutput {
    /// Writes `text` as the whole of `path`, replacing it only once written and on disk.
    static func write(_ text: String, to path: String) throws {
        let file = try FileOutput(path)
        file.console.write(text)
        try file.close()
    }
}
