import Foundation
import ReferralEvents
import Testing

/// `init`, `config`, the store location and the identity, run through the built binary.
@Suite struct SetupEndToEndTests {
    let sandbox: Sandbox
    init() throws { sandbox = try Sandbox() }

    @Test func aMistypedCommandIsNamedWithTheNearestOnes() throws {
        try sandbox.seed()
        let before = try sandbox.head()
        // After the subcommand, --store used to be blamed: "Unknown option '--store'".
        let typo = try sandbox.run(["verfy"])
        #expect(typo.status == 64, "\(typo)")
        #expect(typo.err.contains("'verfy' is not a referral command. See 'referral --help'."), "\(typo)")
        #expect(typo.err.contains("The most similar command is\n\tverify"), "\(typo)")
        // Before it, as a global option, too.
        let leading = try sandbox.run(["--store", sandbox.store, "histroy", "C1"], store: false)
        #expect(leading.status == 64, "\(leading)")
        #expect(leading.err.contains("'histroy' is not a referral command"), "\(leading)")
        #expect(leading.err.contains("\thistory"), "\(leading)")
        // Editing the log is not a command: the answer points to retract.
        let delete = try sandbox.run(["delete", "C1"])
        #expect(delete.status == 64, "\(delete)")
        #expect(delete.err.contains("\tretract"), "\(delete)")
        #expect(delete.err.contains("referral retract --help"), "\(delete)")
        // A word like no command: no suggestion, still the pointer to --help.
        let other = try sandbox.run(["zzzz"])
        #expect(other.status == 64, "\(other)")
        #expect(other.err.contains("'zzzz' is not a referral command. See 'referral --help'."), "\(other)")
        #expect(!other.err.contains("similar"), "\(other)")
        #expect(try sandbox.head() == before)
        // Real commands, `help` and options are not caught.
        #expect(try sandbox.run(["help", "verify"], store: false).status == 0)
        #expect(try sandbox.run(["verify"]).status == 0)
    }

    @Test func initCreatesTheLogAndTheKeyStore() throws {
        let r = try sandbox.run(["init"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("created a store at \(sandbox.store)"))
        #expect(FileManager.default.fileExists(atPath: sandbox.store + "/log.mdb"))
        #expect(FileManager.default.fileExists(atPath: sandbox.store + "/keys.mdb"))
        #expect(try sandbox.head().position == 0)
    }

    @Test func initOverAnExistingStoreChangesNothing() throws {
        try sandbox.seed()
        let before = try sandbox.head()
        let keys = try Data(contentsOf: URL(fileURLWithPath: sandbox.store + "/keys.mdb"))
        let r = try sandbox.run(["init"])
        #expect(r.status == 73, "\(r)")
        #expect(r.err.contains("a store already exists at \(sandbox.store)"))
        #expect(r.err.contains("nothing was changed"))
        #expect(try sandbox.head() == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.store + "/keys.mdb")) == keys)
    }

    @Test func initRefusesANonEmptyDirectoryThatIsNoStore() throws {
        try FileManager.default.createDirectory(atPath: sandbox.store, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: sandbox.store + "/notes.txt", contents: Data("x".utf8))
        let r = try sandbox.run(["init"])
        #expect(r.status == 73, "\(r)")
        #expect(r.err.contains("is not empty"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.store + "/log.mdb"))
    }

    /// A store, backup or config file that cannot be made says the system's reason, as
    /// mkdir does, not Foundation's "The operation could not be completed".
    @Test func directoriesThatCannotBeMadeSayWhy() throws {
        let file = sandbox.root + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        var r = try sandbox.run(["init", "--store", file + "/store"], store: false)
        #expect(r.status == 74, "\(r)")
        #expect(r.err == "referral: cannot create the store directory \(file)/store: Not a directory\n", "\(r)")
        r = try sandbox.run(["config", "--actor", "anne", "--org", "secretariat-viborg"], environment: ["REFERRAL_CONFIG": file + "/config.json"])
        #expect(r.status == 74 && r.err.contains("cannot create \(file): File exists"), "\(r)")
        // A configuration file that is a directory cannot be read.
        r = try sandbox.run(["config"], environment: ["REFERRAL_CONFIG": sandbox.root])
        #expect(r.status == 74 && r.err.contains("cannot read the configuration file \(sandbox.root): Is a directory"), "\(r)")
        try sandbox.seed()
        r = try sandbox.run(["backup", file + "/copy"])
        #expect(r.status == 74 && r.err.contains("cannot create \(file)/copy: Not a directory"), "\(r)")
        // Parents are made as `mkdir -p` makes them; the store itself is private to its group.
        r = try sandbox.run(["init", "--store", sandbox.root + "/a/b/store"], store: false)
        #expect(r.status == 0, "\(r)")
        let mode = try FileManager.default.attributesOfItem(atPath: sandbox.root + "/a/b/store")[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o027 } == 0, "\(String(describing: mode))")
    }

    @Test func initSavesTheIdentityGiven() throws {
        let r = try sandbox.run(["init", "--actor", "anne", "--org", "secretariat-viborg"], identity: false)
        #expect(r.status == 0, "\(r)")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sandbox.config))) as? [String: String]
        #expect(saved == ["actor": "anne", "organisation": "secretariat-viborg"])
    }

    @Test(arguments: [["log"], ["verify"], ["head"], ["registry", "list", "organisations"],
                      ["refer", "C1", "--to", "jobcenter-viborg", "--kind", "mentor", "--reason", "x"]])
    func everyCommandSaysWhenThereIsNoStore(_ args: [String]) throws {
        let r = try sandbox.run(args)
        #expect(r.status == 66, "\(r)")
        #expect(r.err.contains("no store at \(sandbox.store)"))
        #expect(r.err.contains("referral init"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.store))
    }

    @Test func theStoreComesFromTheEnvironmentWhenNoFlagIsGiven() throws {
        let elsewhere = sandbox.root + "/from-env"
        let r = try sandbox.run(["init"], store: false, environment: ["REFERRAL_STORE": elsewhere])
        #expect(r.status == 0, "\(r)")
        #expect(FileManager.default.fileExists(atPath: elsewhere + "/log.mdb"))
    }

    @Test func theDefaultStoreIsUnderTheDataHome() throws {
        let r = try sandbox.run(["init"], store: false)
        #expect(r.status == 0, "\(r)")
        #expect(FileManager.default.fileExists(atPath: sandbox.root + "/home/.local/share/referral/store/log.mdb"))
    }

    @Test func aWriteWithoutIdentityIsRefusedAndWritesNothing() throws {
        try sandbox.seed()
        try sandbox.openCase()
        let before = try sandbox.head()
        let r = try sandbox.run(["close", "C1", "--reason", "done"], identity: false)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("no identity"))
        #expect(r.err.contains("--actor"))
        #expect(r.err.contains("--org"))
        #expect(try sandbox.head() == before)
    }

    @Test func aWriteWithOnlyAnActorNamesTheMissingOrganisation() throws {
        try sandbox.seed()
        let r = try sandbox.run(["registry", "define-target-group", "aktivitetsparat", "--label", "Aktivitetsparat", "--from", "2020-01-01", "--actor", "anne"],
                                identity: false)
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("your organisation (--org)"))
        #expect(!r.err.contains("who you are"))
        #expect(try sandbox.head().position == UInt64(Sandbox.registry.count))
    }

    @Test func theIdentityComesFromFlagsThenEnvironmentThenConfigFile() throws {
        try sandbox.seed()
        // Config file only.
        #expect(try sandbox.run(["config", "--actor", "from-config", "--org", "org-config"], identity: false).status == 0)
        try sandbox.run(["registry", "define-target-group", "g1", "--label", "G1", "--from", "2020-01-01"], identity: false)
        // Environment over the config file.
        try sandbox.run(["registry", "define-target-group", "g2", "--label", "G2", "--from", "2020-01-01"], identity: false,
                        environment: ["REFERRAL_ACTOR": "from-env", "REFERRAL_ORG": "org-env"])
        // Flags over both.
        try sandbox.run(["registry", "define-target-group", "g3", "--label", "G3", "--from", "2020-01-01", "--actor", "from-flag", "--org", "org-flag"],
                        identity: false, environment: ["REFERRAL_ACTOR": "from-env", "REFERRAL_ORG": "org-env"])
        let written = try sandbox.events().suffix(3).map { [$0.envelope.actor, $0.envelope.organisation] }
        #expect(written == [["from-config", "org-config"], ["from-env", "org-env"], ["from-flag", "org-flag"]])
    }

    @Test func configWithoutFlagsShowsWhereTheIdentityComesFrom() throws {
        #expect(try sandbox.run(["config", "--actor", "anne", "--org", "secretariat-viborg"], identity: false).status == 0)
        let r = try sandbox.run(["config"], identity: false, environment: ["REFERRAL_ORG": "jobcenter-viborg"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("actor:         anne  (from \(sandbox.config))"))
        #expect(r.out.contains("organisation:  jobcenter-viborg  (from $REFERRAL_ORG)"))
        #expect(r.out.contains("no store there"))
    }

    @Test func aBrokenConfigFileIsReportedAsInvalidData() throws {
        try sandbox.seed()
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: sandbox.config))
        let r = try sandbox.run(["registry", "define-target-group", "g1", "--label", "G1", "--from", "2020-01-01"], identity: false)
        #expect(r.status == 65, "\(r)")
        #expect(r.err.contains(sandbox.config))
        #expect(try sandbox.head().position == UInt64(Sandbox.registry.count))
    }

    @Test func storeActorAndOrgMayComeBeforeTheSubcommand() throws {
        var r = try sandbox.run(["--store", sandbox.store, "init"], store: false)
        #expect(r.status == 0, "\(r)")
        #expect(FileManager.default.fileExists(atPath: sandbox.store + "/log.mdb"))
        r = try sandbox.run(["--store=\(sandbox.store)", "--actor", "lead", "--org=lead-org", "registry", "define-target-group", "g1",
                             "--label", "G1", "--from", "2020-01-01"], store: false, identity: false)
        #expect(r.status == 0, "\(r)")
        #expect(try sandbox.events().last.map { [$0.envelope.actor, $0.envelope.organisation] } == ["lead", "lead-org"])
        // The option after the subcommand wins over the one before it.
        r = try sandbox.run(["--store", sandbox.root + "/elsewhere", "log", "--store", sandbox.store, "--json"], store: false)
        #expect(r.status == 0, "\(r)")
    }
}
