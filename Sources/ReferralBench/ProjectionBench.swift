import Foundation
import ReferralEvents
import ReferralProjections

/// Workloads 4–6: rebuild, catch-up and queries, scaling. They need the projections runner.
enum ProjectionBench {
    static func rebuild(_ o: Options, work: String) throws {
        print("== 4. rebuild: needs the projections runner (ReferralProjections), not in this build yet")
    }

    static func catchUp(_ o: Options, work: String) throws {
        print("== 5. catch-up and queries: needs the projections runner (ReferralProjections), not in this build yet")
    }

    static func scaling(_ o: Options, work: String) throws {
        print("== 6. scaling: needs the projections runner (ReferralProjections), not in this build yet")
    }
}
