import Foundation
import ReferralEvents
import Testing

/// Shared-hours and registry commands, run through the built binary.
@Suite struct HoursAndRegistryEndToEndTests {
    let sandbox: Sandbox
    init() throws {
        sandbox = try Sandbox()
        try sandbox.seed()
    }

    func agree(_ extra: [String] = []) throws -> CLIResult {
        try sandbox.run(["agree-hours", "--employee", "LK", "--paying", "jobcenter-viborg", "--serves", "secretariat-viborg",
                         "--area", "viborg-ellekonebakken", "--hours-per-week", "18,5", "--from", "01.01.2024", "--to", "31.12.2024"] + extra)
    }

    @Test func agreeHoursGeneratesAnIdFromTheStartYear() throws {
        let r = try agree()
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("agreement 2024-0001"))
        let e = try #require(try sandbox.events().last)
        #expect(e.stream == .agreement("2024-0001"))
        #expect(e.payload == .hoursAgreementMade(HoursAgreementMade(agreementId: "2024-0001", employee: "LK", payingOrganisation: "jobcenter-viborg",
                                                                   servedOrganisations: ["secretariat-viborg"], servedAreas: ["viborg-ellekonebakken"],
                                                                   hoursPerWeek: Hours(hundredths: 1850), validFrom: Sandbox.day(2024, 1, 1),
                                                                   validTo: Sandbox.day(2024, 12, 31))))
        #expect(try agree().out.contains("agreement 2024-0002"))
    }

    @Test func aWeekOfHoursIsSpreadOverItsWeekdays() throws {
        #expect(try agree().status == 0)
        // 2024-W10 runs from Monday 4 March to Sunday 10 March 2024. 18.53 hours = 1853
        // hundredths: 370 a day and 3 left over, so the first three days get 3.71.
        let r = try sandbox.run(["log-hours", "2024-0001", "--week", "2024-W10", "--hours", "18.53", "--area", "viborg-ellekonebakken",
                                 "--for", "secretariat-viborg", "--activity", "Open office"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.lines.count == 5)
        let logged = try sandbox.events().suffix(5).map { e -> SharedHoursLogged? in
            if case .sharedHoursLogged(let p) = e.payload { return p } else { return nil }
        }
        let expected: [(Int, Int32)] = [(4, 371), (5, 371), (6, 371), (7, 370), (8, 370)]
        #expect(logged == expected.map { d, h in
            SharedHoursLogged(date: Sandbox.day(2024, 3, d), hours: Hours(hundredths: h), areaId: "viborg-ellekonebakken",
                              servedOrganisation: "secretariat-viborg", activity: "Open office")
        })
    }

    @Test func hoursForADay() throws {
        #expect(try agree().status == 0)
        let r = try sandbox.run(["log-hours", "2024-0001", "--date", "05.03.2024", "--hours", "7,5"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("05.03.2024  7.5 hours"))
        #expect(try sandbox.events().last?.payload == .sharedHoursLogged(SharedHoursLogged(date: Sandbox.day(2024, 3, 5), hours: Hours(hundredths: 750),
                                                                                         areaId: nil, servedOrganisation: nil, activity: "")))
        // Negative hours, as one might try to take hours back, are refused with the way to do it
        // (ArgumentParser would read "-2" as an option and say the value is missing).
        let negative = try sandbox.run(["log-hours", "2024-0001", "--date", "06.03.2024", "--hours", "-2"])
        #expect(negative.status == 64 && negative.err.contains("hours are never subtracted: retract the wrong entry"), "\(negative)")
        // `--on`, as every other write command names its day, is the same as --date.
        let on = try sandbox.run(["log-hours", "2024-0001", "--on", "06.03.2024", "--hours", "1"])
        #expect(on.status == 0 && on.out.hasSuffix("06.03.2024  1 hour\n"), "\(on)")
    }

    @Test func aWeekThatWouldPassTheDailyLimitWritesNothing() throws {
        #expect(try agree().status == 0)
        let before = try sandbox.head()
        let r = try sandbox.run(["log-hours", "2024-0001", "--week", "2024-W10", "--hours", "130"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("hours-out-of-range"))
        #expect(r.err.contains("nothing in the batch was written"))
        #expect(try sandbox.head() == before)
    }

    @Test func hoursAfterTheAgreementEndedAreRefused() throws {
        #expect(try agree().status == 0)
        var r = try sandbox.run(["end-agreement", "2024-0001", "--end", "30.06.2024", "--reason", "Moved team"])
        #expect(r.status == 0, "\(r)")
        #expect(try sandbox.events().last?.payload == .hoursAgreementEnded(HoursAgreementEnded(endDate: Sandbox.day(2024, 6, 30), reason: "Moved team")))
        let before = try sandbox.head()
        r = try sandbox.run(["log-hours", "2024-0001", "--date", "2024-07-01", "--hours", "2"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("agreement-ended"))
        #expect(try sandbox.head() == before)
    }

    @Test func badWeeksAndHoursAreUsageErrors() throws {
        #expect(try agree().status == 0)
        var r = try sandbox.run(["log-hours", "2024-0001", "--week", "2023-W53", "--hours", "2"])
        #expect(r.status == 64 && r.err.contains("2023 has no ISO week 53"), "\(r)")
        r = try sandbox.run(["log-hours", "2024-0001", "--date", "01.03.2024", "--hours", "lots"])
        #expect(r.status == 64 && r.err.contains("not a number of hours"), "\(r)")
        r = try sandbox.run(["log-hours", "2024-0001", "--hours", "2"])
        #expect(r.status == 64 && r.err.contains("--date DATE or --week"), "\(r)")
        r = try sandbox.run(["log-hours", "9999-0001", "--date", "01.03.2024", "--hours", "2"])
        #expect(r.status == 66 && r.err.contains("no hours agreement '9999-0001'"), "\(r)")
    }

    @Test func aFreshStoreCanBePopulatedByHand() throws {
        let s = try Sandbox()
        #expect(try s.run(["init"]).status == 0)
        let commands: [[String]] = [
            ["registry", "add-organisation", "jobcenter-viborg", "--name", "Jobcenter Viborg", "--kind", "municipality", "--sector", "jobcenter", "--municipality", "Viborg"],
            ["registry", "add-organisation", "viborg-kommune", "--name", "Viborg Kommune", "--kind", "municipality", "--sector", "other", "--municipality", "Viborg"],
            ["registry", "add-organisation", "boligselskabet-viborg", "--name", "Boligselskabet Viborg", "--kind", "housing-organisation", "--sector", "housing-social", "--municipality", "Viborg"],
            ["registry", "add-area", "viborg-ellekonebakken", "--name", "Ellekonebakken", "--municipality", "viborg-kommune", "--housing-org", "boligselskabet-viborg",
             "--plan", "Viborg helhedsplan 2021-2025", "--plan-from", "01.01.2021", "--plan-to", "2025-12-31"],
            ["registry", "add-liaison", "vib-lis-01", "--name", "Anne Jensen", "--works-for", "jobcenter-viborg"],
            ["registry", "define-target-group", "jobparat", "--label", "Jobparat", "--from", "01.01.2020", "--to", "31.12.2026"],
        ]
        for (i, c) in commands.enumerated() {
            let r = try s.run(c)
            #expect(r.status == 0, "\(r)")
            #expect(r.out.hasPrefix("position \(i + 1)  event "))
        }
        #expect(try s.events().map(\.envelope.type.name) == ["organisation-registered", "organisation-registered", "organisation-registered",
                                                              "housing-area-registered", "liaison-registered", "target-group-defined"])
        #expect(try s.events()[3].payload == .housingAreaRegistered(HousingAreaRegistered(
            areaId: "viborg-ellekonebakken", name: "Ellekonebakken", municipality: "viborg-kommune", housingOrganisations: ["boligselskabet-viborg"],
            plan: "Viborg helhedsplan 2021-2025", planFrom: Sandbox.day(2021, 1, 1), planTo: Sandbox.day(2025, 12, 31))))
        // and a case can be opened in it
        s.openCaseForHandMadeStore()
    }

    @Test func registeringTwiceIsRefused() throws {
        let before = try sandbox.head()
        let r = try sandbox.run(["registry", "add-organisation", "jobcenter-viborg", "--name", "Again", "--kind", "municipality", "--sector", "jobcenter", "--municipality", "Viborg"])
        #expect(r.status == 67, "\(r)")
        #expect(r.err.contains("already-registered"))
        #expect(try sandbox.head() == before)
    }

    @Test func registryListInEveryFormat() throws {
        var r = try sandbox.run(["registry", "list", "liaisons"])
        #expect(r.status == 0, "\(r)")
        // Widths worked out by hand: Id 10, Name 11, columns two spaces apart.
        #expect(r.out == "Id          Name         Organisation\n"
            + "vib-lis-01  Anne Jensen  secretariat-viborg\n"
            + "vib-lis-02  Bo Hansen    jobcenter-viborg\n")
        r = try sandbox.run(["registry", "list", "target-groups", "--json"])
        #expect(r.out == "[\n{\"code\":\"jobparat\",\"label\":\"Jobparat\",\"from\":\"2020-01-01\",\"to\":null}\n]\n", "\(r)")
        r = try sandbox.run(["registry", "list", "areas", "--csv"])
        #expect(r.out == "id,name,municipality,housingOrganisations,plan,planFrom,planTo\r\nviborg-ellekonebakken,Ellekonebakken,viborg-kommune,boligselskabet-viborg,Viborg helhedsplan 2021-2025,2021-01-01,2025-12-31\r\n", "\(r)")
        r = try sandbox.run(["registry", "list", "areas", "--excel-csv"])
        #expect(r.out == "\u{FEFF}Id;Name;Municipality;Housing organisations;Plan;From;To\r\nviborg-ellekonebakken;Ellekonebakken;viborg-kommune;boligselskabet-viborg;Viborg helhedsplan 2021-2025;01.01.2021;31.12.2025\r\n", "\(r)")
    }
}

extension Sandbox {
    func openCaseForHandMadeStore() {
        let r = try? run(["open", "C1", "--resident", "0123456789abcdef0123456789abcdef", "--area", "viborg-ellekonebakken", "--liaison", "vib-lis-01",
                          "--target-group", "jobparat", "--age-band", "25-29", "--owner", "jobcenter-viborg", "--on", "01.02.2024"])
        #expect(r?.status == 0, "\(String(describing: r))")
    }
}
