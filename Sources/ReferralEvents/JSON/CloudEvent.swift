import Foundation

/// The CloudEvents 1.0 form of the log's events: one JSON object per event
/// (structured content mode), one per line in JSON Lines files.
///
/// ```json
/// {"actor":"vib-lis-01","data":{…},"datacontenttype":"application/json",
///  "dataschema":"Schemas/case-opened.v1.json","hash":"…","id":"0b9e3c9e-…",
///  "organisation":"secretariat-viborg","position":5,"previoushash":"…",
///  "recordedat":"2024-03-04T08:12:00.000Z","schemaversion":1,
///  "source":"urn:referral:org:secretariat-viborg","specversion":"1.0",
///  "streamversion":1,"subject":"case-VIB-0001","time":"2024-03-01T09:30:00.000Z",
///  "type":"dk.referral.case-opened.v1"}
/// ```
///
/// - `source` is `urn:referral:org:<organisation>`: the organisation on whose behalf
///   the event was recorded, percent-encoded. Export can be given another source.
/// - `dataschema` is `Schemas/<name>.v<version>.json`, relative to the project's
///   repository root, where the JSON Schema of that type lives.
/// - The envelope's log-assigned fields travel as extension attributes (`position`,
///   `streamversion`, `recordedat`, `previoushash`, `hash`); import accepts them but
///   ignores them, because the receiving log assigns its own.
///
/// See `docs/cloudevents.md` for the full description.
public enum CloudEvent {
    /// The only CloudEvents version read and written.
    public static let specVersion = "1.0"
    /// `data` is always a JSON object.
    public static let dataContentType = "application/json"
    /// Every `type` starts with this: `dk.referral.case-opened.v1`.
    public static let typePrefix = "dk.referral."
    /// The folder (relative to the repository root) that holds the JSON Schemas.
    public static let schemaFolder = "Schemas"
    /// The schema of the envelope alone, for events of any type.
    public static let envelopeSchemaFileName = "cloudevent.json"

    /// `urn:referral:org:<organisation>`, the default `source`.
    public static func defaultSource(organisation: OrganisationID) -> String {
        "urn:referral:org:" + percentEncoded(organisation)
    }

    /// `Schemas/case-opened.v1.json`: the `dataschema` of events of `type`.
    public static func dataSchema(for type: EventType) -> String {
        schemaFolder + "/" + PayloadShape.schemaFileName(type)
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Unicode.Scalar(b)
            if (65...90).contains(b) || (97...122).contains(b) || (48...57).contains(b) || "-._~".unicodeScalars.contains(c) {
                out.unicodeScalars.append(c)
            } else {
                out += "%" + hexString([b]).uppercased()
            }
        }
        return out
    }

    /// The attributes of events of `type` (nil: of any type), in the order the schemas list them.
    ///
    /// `data` is listed with them; every name is lowercase letters and digits, as
    /// CloudEvents 1.0 requires of extension attributes.
    static func attributes(for type: EventType?) -> [FieldShape] {
        [
            FieldShape("specversion", .constant(specVersion), "CloudEvents version."),
            FieldShape("id", .uuid, "The event id; lowercase on export. Re-importing an id the log holds is idempotent."),
            FieldShape("source", .uriReference, "Who produced the event; urn:referral:org:<organisation> on export."),
            FieldShape("type", type.map { .constant($0.cloudEventType) } ?? .eventTypeName, "dk.referral.<name>.v<schema version>."),
            FieldShape("subject", .identifier, "The stream id: registry, case-<id>, agreement-<id> or resident-<pseudonym>."),
            FieldShape("time", .dateTime, "When it happened in the world (occurred at), UTC on export."),
            .optional("datacontenttype", .constant(dataContentType)),
            .optional("dataschema", type.map { .schemaReference(PayloadShape.schemaFileName($0)) } ?? .uriReference,
                      "Schemas/<name>.v<version>.json, relative to the project's repository root."),
            FieldShape("data", type.map { .payload($0) } ?? .anyObject, "The event's payload."),
            FieldShape("actor", .identifier, "Who recorded it (a liaison id or user name)."),
            FieldShape("organisation", .identifier, "On whose behalf it was recorded."),
            .optional("recordedat", .dateTime, "When it entered the log. Exported; ignored on import."),
            .optional("position", .counter, "Global position in the log, from 1. Exported; ignored on import."),
            .optional("streamversion", .counter, "Version in the stream, from 1. Exported; ignored on import."),
            .optional("schemaversion", type.map { .constantInteger(Int($0.schemaVersion)) } ?? .counter,
                      "The payload's schema version; must agree with type."),
            .optional("correlationid", .uuid, "Groups events of one piece of work."),
            .optional("causationid", .uuid, "The event that caused this one."),
            .optional("previoushash", .digest, "SHA-256 of the previous event in the log. Exported; ignored on import."),
            .optional("hash", .digest, "SHA-256 of this event's stored form. Exported; ignored on import."),
        ]
    }

    static let attributeNames = Set(attributes(for: nil).map(\.name))

    /// `attributes(for:)` of every known type, made once rather than per imported line.
    static let attributesByType: [EventType: [FieldShape]] =
        Dictionary(uniqueKeysWithValues: EventType.all.map { ($0, attributes(for: $0)) })
}

// MARK: - Export

extension RecordedEvent {
    /// Whether `source` may be written as a CloudEvent's `source`: a non-empty URI reference
    /// of RFC 3986 characters, as Schemas/ and the importer require.
    public static func isCloudEventSource(_ source: String) -> Bool {
        !source.isEmpty && ValueShape.isURIReference(source)
    }

    /// This event as one line of compact CloudEvents JSON, keys sorted so that equal
    /// events always give equal text.
    ///
    /// `source` defaults to `urn:referral:org:<organisation>`.
    public func cloudEventJSON(source: String? = nil) -> String {
        JSONValue.object(cloudEventObject(source: source)).compact(sortKeys: true)
    }

    func cloudEventObject(source: String? = nil) -> JSONObject {
        let e = envelope
        var o = JSONObject([
            ("specversion", .string(CloudEvent.specVersion)),
            ("id", .string(e.id.uuidString.lowercased())),
            ("source", .string(source ?? CloudEvent.defaultSource(organisation: e.organisation))),
            ("type", .string(e.type.cloudEventType)),
            ("subject", .string(e.stream.rawValue)),
            ("time", .string(e.occurredAt.iso8601)),
            ("datacontenttype", .string(CloudEvent.dataContentType)),
            ("dataschema", .string(CloudEvent.dataSchema(for: e.type))),
            ("data", payload.cloudEventData),
            ("actor", .string(e.actor)),
            ("organisation", .string(e.organisation)),
            ("recordedat", .string(e.recordedAt.iso8601)),
            ("position", .integer(e.position)),
            ("streamversion", .integer(e.version)),
            ("schemaversion", .integer(e.type.schemaVersion)),
        ])
        if let c = e.correlationId { o["correlationid"] = .string(c.uuidString.lowercased()) }
        if let c = e.causationId { o["causationid"] = .string(c.uuidString.lowercased()) }
        o["previoushash"] = .string(e.previousHash.hex)
        o["hash"] = .string(e.hash.hex)
        return o
    }
}

extension Sequence where Element == RecordedEvent {
    /// JSON Lines: one CloudEvent per line, each line ending in `\n`.
    public func cloudEventJSONLines(source: String? = nil) -> String {
        var out = ""
        for event in self {
            out += event.cloudEventJSON(source: source)
            out += "\n"
        }
        return out
    }
}

extension EventPayload {
    /// The payload as the CloudEvent's `data` object, in canonical form.
    var cloudEventData: JSONValue {
        let value: JSONValue
        do {
            value = try JSONValueEncoder.encode(binaryPayload)
        } catch {
            // Payloads are plain structs of strings, numbers and dates: encoding them
            // cannot fail unless a payload type is broken, which the tests would show.
            preconditionFailure("cannot encode a \(type.name) payload as JSON: \(error)")
        }
        return ValueShape.payload(type).normalised(value)
    }

    /// The payload as compact JSON with sorted keys: the CloudEvent's `data`, byte for byte
    /// what `referral export` writes (ids in lowercase, hours as numbers, sealed data in
    /// base64), so a program reading `referral log --json` joins on the same text.
    public var dataJSON: String { cloudEventData.compact(sortKeys: true) }
}

// MARK: - Import

extension ProposedEvent {
    /// Reads one CloudEvent (a JSON object) for appending to the log.
    ///
    /// Checks every attribute and every `data` field against this build's schema for the
    /// event's `type` and throws an `ImportError` naming the first field at fault and the
    /// rule it breaks, e.g. `data.hoursPerWeek: expected a number, found a string`.
    /// `position`, `streamversion`, `recordedat`, `previoushash` and `hash` must be well
    /// formed when present, but are otherwise ignored: the log assigns them.
    public static func fromCloudEventJSON(_ text: String) throws(ImportError) -> ProposedEvent {
        try fromCloudEventJSON(bytes: Array(text.utf8))
    }

    /// Reads one CloudEvent from UTF-8 bytes; see `fromCloudEventJSON(_:)` for a `String`.
    public static func fromCloudEventJSON(_ data: Data) throws(ImportError) -> ProposedEvent {
        try fromCloudEventJSON(bytes: Array(data))
    }

    /// Reads one CloudEvent from UTF-8 bytes.
    public static func fromCloudEventJSON(bytes: [UInt8]) throws(ImportError) -> ProposedEvent {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ImportError(field: "", rule: "not valid JSON at column \(error.column): \(error.message)")
        }
        return try fromCloudEvent(value)
    }

    static func fromCloudEvent(_ value: JSONValue) throws(ImportError) -> ProposedEvent {
        guard case .object(let object) = value else {
            throw ImportError(field: "", rule: "expected a JSON object (one CloudEvent), found \(value.kindDescription)")
        }
        for key in object.keys where !CloudEvent.attributeNames.contains(key) {
            if key == "data_base64" {
                throw ImportError(field: key, rule: "binary data is not supported; send data as a JSON object")
            }
            if CloudEvent.attributeNames.contains(key.lowercased()) {
                throw ImportError(field: key, rule: "attribute names are lowercase; write '\(key.lowercased())'")
            }
            throw ImportError(field: key, rule: "unknown attribute; events of this project have \(CloudEvent.attributes(for: nil).map(\.name).joined(separator: ", "))")
        }
        // specversion and type decide how to read the rest.
        let generic = CloudEvent.attributes(for: nil)
        for field in generic where field.name == "specversion" || field.name == "type" {
            guard let v = object[field.name] else { throw ImportError(field: field.name, rule: "required but missing") }
            try field.shape.check(v, at: field.name)
        }
        guard case .string(let typeName)? = object["type"] else {
            throw ImportError(field: "type", rule: "expected a string")
        }
        guard let type = EventType.all.first(where: { $0.cloudEventType == typeName }) else {
            let name = typeName.dropFirst(CloudEvent.typePrefix.count).split(separator: ".").dropLast().joined(separator: ".")
            let versions = EventType.all.filter { $0.name == name }.map { "v\($0.schemaVersion)" }
            if !versions.isEmpty {
                throw ImportError(field: "type", rule: "'\(typeName)' is a version this build does not read; it reads \(name) \(versions.joined(separator: ", "))")
            }
            throw ImportError(field: "type", rule: "unknown event type '\(typeName)'; the known types are listed in Schemas/README.md")
        }
        _ = try checkObject(value, fields: CloudEvent.attributesByType[type] ?? CloudEvent.attributes(for: type), at: "", what: "an event")

        guard case .string(let idText)? = object["id"], let id = UUID(hexString: idText),
              case .string(let subject)? = object["subject"],
              case .string(let timeText)? = object["time"], let time = Timestamp(parsing: timeText),
              case .string(let actor)? = object["actor"],
              case .string(let organisation)? = object["organisation"],
              let data = object["data"]
        else {
            // Unreachable after the checks above; kept so a future change fails loudly, not silently.
            throw ImportError(field: "", rule: "the event passed its checks but could not be read; please report this")
        }
        func optionalUUID(_ name: String) -> UUID? {
            if case .string(let s)? = object[name] { return UUID(hexString: s) }
            return nil
        }
        let payload: EventPayload
        do {
            guard let shape = PayloadShape.forType(type) else {
                throw ImportError(field: "type", rule: "'\(typeName)' has no JSON form in this build")
            }
            payload = try shape.decode(data)
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError(field: "data", rule: "could not be read as a \(type.name) payload: \(error)")
        }
        return ProposedEvent(id: id, stream: StreamID(subject), payload: payload, occurredAt: time,
                             actor: actor, organisation: organisation,
                             correlationId: optionalUUID("correlationid"), causationId: optionalUUID("causationid"))
    }
}
