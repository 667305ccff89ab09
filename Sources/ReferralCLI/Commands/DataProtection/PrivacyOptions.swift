import ArgumentParser
import Foundation
import ReferralEvents

/// How a data-protection command names a resident: their pseudonym, or `--cpr` (turned
/// into the pseudonym with the store's secret and never printed or logged).
struct ResidentOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The resident's pseudonym (32 hex digits); or give --cpr.", valueName: "resident"), transform: Parse.pseudonym)
    var resident: Pseudonym?

    @Option(help: ArgumentHelp("The resident's CPR number, DDMMYY-SSSS, or - to read it from standard input (so it stays out of the shell history).", valueName: "cpr"))
    var cpr: String?

    func validate() throws { try Self.check(resident: resident, cpr: cpr) }

    /// Exactly one of the pseudonym and `--cpr`, and a CPR number that is one (never echoed).
    static func check(resident: Pseudonym?, cpr: String?) throws {
        switch (resident, cpr) {
        case (nil, nil): throw ValidationError("name the resident by pseudonym or with --cpr DDMMYY-SSSS")
        case (.some, .some): throw ValidationError("give the pseudonym or --cpr, not both")
        default: break
        }
        if let cpr, cpr != "-", PersonalDetails.normaliseCPR(cpr) == nil {
            throw ValidationError("--cpr is not a CPR number: use DDMMYY-SSSS with a real birth date")
        }
    }

    /// The pseudonym, made from the CPR number if that is how the resident was named.
    func resolve(_ keys: KeyStore) throws -> Pseudonym { try Self.resolve(resident: resident, cpr: cpr, keys) }

    static func resolve(resident: Pseudonym?, cpr: String?, _ keys: KeyStore) throws -> Pseudonym {
        if let resident { return resident }
        return try keys.pseudonym(forCPR: try PrivacyCLI.readCPR(cpr))
    }
}

/// `--reason`: why the reader needs to see personal data; kept in the access log.
struct ReasonOption: ParsableArguments {
    @Option(help: ArgumentHelp("Why you need to see it; recorded in the access log (no CPR numbers).", valueName: "text"))
    var reason: String
}

/// Shared plumbing of the data-protection commands.
enum PrivacyCLI {
    /// The store's data-protection side: log, key store and access log.
    static func open(_ storeOptions: StoreOptions) throws -> DataProtection {
        let store = try storeOptions.open()
        let keys = try storeOptions.openKeys()
        return DataProtection(store: store, keys: keys, accessLog: try AccessLog(directory: store.directory))
    }

    /// The reader an identity stands for.
    static func reader(_ identity: IdentityOptions) throws -> ReaderIdentity {
        let i = try identity.resolve()
        return ReaderIdentity(actor: i.actor, organisation: i.organisation)
    }

    /// `--cpr` as given, or read from standard input for `-`.
    static func readCPR(_ cpr: String?) throws -> String {
        guard let cpr else { throw CLIError.usage("give --cpr") }
        guard cpr == "-" else { return cpr }
        guard let line = readLine(strippingNewline: true), PersonalDetails.normaliseCPR(line) != nil else {
            throw CLIError.usage("standard input does not hold a CPR number: write DDMMYY-SSSS with a real birth date")
        }
        return line
    }

    /// `DDMMYY-SSSS`, as people read CPR numbers.
    static func showCPR(_ digits: String) -> String {
        digits.count == 10 ? String(digits.prefix(6)) + "-" + String(digits.suffix(4)) : digits
    }
}
