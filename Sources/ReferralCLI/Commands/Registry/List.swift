import ArgumentParser
import ReferralEvents

extension ReferralCommand.Registry {
    /// `referral registry list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered organisations, areas, liaisons or target groups.",
            discussion: """
                Retracted entries are left out.

                Example:
                  referral registry list organisations --excel-csv > organisations.csv
                """
        )

        enum What: String, ExpressibleByArgument, CaseIterable {
            case organisations, areas, liaisons, targetGroups = "target-groups"
        }

        @Argument(help: "What to list.")
        var what: What

        @OptionGroup var output: OutputOptions
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let store = try storeOptions.open()
            let registry = StreamSnapshot(stream: .registry, events: try store.readStream(.registry)).live
            switch what {
            case .organisations:
                var t = Table([Column("id", "Id"), Column("name", "Name"), Column("kind", "Kind"), Column("sector", "Sector"), Column("municipality", "Municipality")])
                for e in registry {
                    if case .organisationRegistered(let p) = e.payload {
                        t.rows.append([.text(p.organisationId), .text(p.name), .text(p.kind.rawValue), .text(p.sector.rawValue), .text(p.municipality)])
                    }
                }
                output.print(t)
            case .areas:
                var t = Table([Column("id", "Id"), Column("name", "Name"), Column("municipality", "Municipality"), Column("housingOrganisations", "Housing organisations"),
                               Column("plan", "Plan"), Column("planFrom", "From"), Column("planTo", "To")])
                for e in registry {
                    if case .housingAreaRegistered(let p) = e.payload {
                        t.rows.append([.text(p.areaId), .text(p.name), .text(p.municipality), .text(p.housingOrganisations.joined(separator: " ")),
                                       .text(p.plan), .date(p.planFrom), .date(p.planTo)])
                    }
                }
                output.print(t)
            case .liaisons:
                var t = Table([Column("id", "Id"), Column("name", "Name"), Column("organisation", "Organisation")])
                for e in registry {
                    if case .liaisonRegistered(let p) = e.payload {
                        t.rows.append([.text(p.liaisonId), .text(p.name), .text(p.organisationId)])
                    }
                }
                output.print(t)
            case .targetGroups:
                var t = Table([Column("code", "Code"), Column("label", "Label"), Column("from", "From"), Column("to", "To")])
                for e in registry {
                    if case .targetGroupDefined(let p) = e.payload {
                        t.rows.append([.text(p.code), .text(p.label), .date(p.effectiveFrom), .optional(p.effectiveTo)])
                    }
                }
                output.print(t)
            }
        }
    }
}
