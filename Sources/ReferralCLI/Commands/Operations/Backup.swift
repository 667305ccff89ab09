import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral backup`: a compact, consistent copy while writers run.
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the store (log and keys) into a new directory while writers keep running.",
            discussion: """
                The copy is a consistent snapshot, compacted, of log.mdb, keys.mdb and the access log; it is \
                verified after it is written (skip with --no-verify). Keep it safe: keys.mdb \
                holds every resident's key.

                Restore: stop every writer; move the store directory aside; move the backup \
                directory into its place (or point --store / REFERRAL_STORE at it); run \
                `referral verify`. Events written after the backup was taken are not in it.

                Example:
                  referral backup /mnt/backup/referral-2024-06-30
                """
        )

        @Argument(help: ArgumentHelp("A new (or empty) directory for the copy.", valueName: "dest"), completion: .directory)
        var destination: String

        @Flag(name: .customLong("no-verify"), help: "Do not verify the copy.")
        var noVerify = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if destination.isEmpty { throw ValidationError("the backup directory is an empty string; give a new (or empty) directory") }
        }

        func run() throws {
            let fm = FileManager.default
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: destination, isDirectory: &isDirectory) {
                guard isDirectory.boolValue, (try? fm.contentsOfDirectory(atPath: destination))?.isEmpty == true else {
                    throw CLIError(ExitStatus.alreadyExists, "\(destination) already exists and is not an empty directory; back up into a new directory")
                }
            }
            let store = try storeOptions.open()
            if URL(fileURLWithPath: destination).standardizedFileURL == URL(fileURLWithPath: store.directory).standardizedFileURL {
                throw CLIError(ExitStatus.alreadyExists, "the backup directory is the store itself; give another directory")
            }
            try store.backup(to: destination)
            var line = "backed up \(store.directory) to \(destination) (log.mdb, keys.mdb\(FileManager.default.fileExists(atPath: AccessLog.path(in: destination)) ? ", access.mdb" : ""))"
            if !noVerify {
                let copy = try EventStore(at: destination, lowMemoryReplay: true)
                let report = try copy.verify()
                if let failure = report.failure {
                    throw CLIError(ExitStatus.corrupt, "the backup in \(destination) does not verify: \(failure.message); the store itself may be damaged, run `referral verify`")
                }
                line += ": \(report.eventsChecked) events, verified, head position \(report.head.position) hash \(report.head.hash)"
            }
            Console.out.line(line)
        }
    }
}
