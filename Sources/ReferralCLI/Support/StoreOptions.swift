import ArgumentParser
import Foundation
import ReferralEvents
import Synchronization

/// Where the store is: `--store DIR`, else `REFERRAL_STORE`, else the default under the
/// user's data directory (`$XDG_DATA_HOME/referral/store`, or
/// `~/.local/share/referral/store`).
enum StoreLocation {
    static let helpText = """
        The store is the directory given by --store, else $REFERRAL_STORE, else \
        $XDG_DATA_HOME/referral/store (~/.local/share/referral/store when XDG_DATA_HOME \
        is unset). Create it with `referral init`.
        """

    /// The store directory for an explicit `--store` value (or nil) and an environment.
    static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return expand(explicit, environment) }
        if let env = environment["REFERRAL_STORE"], !env.isEmpty { return expand(env, environment) }
        return dataHome(environment) + "/referral/store"
    }

    static func dataHome(_ environment: [String: String]) -> String {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg }
        return home(environment) + "/.local/share"
    }

    static func home(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    /// `~/x` → `$HOME/x` (for values that reach us unexpanded, e.g. from the environment).
    static func expand(_ path: String, _ environment: [String: String]) -> String {
        if path == "~" { return home(environment) }
        if path.hasPrefix("~/") { return home(environment) + path.dropFirst(1) }
        return path
    }

    /// Whether `directory` holds a store (its log file).
    static func exists(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: EventStore.logPath(in: directory))
    }

    /// Why the file `path` in a store cannot even be looked at, as a storage failure (exit
    /// 74), when the reason is permission (a store directory with mode 000, or one of
    /// another user); nil when it can be looked at or simply is not there.
    /// `FileManager.fileExists` says false in both cases, which would report a store the
    /// user may not read as "no store" (66).
    static func permissionProblem(_ path: String) -> CLIError? {
        var info = stat()
        guard stat(path, &info) != 0 else { return nil }
        let code = errno
        guard code == EACCES || code == EPERM else { return nil }
        let directory = (path as NSString).deletingLastPathComponent
        return .storage("cannot look into the store directory \(directory): \(String(cString: strerror(code))) (code \(code)); check the directory's permissions (you need to be able to open it), or give another store with --store")
    }

    /// `--store ""` or `REFERRAL_STORE=""`: a usage error rather than quietly the default
    /// store, which `init` would then create where nobody meant it.
    static func validate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let explicit, explicit.isEmpty {
            throw ValidationError("--store needs a directory, not an empty string; leave --store out to use $REFERRAL_STORE or the default store")
        }
        if explicit == nil, let env = environment["REFERRAL_STORE"], env.isEmpty {
            throw ValidationError("REFERRAL_STORE (or --store before the subcommand) is set to an empty string; set it to the store directory, or unset it to use the default store")
        }
    }
}

/// `--store DIR`, shared by every command that reads or writes a store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long,
            help: ArgumentHelp("The store directory (default: $REFERRAL_STORE, else $XDG_DATA_HOME/referral/store or ~/.local/share/referral/store).", valueName: "dir"),
            completion: .directory)
    var store: String?

    func validate() throws {
        try StoreLocation.validate(explicit: store)
    }

    /// The resolved store directory.
    var directory: String { StoreLocation.resolve(explicit: store) }

    /// Opens the existing store, or says there is none and how to make one (exit 66), or
    /// that it may not be read (exit 74).
    func open(durable: Bool = true, lowMemoryReplay: Bool = false) throws -> EventStore {
        let dir = directory
        guard StoreLocation.exists(dir) else {
            throw StoreLocation.permissionProblem(EventStore.logPath(in: dir)) ?? Self.noStore(dir)
        }
        let store = try EventStore(at: dir, durable: durable, lowMemoryReplay: lowMemoryReplay)
        if let old = store.movedFromLayout {
            // Any command moves it, a read too: whoever runs older builds must hear of it.
            Console.err.line("note: moved the store at \(dir) from layout \(old) to layout \(EventStore.layoutFormat); builds of layout \(old) can no longer open it (docs/lmdb-layout.md)")
        }
        OpenedStores.note(directory: dir, position: try store.head().position)
        return store
    }

    /// Opens the store's key store (the secret that makes pseudonyms, and residents' keys).
    func openKeys() throws -> KeyStore {
        let dir = directory
        guard FileManager.default.fileExists(atPath: KeyStore.path(in: dir)) else {
            if let denied = StoreLocation.permissionProblem(KeyStore.path(in: dir)) { throw denied }
            throw CLIError.notFound("the store at \(dir) has no key store (keys.mdb); restore it from the backup the log came from, or create a new store with `referral init`")
        }
        return try KeyStore(directory: dir)
    }

    static func noStore(_ dir: String) -> CLIError {
        .notFound("no store at \(dir); create one with `referral init` (add --store DIR or set REFERRAL_STORE to use another place)")
    }
}

/// The stores this run opened and where their logs ended then, so that a run whose output
/// was lost (a full disk) can still say what it recorded: a write command that cannot print
/// its result has nonetheless appended, and must not simply be run again.
enum OpenedStores {
    private static let opened = Mutex<[String: UInt64]>([:])

    /// Notes `directory`'s head position when this run first opened it.
    static func note(directory: String, position: UInt64) {
        opened.withLock { if $0[directory] == nil { $0[directory] = position } }
    }

    /// The positions appended to a store since this run first opened it; nil if none. Call
    /// after the command has finished (its store closed: LMDB allows one open per process).
    static func appendedSinceOpened() -> ClosedRange<UInt64>? {
        for (directory, before) in opened.withLock({ $0 }) {
            if let now = try? EventStore(at: directory).head().position, now > before { return (before + 1)...now }
        }
        return nil
    }
}
