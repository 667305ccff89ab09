import Foundation
import ReferralEvents

/// An event's payload as text: a one-line summary for people, JSON for machines.
///
/// The summary is derived from the payload structs themselves (their stored properties,
/// in declaration order), so a new event type shows up without touching this file; the
/// JSON is the CloudEvent's `data`.
enum PayloadText {
    /// `toOrganisation=jobcenter-viborg kind=jobcenter-contact reason="Wants a job"`.
    /// Sealed personal data shows as `sealed`, never its bytes.
    static func summary(_ payload: EventPayload) -> String {
        guard let inner = Mirror(reflecting: payload).children.first?.value else { return "" }
        var parts: [String] = []
        for child in Mirror(reflecting: inner).children {
            guard let label = child.label, let text = value(child.value) else { continue }
            parts.append("\(label)=\(quoted(text))")
        }
        return parts.joined(separator: " ")
    }

    /// The payload as a JSON object with sorted keys, as export writes it (`dataJSON`).
    static func json(_ payload: EventPayload) -> String { payload.dataJSON }

    private static func value(_ any: Any) -> String? {
        let mirror = Mirror(reflecting: any)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return value(wrapped)
        }
        switch any {
        case let s as String: return s
        case let d as CalendarDate: return d.danish
        case let t as Timestamp: return CellText.humanTimestamp(t)
        case let h as Hours: return h.description
        case let p as Pseudonym: return p.hex
        case is SealedData: return "sealed"
        case let u as UUID: return u.uuidString.lowercased()
        case let b as Bool: return b ? "yes" : "no"
        case let a as [Any]: return a.compactMap(value).joined(separator: ",")
        case let r as any RawRepresentable: return "\(r.rawValue)"
        default: return "\(any)"
        }
    }

    private static func quoted(_ text: String) -> String {
        text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            ? JSONText.string(text) : text
    }
}
