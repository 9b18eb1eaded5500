// The package's one JSON value: what config readers parse (strictly, see JSONParser.swift) and
// what run manifests and config writers record (through Codable, see JSONValue+Codable.swift).

/// A JSON value. Objects keep their members in the order written (duplicates included, so a
/// reader can name a key written twice); numbers keep the text they were written as, so a reader
/// converts them to the type it expects and an error message quotes them exactly.
///
/// Build one from literals, from a dictionary, or from any `Encodable`; read one with
/// ``parse(_:)-(Data)``:
///
/// ```swift
/// let settings: JSONValue = ["sampler": "pullback", "steps": 50, "guidance": 3.0, "size": [64, 64]]
/// let config = try JSONValue.parse(Data(#"{"sample_size": 32, "norm_eps": 1e-05}"#.utf8))
/// config["sample_size"]?.nonNegativeInt   // 32
/// config["norm_eps"]?.brief               // "1e-05", as written
/// ```
public enum JSONValue: Sendable {
    /// An object's members in the order written (a key may appear more than once).
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// A number, as written (a valid JSON number literal such as `32`, `-0.5` or `1e-05`).
    case number(String)
    case bool(Bool)
    case null

    /// An integer.
    ///
    /// ```swift
    /// JSONValue.int(50) == .number("50")   // true
    /// ```
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// A double as the shortest decimal that reads back as it; JSON has no NaN or infinity, so
    /// those are recorded as the strings `"nan"`, `"inf"`, `"-inf"`.
    ///
    /// ```swift
    /// JSONValue.double(2.5) == .number("2.5")      // true
    /// JSONValue.double(.nan) == .string("nan")     // true
    /// ```
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number("\(value)") : .string("\(value)")
    }

    /// A `Float` as the short decimal it prints as (`0.1`, not `0.10000000149011612`).
    ///
    /// ```swift
    /// JSONValue(Float(0.1)) == .double(0.1)   // true
    /// ```
    public init(_ value: Float) {
        self = value.isFinite ? .double(Double("\(value)") ?? Double(value)) : .string("\(value)")
    }

    /// An object of a dictionary's members, sorted by key.
    ///
    /// ```swift
    /// JSONValue(object: ["b": 2, "a": 1])   // .object([("a", 1), ("b", 2)])
    /// ```
    public init(object members: [String: JSONValue]) {
        self = .object(members.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
    }

    /// The first value of `key` in an object; nil for a missing key or a value that is no object.
    /// Setting replaces the first member of that key (or appends one); setting nil removes every
    /// member of that key. Only an object can be written to.
    ///
    /// ```swift
    /// var v: JSONValue = ["camera": ["fov": 40]]
    /// v["camera"]?["fov"]   // .number("40")
    /// v["steps"] = 50       // appended after "camera"
    /// ```
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members.first { $0.key == key }?.value
        }
        set {
            guard case .object(var members) = self else { preconditionFailure("only a JSON object has members; this is \(kind)") }
            if let newValue {
                if let i = members.firstIndex(where: { $0.key == key }) { members[i].value = newValue }
                else { members.append((key: key, value: newValue)) }
            } else {
                members.removeAll { $0.key == key }
            }
            self = .object(members)
        }
    }

    /// The value of an integer literal in `0…Int.max` (no fraction, exponent or sign), or nil.
    ///
    /// ```swift
    /// JSONValue.number("24").nonNegativeInt    // 24
    /// JSONValue.number("24.0").nonNegativeInt  // nil
    /// ```
    public var nonNegativeInt: Int? {
        guard case .number(let s) = self, !s.contains(where: { $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" }) else { return nil }
        return Int(s)
    }

    /// The value of a number, or nil for any other kind.
    ///
    /// ```swift
    /// JSONValue.number("1e-05").doubleValue   // 0.00001
    /// JSONValue.bool(true).doubleValue        // nil
    /// ```
    public var doubleValue: Double? {
        guard case .number(let s) = self else { return nil }
        return Double(s)
    }

    /// The text of a string, or nil for any other kind.
    ///
    /// ```swift
    /// JSONValue.string("grid").stringValue   // "grid"
    /// JSONValue.number("1").stringValue      // nil
    /// ```
    public var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    /// A short name of the value's kind, for error messages ("an object", "a number", …).
    public var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The value as an error message quotes it: scalars as written (strings in single quotes),
    /// containers by their kind.
    ///
    /// ```swift
    /// JSONValue.number("3.50").brief   // "3.50"
    /// JSONValue.string("gelu").brief   // "'gelu'"
    /// ```
    public var brief: String {
        switch self {
        case .object, .array: return kind
        case .string(let s): return "'\(s)'"
        case .number(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    /// The JSON text of a string literal, quotes included (serde_json's escaping, which the
    /// safetensors header writer relies on).
    ///
    /// ```swift
    /// JSONValue.quoted("a\"b")   // "\"a\\\"b\""
    /// ```
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

// MARK: - Equality

/// Values are equal when they hold the same data: numbers compare as written (`1` ≠ `1.0`), and
/// objects compare their members regardless of order (JSON objects are unordered; members that
/// share a key compare in the order written).
extension JSONValue: Hashable {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(sortedByKey(x), sortedByKey(y)).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)), let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .object(let members):
            hasher.combine(0)
            for m in Self.sortedByKey(members) { hasher.combine(m.key); hasher.combine(m.value) }
        case .array(let items): hasher.combine(1); hasher.combine(items)
        case .string(let s): hasher.combine(2); hasher.combine(s)
        case .number(let s): hasher.combine(3); hasher.combine(s)
        case .bool(let b): hasher.combine(4); hasher.combine(b)
        case .null: hasher.combine(5)
        }
    }

    /// Members sorted by key, members that share a key kept in the order written.
    private static func sortedByKey(_ members: [(key: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        members.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element)
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object with the literal's members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
    public init(nilLiteral: ()) { self = .null }
}
