import ReferralEvents

// The free texts of the demo's events, in Danish as the liaisons would write them. None
// names a person: reasons describe situations, never residents.

enum DemoTexts {
    static func referralReasons(_ kind: ReferralKind) -> [String] {
        switch kind {
        case .jobcenterContact: ["Ønsker hjælp til at komme i job", "Vil gerne tale med jobcentret om muligheder",
                                 "Aftalt på åben rådgivning i beboerhuset", "Ønsker afklaring af sin ydelse"]
        case .workPlacement: ["Virksomhedspraktik for at afprøve arbejdsmarkedet", "Praktik med henblik på ordinære timer",
                              "Afklaring af skånehensyn i praktik"]
        case .wageSubsidy: ["Løntilskud med udsigt til fastansættelse", "Løntilskud efter vellykket praktik"]
        case .apprenticeship: ["Praktikplads som led i erhvervsuddannelse", "Søger lærlingeplads efter grundforløb",
                               "Elevplads på social- og sundhedsuddannelsen"]
        case .education: ["Ønsker at starte på en erhvervsuddannelse", "Brobygning: besøg på ungdomsuddannelser med forældre",
                          "Vejledning om uddannelsesvalg", "Optagelse på grundforløb"]
        case .mentor: ["Mentorstøtte i overgangen til job", "Har brug for en fast voksen at tale med", "SSP-samarbejde: bekymring for fritidslivet"]
        case .health: ["Sundhedssamtale og motion", "Hjælp til at håndtere stress og søvn", "Genoptræning efter sygdom"]
        case .leisureJob: ["Ønsker fritidsjob efter skole", "Fritidsjob som første skridt mod arbejdsmarkedet"]
        case .other: ["Lektiecafé og fritidsaktiviteter", "Brandkadet: en uges praktik hos brandvæsenet",
                      "Hjælp til digital selvbetjening og dansk", "Motion i idrætscentret", "Dans og musik efter skole"]
        }
    }

    static let accepted = ["Der er plads, opstart aftalt", "Passer til borgerens ønsker", "Godkendt efter samtale", "Visiteret"]
    static let rejected = ["Ingen ledige pladser lige nu", "Borgeren ønskede ikke tilbuddet alligevel", "Uden for målgruppen",
                           "Henvist til anden indsats"]
    static let correctedAnswer = "Svaret rettet: begrundelsen var registreret på en anden henvisning"

    static let assignReasons = ["Omfordeling af sager i teamet", "Ny kontaktperson efter orlov", "Borgeren ønskede en anden kontaktperson"]
    static let withdrawReasons = ["Borgeren ønsker ikke længere at dele oplysninger", "Borgeren har trukket sit samtykke tilbage mundtligt"]

    /// Close reasons by what the case achieved.
    static let closeReasons: [[String]] = [
        ["Forløbet afsluttet efter aftale", "Borgeren er fraflyttet området", "Borgeren ønsker ikke længere at deltage", "Ingen kontakt i tre måneder"],
        ["Borgeren er i ordinært job", "Fastansat efter løntilskud"],
        ["Borgeren er startet på uddannelse", "Optaget på erhvervsuddannelse"],
        ["Borgeren har trukket sit samtykke tilbage"],
    ]
    static let reopenReasons = ["Borgeren har henvendt sig igen", "Jobbet ophørte; borgeren ønsker nyt forløb", "Afbrudt uddannelse"]

    static let retractContact = "Registreret som opfølgning; det var den første samtale i jobcentret"
    static let retractAnswer = "Begrundelsen hørte til en anden henvisning"
    static let retractHours = "Forkert antal timer registreret"
    static let retractTargetGroup = "Målgruppen udfases med beskæftigelsesreformen pr. 30.06.2025 og defineres igen med slutdato"

    static let erasureReason = "Borgeren har anmodet om sletning af sine personoplysninger"
    static let erasureBasis = "GDPR art. 17, stk. 1"
    static let refusalReason = "Kommunen skal opbevare sagens oplysninger efter journaliseringspligten"
    static let refusalBasis = "GDPR art. 17, stk. 3, litra b; offentlighedslovens § 15"

    static let agreementEndedEarly = "Medarbejderen er fratrådt; ny medarbejder ansættes"
    static let agreementEnded = "Helhedsplanens periode udløber"
}
