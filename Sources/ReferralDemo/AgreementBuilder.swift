import ReferralEvents

/// The shared employee's hours under one agreement: the agreement, a log per week (or per
/// working day for the larger demos), the odd correction, and its end.
struct AgreementBuilder {
    let world: DemoWorld
    let agreement: DemoAgreement
    var rng: DemoRandom
    let daily: Bool
    let firstDay: CalendarDate
    let lastDay: CalendarDate

    init(world: DemoWorld, index: Int, seed: UInt64, daily: Bool, firstDay: CalendarDate, lastDay: CalendarDate) {
        self.world = world
        agreement = world.agreements[index]
        rng = DemoRandom(seed: seed, tag: 2, index: UInt64(index))
        self.daily = daily
        self.firstDay = firstDay
        self.lastDay = lastDay
    }

    mutating func build() -> [Step] {
        let a = agreement
        let made = max(a.from, firstDay)
        var steps = [Step(occurredAt: Int64(made.daysSinceEpoch) * dayMs + 9 * 3_600_000, recordDay: made.daysSinceEpoch,
                          actor: Int32(a.employee), event: .agreementMade)]
        let end = min(a.endedEarly ?? a.to, a.to)
        var wrong: [Int] = []
        var day = made
        var k = 0
        var recordDay = made.daysSinceEpoch
        while day <= end, day <= lastDay {
            defer { day = day.adding(days: 1) }
            let weekday = day.weekday
            let week = day.isoWeek.week
            guard weekday <= 5, ![29, 30, 52].contains(week) else { continue }
            if !daily, weekday != 5 { continue }
            if daily, rng.chance(0.06) { continue }  // a day off sick or on a course
            let agreed = Int(a.hoursPerWeek) / (daily ? 5 : 1)
            var hundredths = agreed + (rng.int(-8...8) * agreed) / 40
            hundredths = min(2400, max(25, hundredths / 25 * 25))
            let area = a.areas[k % a.areas.count]
            k += 1
            // Weekly logs are written at the end of the week or the next; some a few weeks late.
            let lag: Int32 = rng.chance(0.05) ? Int32(rng.int(7...21)) : Int32(rng.int(0...3))
            recordDay = max(recordDay, day.daysSinceEpoch + lag)
            var logged = Int16(hundredths)
            if rng.chance(0.01) {
                wrong.append(steps.count)
                logged = Int16(max(25, hundredths - 300))
            }
            steps.append(Step(occurredAt: Int64(day.daysSinceEpoch) * dayMs + 15 * 3_600_000, recordDay: recordDay, actor: Int32(a.employee),
                              event: .hoursLogged(date: day.daysSinceEpoch, hundredths: logged, area: Int16(area),
                                                  served: Int16(rng.pick(a.served)), activity: UInt8(rng.below(a.activities.count)))))
            // Remember the right figure for the correction.
            if wrong.last == steps.count - 1 { correctHours[steps.count - 1] = Int16(hundredths) }
        }
        if end <= lastDay {
            recordDay = max(recordDay, end.daysSinceEpoch)
            steps.append(Step(occurredAt: Int64(end.daysSinceEpoch) * dayMs + 12 * 3_600_000, recordDay: recordDay, actor: Int32(a.employee),
                              event: .agreementEnded(date: end.daysSinceEpoch, early: a.endedEarly != nil)))
        }
        // In step order; each insertion moves the later steps on by two.
        var shift = 0
        for k in wrong {
            guard case .hoursLogged(let date, _, let area, let served, let activity) = steps[k + shift].event, let right = correctHours[k] else { continue }
            insertCorrection(&steps, after: k + shift, corrected: .hoursLogged(date: date, hundredths: right, area: area, served: served, activity: activity), why: .hours)
            shift += 2
        }
        return steps
    }

    private var correctHours: [Int: Int16] = [:]
}
