import ArgumentParser
import Foundation
import ReferralEvents

/// Who records an event and on whose behalf: every write carries both.
struct Identity: Sendable, Hashable {
    var actor: String
    var organisation: OrganisationID
}

/// The user's configuration file: the identity to use when no flag or environment
/// variable gives one.
///
/// It lives at `$REFERRAL_CONFIG`, else `$XDG_CONFIG_HOME/referral/config.json`, else
/// `~/.config/referral/config.json`: per person, not per store, because several people
/// write to one store.
struct CLIConfig: Sendable, Hashable, Codable {
    var actor: String?
    var organisation: String?

    static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["REFERRAL_CONFIG"], !explicit.isEmpty { return StoreLocation.expand(explicit, environment) }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? StoreLocation.home(environment) + "/.config"
        return base + "/referral/config.json"
    }

    /// The configuration at `path`; empty when there is no file.
    static func load(from path: String) throws -> CLIConfig {
        guard FileManager.default.fileExists(atPath: path) else { return CLIConfig() }
        do {
            return try JSONDecoder().decode(CLIConfig.self, from: FileSystem.read(path))
        } catch let e as DecodingError {
            throw CLIError.invalidData("the configuration file \(path) is not valid JSON with \"actor\" and \"organisation\" strings (\(Self.describe(e))); fix it or write it again with `referral config --actor NAME --org ORG`")
        } catch {
            throw CLIError.storage("cannot read the configuration file \(path): \(error)")
        }
    }

    func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do { try FileSystem.makeDirectories(directory) } catch {
                throw CLIError.storage("cannot write the configuration file \(path): cannot create \(directory): \(error)")
            }
        }
        let json = try encoder.encode(self)
        // Written whole, and through a symbolic link (a dotfiles checkout) rather than over it.
        try FileOutput.write(String(decoding: json, as: UTF8.self) + "\n", to: path)
    }

    private static func describe(_ e: DecodingError) -> String {
        switch e {
        case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
            c.debugDescription
        @unknown default:
            "\(e)"
        }
    }
}

/// `--actor` and `--org`, shared by every command that writes.
struct IdentityOptions: ParsableArguments {
    static let helpText = """
        Every write records who made it and for which organisation: --actor and --org, \
        else $REFERRAL_ACTOR and $REFERRAL_ORG, else the configuration file \
        ($REFERRAL_CONFIG, else $XDG_CONFIG_HOME/referral/config.json, else \
        ~/.config/referral/config.json) written by \
        `referral config --actor NAME --org ORG` or `referral init --actor NAME --org ORG`. \
        A write without an identity is refused.
        """

    @Option(help: ArgumentHelp("Who records it: a liaison id or user name (default: $REFERRAL_ACTOR or the config file).", valueName: "name"))
    var actor: String?

    @Option(name: .customLong("org"),
            help: ArgumentHelp("On whose behalf: an organisation id (default: $REFERRAL_ORG or the config file).", valueName: "org"))
    var organisation: String?

    /// The identity from the flags, the environment or the configuration file.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Identity {
        func pick(_ flag: String?, _ variable: String) -> String? {
            [flag, environment[variable]].lazy.compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        }
        var actor = pick(self.actor, "REFERRAL_ACTOR")
        var org = pick(organisation, "REFERRAL_ORG")
        // The file is read only when needed, so a broken one does not block explicit flags.
        if actor == nil || org == nil {
            let config = try CLIConfig.load(from: CLIConfig.path(environment: environment))
            actor = actor ?? config.actor.flatMap { $0.isEmpty ? nil : $0 }
            org = org ?? config.organisation.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let actor, let org else {
            let missing = [actor == nil ? "who you are (--actor)" : nil, org == nil ? "your organisation (--org)" : nil].compactMap { $0 }
            throw CLIError.usage("no identity: every write records who made it and for which organisation, and this one lacks \(missing.joined(separator: " and ")). Pass --actor NAME --org ORG, set REFERRAL_ACTOR and REFERRAL_ORG, or save them once with `referral config --actor NAME --org ORG`; nothing was written")
        }
        return Identity(actor: actor, organisation: org)
    }
}
