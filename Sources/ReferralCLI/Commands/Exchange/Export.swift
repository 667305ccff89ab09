import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral export`: the log as CloudEvents JSON Lines.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the log, a position range or one stream as CloudEvents JSON Lines.",
            discussion: """
                One CloudEvents 1.0 JSON object per line (structured mode), keys sorted, readable \
                by any CloudEvents SDK and checkable against Schemas/ (see docs/cloudevents.md). \
                Each line carries the event's position, recorded-at and hashes as extension \
                attributes. Sealed personal data stays sealed; no CPR number is ever exported.

                Examples:
                  referral export --out all.jsonl
                  referral export --from 1001 --to 2000 > slice.jsonl
                  referral export --case 2024-0001
                """
        )

        @Option(help: ArgumentHelp("First position.", valueName: "position"))
        var from: UInt64?

        @Option(help: ArgumentHelp("Last position.", valueName: "position"))
        var to: UInt64?

        @Option(help: ArgumentHelp("Only this stream, e.g. registry or case-2024-0001.", valueName: "stream"))
        var stream: String?

        @Option(name: .customLong("case"), help: ArgumentHelp("Only this case (the same as --stream case-CASE).", valueName: "case"), transform: Parse.caseID)
        var caseID: String?

        @Option(help: ArgumentHelp("The CloudEvents source to write (default: urn:referral:org:<organisation> per event).", valueName: "uri"))
        var source: String?

        @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"), completion: .file())
        var out: String?

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if stream != nil && caseID != nil { throw ValidationError("give --stream or --case, not both") }
            if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to)") }
        }

        func run() throws {
            // The log's pages are released behind the replay, so that exporting a large log
            // does not keep it all resident (as `rebuild` does).
            let store = try storeOptions.open(lowMemoryReplay: true)
            let only = try existingStream(stream: stream, caseID: caseID, in: store)
            let sink = try out.map(FileOutput.init) ?? FileOutput.standardOutput
            let lo = max(from ?? 1, 1), hi = to ?? .max
            var count = 0
            if let s = only {
                let events = try store.readStream(s)
                for e in events where (lo...hi).contains(e.position) {
                    sink.console.write(e.cloudEventJSON(source: source) + "\n")
                    count += 1
                }
            } else if lo <= hi {
                try store.replay(from: lo, through: hi) { view in
                    sink.console.write(try view.decode().cloudEventJSON(source: source) + "\n")
                    count += 1
                    return true
                }
            }
            try sink.close()
            if let out { Console.err.line("exported \(count) events to \(out)") }
        }
    }
}

/// A file (or standard output) written through a buffered `Console`.
///
/// A file is written under a temporary name beside it and renamed over `path` only by
/// `close()`, as git writes through lock files: an export that fails (an unknown stream, a
/// damaged record, a full disk) leaves an existing file as it was and no partial one. A
/// symbolic link is followed (the file it names is replaced, the link stays); a device or
/// pipe (`/dev/null`, a FIFO) is written directly.
final class FileOutput {
    let console: Console
    private let descriptor: Int32
    private let path: String?
    /// Where the file is written until `close()` renames it to `path`.
    private let temporary: String?
    private var finished = false

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
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o640)
        guard fd >= 0 else { throw CLIError.storage("cannot write \(path): \(String(cString: strerror(errno)))") }
        self.init(console: Console(fileDescriptor: fd, flushEachLine: false), descriptor: fd, path: target, temporary: temporary)
    }

    /// Flushes the output; for a file, makes it durable and puts it in place.
    func close() throws {
        console.flush()
        guard let path else { return }
        finished = true
        guard let temporary else {  // a device or a pipe
            let code = console.writeError
            _ = Foundation.close(descriptor)
            if let code { throw CLIError.storage("cannot write \(path): \(String(cString: strerror(code)))") }
            return
        }
        if let code = console.writeError {
            _ = Foundation.close(descriptor)
            unlink(temporary)
            throw CLIError.storage("cannot write \(path): \(String(cString: strerror(code)))")
        }
        if fsync(descriptor) != 0 || Foundation.close(descriptor) != 0 || rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CLIError.storage("cannot finish writing \(path): \(reason)")
        }
    }

    deinit {
        guard !finished, path != nil else { return }
        _ = Foundation.close(descriptor)
        // Not closed: the command failed, so nothing it wrote is kept.
        if let temporary { unlink(temporary) }
    }
}
