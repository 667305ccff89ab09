import ReferralEvents

/// Where logged hours went: the month they were spent, for which party and in which area.
struct HoursBucket: Sendable, Hashable, Comparable {
    var month: UInt16
    /// `UInt32.max` when the log names no party / no area.
    var party: UInt32
    var area: UInt32

    static let unspecified = UInt32.max

    static func < (a: HoursBucket, b: HoursBucket) -> Bool { (a.month, a.party, a.area) < (b.month, b.party, b.area) }
}

/// One shared-employee agreement and the hours logged under it, per month, party and area.
struct AgreementState: Sendable, Hashable {
    var exists = false
    var employee = ""
    var paying: UInt32 = 0
    var servedOrganisations: [UInt32] = []
    var servedAreas: [UInt32] = []
    var hoursPerWeek: Int32 = 0
    var validFrom: Day = 0
    var validTo: Day = .none
    var endedOn: Day = .none
    /// Hundredths of an hour.
    var hours: [HoursBucket: Int64] = [:]

    mutating func apply<N: NameTable>(_ view: EventView, names: inout N) throws {
        switch view.typeCode {
        case EventType.hoursAgreementMade.code:
            guard !exists else { return }
            let p = try view.decode(HoursAgreementMade.self)
            exists = true
            employee = p.employee
            paying = try names.id(p.payingOrganisation)
            servedOrganisations = try p.servedOrganisations.map { try names.id($0) }
            servedAreas = try p.servedAreas.map { try names.id($0) }
            hoursPerWeek = p.hoursPerWeek.hundredths
            validFrom = p.validFrom.daysSinceEpoch
            validTo = p.validTo?.daysSinceEpoch ?? .none
        case EventType.sharedHoursLogged.code:
            guard exists else { return }
            var r = BinaryReader(view.payloadBytes)
            let date = try r.i32()
            let hundredths = try r.i32()
            let area = try r.present() ? try names.id(r.stringBytes()) : HoursBucket.unspecified
            let party = try r.present() ? try names.id(r.stringBytes()) : HoursBucket.unspecified
            hours[HoursBucket(month: monthIndex(date), party: party, area: area), default: 0] += Int64(hundredths)
        case EventType.hoursAgreementEnded.code:
            guard exists, endedOn == .none else { return }
            var r = BinaryReader(view.payloadBytes)
            endedOn = try r.i32()
        default:
            break
        }
    }

    /// The last day hours are agreed for: the earlier of the agreement's end and the day it was ended.
    var lastDay: Day { min(validTo, endedOn) }

    /// Agreed hours (hundredths) in one month: `hours a week ÷ 5` for every weekday
    /// (Monday–Friday) of the month inside the agreement, rounded to the nearest hundredth.
    func agreedHundredths(month: UInt16) -> Int64 {
        let first = CalendarDate(year: Int(month) / 12, month: Int(month) % 12 + 1, day: 1)?.daysSinceEpoch ?? 0
        let last = CalendarDate(daysSinceEpoch: first).adding(months: 1).daysSinceEpoch - 1
        let from = max(first, validFrom), to = min(last, lastDay)
        guard from <= to else { return 0 }
        var weekdays: Int64 = 0
        for d in from...to where CalendarDate(daysSinceEpoch: d).weekday <= 5 { weekdays += 1 }
        return (weekdays * Int64(hoursPerWeek) + 2) / 5
    }
}

extension AgreementState {
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + hours.count * 18)
        w.u8(1)
        w.string(employee); w.u32(paying)
        w.array(servedOrganisations) { $0.u32($1) }; w.array(servedAreas) { $0.u32($1) }
        w.i32(hoursPerWeek); w.i32(validFrom); w.i32(validTo); w.i32(endedOn)
        let buckets = hours.sorted { $0.key < $1.key }
        w.array(buckets) { w, b in w.u16(b.key.month); w.u32(b.key.party); w.u32(b.key.area); w.i64(b.value) }
        return w.bytes
    }

    init(decoding b: UnsafeRawBufferPointer) throws {
        var r = BinaryReader(b)
        let version = try r.u8()
        guard version == 1 else {
            throw LogError(.unsupportedFormat, "a stored agreement row has format \(version); rebuild the projections (`referral rebuild`)")
        }
        exists = true
        employee = try r.string(); paying = try r.u32()
        servedOrganisations = try r.array { try $0.u32() }; servedAreas = try r.array { try $0.u32() }
        hoursPerWeek = try r.i32(); validFrom = try r.i32(); validTo = try r.i32(); endedOn = try r.i32()
        for _ in 0..<(try r.count()) {
            let k = HoursBucket(month: try r.u16(), party: try r.u32(), area: try r.u32())
            hours[k] = try r.i64()
        }
    }
}
