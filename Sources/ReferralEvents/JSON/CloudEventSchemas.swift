/// The JSON Schema (draft 2020-12) files in `Schemas/`, generated from the same field
/// shapes the importer checks, so a schema and `ProposedEvent.fromCloudEventJSON` accept
/// the same events.
///
/// `Schemas/cloudevent.json` describes the envelope of any event; `Schemas/<name>.v<version>.json`
/// describes a whole CloudEvent of one type, `data` included, self-contained (no
/// references to other files). The tests compare the committed files with `files()`;
/// `REFERRAL_UPDATE_SCHEMAS=1 swift test --filter SchemaFileTests` rewrites them.
public enum CloudEventSchemas {
    /// The JSON Schema dialect of every file.
    public static let dialect = "https://json-schema.org/draft/2020-12/schema"

    /// Every file of `Schemas/`, by file name: the envelope schema, one schema per event
    /// type and version, and `README.md`.
    public static func files() -> [(name: String, contents: String)] {
        var out: [(name: String, contents: String)] = [(CloudEvent.envelopeSchemaFileName, envelopeSchema().pretty())]
        for type in EventType.all {
            out.append((PayloadShape.schemaFileName(type), schema(for: type).pretty()))
        }
        out.append(("README.md", readme()))
        return out
    }

    /// The schema of a whole CloudEvent of `type`, as pretty JSON.
    public static func schemaJSON(for type: EventType) -> String { schema(for: type).pretty() }

    static func envelopeSchema() -> JSONValue {
        document(
            title: "CloudEvents 1.0 envelope of the referral log's events",
            description: "One event as a CloudEvents 1.0 JSON object (structured mode) with this project's extension attributes. "
                + "data is checked only as an object here; Schemas/<name>.v<version>.json checks it for each type.",
            attributes: CloudEvent.attributes(for: nil))
    }

    static func schema(for type: EventType) -> JSONValue {
        let summary = PayloadShape.forType(type)?.summary ?? ""
        return document(
            title: type.cloudEventType,
            description: summary + " One event as a CloudEvents 1.0 JSON object (structured mode); see docs/cloudevents.md.",
            attributes: CloudEvent.attributes(for: type))
    }

    private static func document(title: String, description: String, attributes: [FieldShape]) -> JSONValue {
        var defs = Set<String>()
        let body = objectSchema(attributes, description: nil, defs: &defs)
        guard case .object(let bodyObject) = body else { return body }
        var doc = JSONObject([
            ("$schema", .string(dialect)),
            ("title", .string(title)),
            ("description", .string(description)),
        ])
        doc.members += bodyObject.members
        let defObjects = definitions.filter { defs.contains($0.key) }.map { ($0.key, $0.value) }
        if !defObjects.isEmpty { doc["$defs"] = .object(JSONObject(defObjects)) }
        return .object(doc)
    }

    private static func objectSchema(_ fields: [FieldShape], description: String?, defs: inout Set<String>) -> JSONValue {
        var o = JSONObject([("type", .string("object"))])
        if let description { o["description"] = .string(description) }
        let required = fields.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { o["required"] = .array(required) }
        var properties = JSONObject()
        for field in fields {
            var s = schema(field.shape, defs: &defs)
            if let summary = field.summary, case .object(var so) = s, so["description"] == nil {
                so["description"] = .string(summary)
                s = .object(so)
            }
            properties[field.name] = s
        }
        o["properties"] = .object(properties)
        o["additionalProperties"] = .bool(false)
        return .object(o)
    }

    private static func ref(_ name: String, _ defs: inout Set<String>) -> JSONValue {
        defs.insert(name)
        return .object(JSONObject([("$ref", .string("#/$defs/\(name)"))]))
    }

    private static func schema(_ shape: ValueShape, defs: inout Set<String>) -> JSONValue {
        func obj(_ members: (String, JSONValue)...) -> JSONValue { .object(JSONObject(members)) }
        switch shape {
        case .text: return obj(("type", .string("string")))
        case .identifier: return obj(("type", .string("string")), ("minLength", .integer(1)))
        case .uriReference: return ref("uriReference", &defs)
        case .schemaReference(let file):
            let escaped = file.replacingOccurrences(of: ".", with: "\\.")
            return obj(("type", .string("string")), ("format", .string("uri-reference")),
                       ("pattern", .string("^(" + uriCharacterPattern + "*/)?" + escaped + "$")))
        case .date: return ref("date", &defs)
        case .dateTime: return ref("dateTime", &defs)
        case .hours: return ref("hours", &defs)
        case .bool: return obj(("type", .string("boolean")))
        case .uuid: return ref("uuid", &defs)
        case .pseudonym: return ref("pseudonym", &defs)
        case .digest: return ref("sha256", &defs)
        case .sealed: return ref("sealed", &defs)
        case .vocabulary(let values):
            return obj(("type", .string("string")), ("enum", .array(values.map { .string($0) })))
        case .integer(let allowed):
            return obj(("type", .string("integer")), ("enum", .array(allowed.map { .integer($0) })))
        case .counter:
            return obj(("type", .string("integer")), ("minimum", .integer(1)), ("maximum", .integer(Int32.max)))
        case .constant(let s): return obj(("type", .string("string")), ("const", .string(s)))
        case .constantInteger(let n): return obj(("type", .string("integer")), ("const", .integer(n)))
        case .eventTypeName:
            return obj(("type", .string("string")), ("pattern", .string(#"^dk\.referral\.[a-z0-9]+(-[a-z0-9]+)*\.v[1-9][0-9]*$"#)))
        case .list(let element, let minItems):
            var o = JSONObject([("type", .string("array")), ("items", schema(element, defs: &defs))])
            if minItems > 0 { o["minItems"] = .integer(minItems) }
            return .object(o)
        case .payload(let type):
            guard let shape = PayloadShape.forType(type) else { return obj(("type", .string("object"))) }
            return objectSchema(shape.fields, description: shape.summary, defs: &defs)
        case .anyObject: return obj(("type", .string("object")))
        }
    }

    /// One URI character: RFC 3986 unreserved or reserved, or a percent-escape.
    static let uriCharacterPattern = #"([A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})"#

    /// Shared definitions, in the order they appear under `$defs`.
    private static let definitions: [(key: String, value: JSONValue)] = [
        ("date", .object(JSONObject([
            ("description", .string("A calendar date, YYYY-MM-DD, a real day in the years 1900-2199.")),
            ("type", .string("string")), ("format", .string("date")),
            ("pattern", .string("^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$")),
        ]))),
        ("dateTime", .object(JSONObject([
            ("description", .string("An RFC 3339 date-time; exported in UTC with milliseconds, e.g. 2024-03-01T09:30:00.000Z.")),
            ("type", .string("string")), ("format", .string("date-time")),
            ("pattern", .string(#"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"#)),
        ]))),
        ("hours", .object(JSONObject([
            ("description", .string("Hours, at most two decimals (kept in hundredths), e.g. 7.5. The log further requires more than 0 and at most 24 a day or 168 a week.")),
            ("type", .string("number")), ("minimum", .integer(0)), ("exclusiveMaximum", .integer(Int(ValueShape.hoursLimit))),
        ]))),
        ("uuid", .object(JSONObject([
            ("description", .string("A UUID, 8-4-4-4-12 hex digits; lowercase on export.")),
            ("type", .string("string")), ("format", .string("uuid")),
            ("pattern", .string("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
        ]))),
        ("pseudonym", .object(JSONObject([
            ("description", .string("A resident's pseudonym: the first 128 bits of HMAC-SHA256(store secret, CPR number), 32 lowercase hex digits.")),
            ("type", .string("string")), ("pattern", .string("^[0-9a-f]{32}$")),
        ]))),
        ("sha256", .object(JSONObject([
            ("description", .string("A SHA-256 digest, 64 lowercase hex digits.")),
            ("type", .string("string")), ("pattern", .string("^[0-9a-f]{64}$")),
        ]))),
        ("sealed", .object(JSONObject([
            ("description", .string("Standard padded base64 (RFC 4648) of at least 28 bytes: AES-256-GCM nonce, ciphertext and tag.")),
            ("type", .string("string")), ("contentEncoding", .string("base64")), ("minLength", .integer(40)),
            ("pattern", .string("^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")),
        ]))),
        ("uriReference", .object(JSONObject([
            ("description", .string("A non-empty URI reference (RFC 3986 characters only).")),
            ("type", .string("string")), ("minLength", .integer(1)), ("format", .string("uri-reference")),
            ("pattern", .string("^" + uriCharacterPattern + "+$")),
        ]))),
    ]

    static func readme() -> String {
        var s = """
        # Schemas

        JSON Schema (draft 2020-12) of the events the referral log exchanges as
        CloudEvents 1.0 in JSON, one event per line (JSON Lines). See
        `docs/cloudevents.md` for the attributes and how import treats them.

        These files are generated from `Sources/ReferralEvents/JSON/` (the same
        shapes the importer checks); do not edit them by hand. After changing an
        event, regenerate them with
        `REFERRAL_UPDATE_SCHEMAS=1 swift test --filter SchemaFileTests`.
        Check a JSON Lines file against them with `python3 Tests/schema_check.py FILE`.

        - [`\(CloudEvent.envelopeSchemaFileName)`](\(CloudEvent.envelopeSchemaFileName)): the envelope of any event (`data` only as an object).
        - One file per event type and version, describing the whole CloudEvent with
          its `type` fixed and its `data` in full:

        | `type` | schema | stream | what it records |
        |---|---|---|---|

        """
        for type in EventType.all {
            let file = PayloadShape.schemaFileName(type)
            let stream = switch type.category {
            case nil: "any (the retracted event's)"
            case "registry": "`registry`"
            case let c?: "`\(c)-…`"
            }
            s += "| `\(type.cloudEventType)` | [`\(file)`](\(file)) | \(stream) | \(PayloadShape.forType(type)?.summary ?? "") |\n"
        }
        return s
    }
}
