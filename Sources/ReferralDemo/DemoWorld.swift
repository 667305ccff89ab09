import ReferralEvents

// The demo's reference data: the real places of the seed documents (Viborg, Fredericia,
// Kolding, Ishøj), their parties of every kind and sector, staff, target groups and shared
// employee agreements. Institutions the seeds name are real; employers are generic
// descriptions ("Den lokale købmand, Fredericia"), not real companies.

/// An organisation of the demo registry.
struct DemoOrg {
    let id: OrganisationID
    let name: String
    let kind: OrganisationKind
    let sector: Sector
    let municipality: String
}

/// A housing area covered by a plan.
struct DemoArea {
    let id: AreaID
    let name: String
    let place: Int
    let housing: [Int]
    /// Relative share of the demo's cases.
    let weight: Int
    /// Street address stem for synthetic residents' sealed addresses.
    let street: String
    let postcode: String
}

/// A staff member who records events.
struct DemoLiaison {
    let id: LiaisonID
    let name: String
    let org: Int
}

/// One municipality's plan and its parties (indexes into `DemoWorld.orgs`).
struct DemoPlace {
    let name: String
    let code: String
    let plan: String
    var municipality = 0, jobcenter = 0, childrenAndYouth = 0, secretariat = 0, health = 0, library = 0, police = 0
    var housing: [Int] = [], schools: [Int] = [], vocational: [Int] = [], employers: [Int] = [], leisureEmployers: [Int] = []
    var fireBrigade: Int?
    var sportsCentre = 0
    var areas: [Int] = []
    /// Liaisons by role.
    var secretariatLiaisons: [Int] = [], jobcenterLiaisons: [Int] = []
    var childrenAndYouthLiaison = 0, policeLiaison = 0, schoolLiaison = 0, healthLiaison = 0
    /// The jobcenter employee shared with the secretariat, who may open cases himself.
    var sharedJobcenterLiaison: Int?

    init(name: String, code: String, plan: String) {
        self.name = name
        self.code = code
        self.plan = plan
    }
}

/// A target group with its effective dates, as first defined.
struct DemoTargetGroup {
    let code: TargetGroupCode
    let label: String
    let from: CalendarDate
    let to: CalendarDate?
    /// Reformed: defined open-ended in 2021, retracted and redefined to end on 30.06.2025.
    let reformed: Bool
}

/// A shared-employee agreement and how its hours are logged.
struct DemoAgreement {
    let id: String
    let employee: Int
    let paying: Int
    let served: [Int]
    let areas: [Int]
    let hoursPerWeek: Int32
    let from: CalendarDate
    let to: CalendarDate
    /// Ended early (the employee left); nil when it runs its term.
    let endedEarly: CalendarDate?
    /// Registered in the registry on this day when the employee joins later.
    let activities: [String]
}

/// Everything the generator draws on, built once per demo.
struct DemoWorld {
    var orgs: [DemoOrg] = []
    var areas: [DemoArea] = []
    var places: [DemoPlace] = []
    var liaisons: [DemoLiaison] = []
    /// Liaisons registered after the start: (liaison index, day).
    var lateLiaisons: [Int: CalendarDate] = [:]
    var targetGroups: [DemoTargetGroup] = []
    var agreements: [DemoAgreement] = []
    private var orgIndex: [String: Int] = [:]

    static let planFrom = fixedDate(2021, 1, 1)
    static let planTo = fixedDate(2025, 12, 31)
    /// The reformed target groups end on this day; the new ones start the day after.
    static let reformEnd = fixedDate(2025, 6, 30)
    static let reformStart = fixedDate(2025, 7, 1)
    /// When the registry learns of the reform (retracts and redefines the old groups).
    static let reformRecorded = fixedDate(2025, 3, 3)

    @discardableResult
    private mutating func org(_ id: String, _ name: String, _ kind: OrganisationKind, _ sector: Sector, _ municipality: String) -> Int {
        if let i = orgIndex[id] { return i }
        orgs.append(DemoOrg(id: id, name: name, kind: kind, sector: sector, municipality: municipality))
        orgIndex[id] = orgs.count - 1
        return orgs.count - 1
    }

    private mutating func area(_ id: String, _ name: String, _ place: Int, _ housing: [Int], weight: Int, street: String, postcode: String) {
        areas.append(DemoArea(id: id, name: name, place: place, housing: housing, weight: weight, street: street, postcode: postcode))
        places[place].areas.append(areas.count - 1)
    }

    private mutating func liaison(_ code: String, _ role: String, _ n: Int, org: Int, names: inout StaffNames) -> Int {
        liaisons.append(DemoLiaison(id: "\(code)-\(role)-\(pad2(n))", name: names.next(), org: org))
        return liaisons.count - 1
    }

    /// The world for a demo of about `targetEvents` events: staff numbers grow with the
    /// number of cases so that caseloads stay realistic (about 40 open cases a liaison).
    init(targetEvents: Int) {
        var names = StaffNames()
        // About 15 events a case, a case open about 8 months of the 60.
        let openCases = max(1, targetEvents / 15 * 8 / 60)

        // Viborg: Boligselskabernes Fællessekretariat, plan 2021–2025, five areas of two housing companies.
        var vib = DemoPlace(name: "Viborg", code: "vib", plan: "Viborg boligsocial helhedsplan 2021-2025")
        vib.municipality = org("viborg-kommune", "Viborg Kommune", .municipality, .other, "Viborg")
        vib.jobcenter = org("jobcenter-viborg", "Jobcenter Viborg", .municipality, .jobcenter, "Viborg")
        vib.childrenAndYouth = org("boern-unge-viborg", "Børn og Unge, Viborg Kommune", .municipality, .childrenAndYouth, "Viborg")
        vib.secretariat = org("faellessekretariat-viborg", "Boligselskabernes Fællessekretariat", .secretariat, .housingSocial, "Viborg")
        vib.housing = [org("boligselskabet-viborg", "Boligselskabet Viborg", .housingOrganisation, .housingSocial, "Viborg"),
                       org("viborg-andelsboligforening", "Viborg Andelsboligforening", .housingOrganisation, .housingSocial, "Viborg")]
        vib.schools = [org("viborg-skole-vest", "Folkeskolen i Viborg Vest", .school, .school, "Viborg")]
        vib.vocational = [org("mercantec", "Mercantec", .school, .school, "Viborg")]
        vib.health = org("sundhed-viborg", "Sundhed og Forebyggelse, Viborg Kommune", .municipality, .health, "Viborg")
        vib.library = org("bibliotek-viborg", "Viborg Bibliotekerne", .municipality, .library, "Viborg")
        vib.police = org("politi-midt-vestjylland", "Midt- og Vestjyllands Politi", .municipality, .police, "Viborg")
        vib.employers = ["Den lokale købmand", "Tømrer- og snedkervirksomhed", "Rengøringsfirma", "Plejecenter", "Supermarked", "Vognmand"]
            .enumerated().map { org("vib-virksomhed-\($0.offset + 1)", "\($0.element), Viborg", .employer, .other, "Viborg") }
        vib.leisureEmployers = [vib.employers[0], org("vib-juniorhjaelpere", "Daginstitutioner i Viborg (juniorhjælpere)", .employer, .childrenAndYouth, "Viborg")]
        vib.sportsCentre = org("vib-idraetsforening", "Idrætsforening i Viborg Vest", .civilSociety, .other, "Viborg")
        places.append(vib)

        // Fredericia: Områdesekretariatet, two areas of Boligkontoret Fredericia and boli.nu, a shared jobcenter employee.
        var fre = DemoPlace(name: "Fredericia", code: "fre", plan: "Fredericia boligsociale helhedsplaner 2021-2025")
        fre.municipality = org("fredericia-kommune", "Fredericia Kommune", .municipality, .other, "Fredericia")
        fre.jobcenter = org("jobcenter-fredericia", "Jobcenter Fredericia", .municipality, .jobcenter, "Fredericia")
        fre.childrenAndYouth = org("boern-unge-fredericia", "Børn og Unge, Fredericia Kommune", .municipality, .childrenAndYouth, "Fredericia")
        fre.secretariat = org("omraadesekretariatet-fredericia", "De Boligsociale Helhedsplaner (Områdesekretariatet)", .secretariat, .housingSocial, "Fredericia")
        fre.housing = [org("boligkontoret-fredericia", "Boligkontoret Fredericia", .housingOrganisation, .housingSocial, "Fredericia"),
                       org("boli-nu", "boli.nu", .housingOrganisation, .housingSocial, "Fredericia")]
        fre.schools = [org("fredericia-skole", "Folkeskolen i Fredericia Øst", .school, .school, "Fredericia")]
        fre.vocational = [org("sosu-fredericia", "Social- og Sundhedsskolen Fredericia", .school, .school, "Fredericia"),
                          org("euc-lillebaelt", "EUC Lillebælt", .school, .school, "Fredericia")]
        fre.health = org("sundhedsprojektet-fredericia", "Sundhedsprojektet, Fredericia Kommune", .municipality, .health, "Fredericia")
        fre.library = org("biblioteksprojektet-fredericia", "Biblioteksprojektet, Fredericia Bibliotek", .municipality, .library, "Fredericia")
        fre.police = org("politi-sydoestjylland", "Sydøstjyllands Politi", .municipality, .police, "Fredericia")
        fre.employers = ["Den lokale købmand", "Malerfirma", "Kantine og catering", "Plejecenter", "Lager og logistik", "Byggemarked"]
            .enumerated().map { org("fre-virksomhed-\($0.offset + 1)", "\($0.element), Fredericia", .employer, .other, "Fredericia") }
        fre.leisureEmployers = [fre.employers[0], fre.employers[2]]
        fre.sportsCentre = org("fredericia-idraetscenter", "Fredericia Idrætscenter", .civilSociety, .other, "Fredericia")
        fre.fireBrigade = org("trekantbrand", "TrekantBrand (brandkadetter)", .municipality, .other, "Fredericia")
        places.append(fre)

        // Kolding: ByLivKolding, Lejerbo's Fjordparken.
        var kol = DemoPlace(name: "Kolding", code: "kol", plan: "ByLivKolding 2021-2025")
        kol.municipality = org("kolding-kommune", "Kolding Kommune", .municipality, .other, "Kolding")
        kol.jobcenter = org("jobcenter-kolding", "Jobcenter Kolding", .municipality, .jobcenter, "Kolding")
        kol.childrenAndYouth = org("boern-unge-kolding", "Børn og Unge, Kolding Kommune", .municipality, .childrenAndYouth, "Kolding")
        kol.secretariat = org("bylivkolding", "ByLivKolding", .secretariat, .housingSocial, "Kolding")
        kol.housing = [org("lejerbo", "Lejerbo", .housingOrganisation, .housingSocial, "Kolding")]
        kol.schools = [org("kolding-skole", "Folkeskolen ved Fjordparken", .school, .school, "Kolding")]
        kol.vocational = [org("hansenberg", "Hansenberg", .school, .school, "Kolding")]
        kol.health = org("sundhed-kolding", "Sundhed og Forebyggelse, Kolding Kommune", .municipality, .health, "Kolding")
        kol.library = org("bibliotek-kolding", "Kolding Bibliotek", .municipality, .library, "Kolding")
        kol.police = fre.police
        kol.employers = ["Den lokale købmand", "Transportvirksomhed", "Rengøringsfirma", "Plejecenter", "Produktionsvirksomhed"]
            .enumerated().map { org("kol-virksomhed-\($0.offset + 1)", "\($0.element), Kolding", .employer, .other, "Kolding") }
        kol.leisureEmployers = [kol.employers[0]]
        kol.sportsCentre = org("kolding-idraetsforening", "Idrætsforening i Kolding Nord", .civilSociety, .other, "Kolding")
        kol.fireBrigade = fre.fireBrigade
        places.append(kol)

        // Ishøj: Vejleåparken (over 2,000 homes, 115 nationalities) beside Strandgårdsskolen.
        var ish = DemoPlace(name: "Ishøj", code: "ish", plan: "Vejleåparkens boligsociale indsats 2021-2025")
        ish.municipality = org("ishoej-kommune", "Ishøj Kommune", .municipality, .other, "Ishøj")
        ish.jobcenter = org("jobcenter-ishoej", "Jobcenter Ishøj", .municipality, .jobcenter, "Ishøj")
        ish.childrenAndYouth = org("boern-unge-ishoej", "Børn og Unge, Ishøj Kommune", .municipality, .childrenAndYouth, "Ishøj")
        ish.secretariat = org("vejleaaparken-indsats", "Den boligsociale indsats i Vejleåparken", .secretariat, .housingSocial, "Ishøj")
        ish.housing = [org("aab", "AAB", .housingOrganisation, .housingSocial, "Ishøj")]
        ish.schools = [org("strandgaardsskolen", "Strandgårdsskolen", .school, .school, "Ishøj")]
        ish.vocational = [org("next-uddannelse", "NEXT Uddannelse København", .school, .school, "Ishøj")]
        ish.health = org("sundhed-ishoej", "Sundhed og Trivsel, Ishøj Kommune", .municipality, .health, "Ishøj")
        ish.library = org("bibliotek-ishoej", "Ishøj Bibliotek", .municipality, .library, "Ishøj")
        ish.police = org("politi-koebenhavns-vestegn", "Københavns Vestegns Politi", .municipality, .police, "Ishøj")
        ish.employers = ["Den lokale købmand", "Frisørsalon", "Kantine og catering", "Plejecenter", "Lager og logistik", "Byggemarked", "Rengøringsfirma"]
            .enumerated().map { org("ish-virksomhed-\($0.offset + 1)", "\($0.element), Ishøj", .employer, .other, "Ishøj") }
        ish.leisureEmployers = [ish.employers[0], ish.employers[1], org("ish-musik-dans", "Musik- og danseaktiviteter i Vejleåparken", .civilSociety, .other, "Ishøj")]
        ish.sportsCentre = org("ishoej-idraetsforening", "Idrætsforening i Ishøj", .civilSociety, .other, "Ishøj")
        ish.fireBrigade = org("vestegnens-brandvaesen", "Vestegnens Brandvæsen (brandkadetter)", .municipality, .other, "Ishøj")
        places.append(ish)

        area("viborg-ellekonebakken", "Ellekonebakken", 0, [vib.housing[0]], weight: 8, street: "Ellekonebakken", postcode: "8800 Viborg")
        area("viborg-klostervaenget", "Klostervænget", 0, [vib.housing[1]], weight: 6, street: "Klostervænget", postcode: "8800 Viborg")
        area("viborg-houlkaervaenget", "Houlkærvænget", 0, [vib.housing[0]], weight: 7, street: "Houlkærvænget", postcode: "8800 Viborg")
        area("viborg-vestervang", "Vestervang", 0, [vib.housing[1]], weight: 7, street: "Vestervangsvej", postcode: "8800 Viborg")
        area("viborg-ringparken", "Ringparken", 0, [vib.housing[0]], weight: 6, street: "Ringparken", postcode: "8800 Viborg")
        area("fredericia-korskaerparken", "Korskærparken", 1, [fre.housing[0]], weight: 11, street: "Korskærparken", postcode: "7000 Fredericia")
        area("fredericia-oest", "Fredericia Øst", 1, [fre.housing[1]], weight: 9, street: "Østervold", postcode: "7000 Fredericia")
        area("kolding-fjordparken", "Fjordparken", 2, [kol.housing[0]], weight: 16, street: "Fjordparken", postcode: "6000 Kolding")
        area("ishoej-vejleaaparken", "Vejleåparken", 3, [ish.housing[0]], weight: 30, street: "Vejleåparken", postcode: "2635 Ishøj")

        // Staff: secretariat social workers and jobcenter liaisons in proportion to the caseload.
        let totalWeight = areas.reduce(0) { $0 + $1.weight }
        for p in places.indices {
            let share = places[p].areas.reduce(0) { $0 + areas[$1].weight }
            let open = openCases * share / totalWeight
            let code = places[p].code
            let social = max(2, open / 40)
            places[p].secretariatLiaisons = (1...social).map { liaison(code, "sek", $0, org: places[p].secretariat, names: &names) }
            places[p].jobcenterLiaisons = (1...max(1, social / 2)).map { liaison(code, "jc", $0, org: places[p].jobcenter, names: &names) }
            places[p].childrenAndYouthLiaison = liaison(code, "bu", 1, org: places[p].childrenAndYouth, names: &names)
            places[p].policeLiaison = liaison(code, "ssp", 1, org: places[p].police, names: &names)
            places[p].schoolLiaison = liaison(code, "skole", 1, org: places[p].schools[0], names: &names)
            places[p].healthLiaison = liaison(code, "sund", 1, org: places[p].health, names: &names)
        }
        // Fredericia's shared jobcenter employee is the first jobcenter liaison; the library project's employee too.
        places[1].sharedJobcenterLiaison = places[1].jobcenterLiaisons[0]
        let freLibrary = liaison("fre", "bib", 1, org: fre.library, names: &names)
        // Viborg's first shared jobcenter employee leaves in June 2023; a new one starts in August.
        let vibShared2 = liaison("vib", "jc", places[0].jobcenterLiaisons.count + 1, org: vib.jobcenter, names: &names)
        lateLiaisons[vibShared2] = fixedDate(2023, 7, 17)

        let d = fixedDate
        targetGroups = [
            DemoTargetGroup(code: "jobparat", label: "Jobparat", from: DemoWorld.planFrom, to: DemoWorld.reformEnd, reformed: true),
            DemoTargetGroup(code: "aktivitetsparat", label: "Aktivitetsparat", from: DemoWorld.planFrom, to: DemoWorld.reformEnd, reformed: true),
            DemoTargetGroup(code: "uddannelsesparat", label: "Uddannelsesparat (uddannelseshjælp)", from: DemoWorld.planFrom, to: DemoWorld.reformEnd, reformed: true),
            DemoTargetGroup(code: "aktivitetsparat-uddannelse", label: "Aktivitetsparat uddannelseshjælpsmodtager", from: DemoWorld.planFrom, to: DemoWorld.reformEnd, reformed: true),
            DemoTargetGroup(code: "sygedagpenge", label: "Sygedagpenge og jobafklaring", from: DemoWorld.planFrom, to: nil, reformed: false),
            DemoTargetGroup(code: "ung-under-18", label: "Ung under 18 (fritidsjob, vejledning og fritidsliv)", from: DemoWorld.planFrom, to: nil, reformed: false),
            DemoTargetGroup(code: "uden-ydelse", label: "Beboer uden offentlig ydelse", from: DemoWorld.planFrom, to: nil, reformed: false),
            DemoTargetGroup(code: "jobklar", label: "Jobklar (ny beskæftigelsesindsats)", from: DemoWorld.reformStart, to: nil, reformed: false),
            DemoTargetGroup(code: "indsatsklar", label: "Indsatsklar (ny beskæftigelsesindsats)", from: DemoWorld.reformStart, to: nil, reformed: false),
            DemoTargetGroup(code: "ung-uddannelse", label: "Unge under 25 uden uddannelse (ny ungeindsats)", from: DemoWorld.reformStart, to: nil, reformed: false),
        ]

        let weekly: [String] = ["Åben rådgivning i beboerhuset", "Jobcafé", "Virksomhedsbesøg", "Opfølgning med praktiksteder",
                                "Samtaler med ledige beboere", "Koordineringsmøde i fællessekretariatet"]
        agreements = [
            DemoAgreement(id: "fre-delt-jobcentermedarbejder", employee: places[1].jobcenterLiaisons[0], paying: fre.jobcenter,
                          served: [fre.secretariat], areas: places[1].areas, hoursPerWeek: 1850, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: nil, activities: weekly),
            DemoAgreement(id: "vib-delt-jobcentermedarbejder", employee: places[0].jobcenterLiaisons[0], paying: vib.jobcenter,
                          served: [vib.secretariat], areas: places[0].areas, hoursPerWeek: 1500, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: d(2023, 6, 30), activities: weekly),
            DemoAgreement(id: "ish-delt-jobcentermedarbejder", employee: places[3].jobcenterLiaisons[0], paying: ish.jobcenter,
                          served: [ish.secretariat], areas: places[3].areas, hoursPerWeek: 2000, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: nil, activities: weekly),
            DemoAgreement(id: "fre-sundhedsprojektet", employee: places[1].healthLiaison, paying: fre.health,
                          served: [fre.secretariat, fre.sportsCentre], areas: places[1].areas, hoursPerWeek: 1000, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: nil, activities: ["Motion i idrætscentret", "Sundhedssamtaler", "Gå-hold for beboere", "Kostvejledning"]),
            DemoAgreement(id: "fre-biblioteksprojektet", employee: freLibrary, paying: fre.library,
                          served: [fre.secretariat, fre.vocational[0]], areas: places[1].areas, hoursPerWeek: 800, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: nil, activities: ["Frivilliguddannelse med Social- og Sundhedsskolen", "Lektiecafé", "Digital hjælp"]),
            DemoAgreement(id: "kol-delt-jobcentermedarbejder", employee: places[2].jobcenterLiaisons[0], paying: kol.jobcenter,
                          served: [kol.secretariat], areas: places[2].areas, hoursPerWeek: 1200, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: nil, activities: weekly),
            DemoAgreement(id: "ish-strandgaardsskolen", employee: places[3].secretariatLiaisons[0], paying: ish.secretariat,
                          served: [ish.schools[0]], areas: places[3].areas, hoursPerWeek: 600, from: DemoWorld.planFrom, to: DemoWorld.planTo,
                          endedEarly: nil, activities: ["Busture til ungdomsuddannelser", "Forældredialog efter skoletid", "Brandkadetter", "Fritidsjobvejledning"]),
            DemoAgreement(id: "vib-delt-jobcentermedarbejder-2", employee: vibShared2, paying: vib.jobcenter,
                          served: [vib.secretariat], areas: places[0].areas, hoursPerWeek: 1500, from: d(2023, 8, 1), to: DemoWorld.planTo,
                          endedEarly: nil, activities: weekly),
        ]
    }

    /// The place of an area.
    func place(ofArea a: Int) -> DemoPlace { places[areas[a].place] }
}

/// A date written in the source; the fallback is never taken for a real date.
func fixedDate(_ year: Int, _ month: Int, _ day: Int) -> CalendarDate {
    CalendarDate(year: year, month: month, day: day) ?? CalendarDate(daysSinceEpoch: 0)
}

func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

func padded(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
