import ArgumentParser
import Foundation
import ReferralEvents

extension ReferralCommand {
    /// `referral config`: saves or shows the default identity.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save or show your default identity (actor and organisation) and the store in use.",
            discussion: """
                With --actor and/or --org, saves them to the configuration file \
                ($REFERRAL_CONFIG, else $XDG_CONFIG_HOME/referral/config.json, else \
                ~/.config/referral/config.json). Without, shows the identity a write would \
                use and where each part comes from.

                Example:
                  referral config --actor vib-lis-01 --org secretariat-viborg
                """
        )

        @Option(help: ArgumentHelp("Save this actor (a liaison id or user name).", valueName: "name"))
        var actor: String?

        @Option(name: .customLong("org"), help: ArgumentHelp("Save this organisation id.", valueName: "org"))
        var organisation: String?

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let env = ProcessInfo.processInfo.environment
            let path = CLIConfig.path(environment: env)
            var config = try CLIConfig.load(from: path)
            if actor != nil || organisation != nil {
                for (name, value) in [("actor", actor), ("organisation", organisation)] {
                    if let value, value.trimmingCharacters(in: .whitespaces).isEmpty {
                        throw CLIError.usage("the \(name) is empty; give a name")
                    }
                }
                if let actor { config.actor = actor }
                if let organisation { config.organisation = organisation }
                try config.save(to: path)
                Console.out.line("saved to \(path): actor \(config.actor ?? "(none)"), organisation \(config.organisation ?? "(none)")")
                return
            }
            func source(_ variable: String, _ configured: String?) -> String {
                if let v = env[variable], !v.isEmpty { return "\(v)  (from $\(variable))" }
                if let configured { return "\(configured)  (from \(path))" }
                return "(not set)"
            }
            let dir = storeOptions.directory
            Console.out.line("actor:         " + source("REFERRAL_ACTOR", config.actor))
            Console.out.line("organisation:  " + source("REFERRAL_ORG", config.organisation))
            Console.out.line("config file:   \(path)\(FileManager.default.fileExists(atPath: path) ? "" : " (does not exist)")")
            Console.out.line("store:         \(dir)\(StoreLocation.exists(dir) ? "" : " (no store there; create it with `referral init`)")")
        }
    }
}
