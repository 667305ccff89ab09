import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral init`: creates the store and its secret.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a store: the event log and the key store with its secret.",
            discussion: """
                Creates log.mdb (the events) and keys.mdb (the secret that turns CPR numbers \
                into pseudonyms, and one key per resident) in the store directory. Refuses, \
                and changes nothing, if a store is already there. With --actor and --org it \
                also saves your identity to the configuration file for later writes.

                \(StoreLocation.helpText)

                Example:
                  referral init --store /srv/referral --actor vib-lis-01 --org secretariat-viborg
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var identity: IdentityOptions

        func run() throws {
            let dir = storeOptions.directory
            let fm = FileManager.default
            if StoreLocation.exists(dir) {
                throw CLIError(ExitStatus.alreadyExists, "a store already exists at \(dir); nothing was changed. Use it as it is, or give another directory with --store")
            }
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: dir, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw CLIError(ExitStatus.alreadyExists, "\(dir) is a file, not a directory; give a new or empty directory with --store")
                }
                let contents = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
                guard contents.isEmpty else {
                    throw CLIError(ExitStatus.alreadyExists, "\(dir) is not empty and holds no store; give a new or empty directory with --store")
                }
            }
            _ = try EventStore(at: dir, create: true)
            _ = try KeyStore(directory: dir, create: true)
            Console.out.line("created a store at \(dir) (log.mdb, keys.mdb)")
            if identity.actor != nil || identity.organisation != nil {
                let path = CLIConfig.path()
                var config = try CLIConfig.load(from: path)
                if let a = identity.actor { config.actor = a }
                if let o = identity.organisation { config.organisation = o }
                try config.save(to: path)
                Console.out.line("saved your identity to \(path): actor \(config.actor ?? "(none)"), organisation \(config.organisation ?? "(none)")")
            }
            Console.out.line("next: register organisations, areas and liaisons with `referral registry`, or load demo data with `referral demo`")
        }
    }
}
