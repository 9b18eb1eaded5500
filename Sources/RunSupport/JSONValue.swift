// Any JSON value, for the free-form settings of a run manifest.

import Foundation

/// A JSON value: what a run's settings are recorded as in its manifest.
///
/// Literals build it directly; any `Encodable` value (a sampler's configuration struct, say)
/// converts through ``init(encoding:)``.
///
/// ```swift
/// let settings: [String: JSONValue] = [
///     "sampler": "pullback", "steps": 50, "guidance": 3.0, "resample": true,
///     "size": [64, 64], "camera": ["radius": 4.0, "fov": 40],
/// ]
/// let config = try JSONValue(encoding: samplerConfiguration)   // any Encodable
/// ```
public enum JSONValue: Codable, Sendable, Equatable, Hashable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    /// A `Float` as the short decimal it prints as (`0.1`, not `0.10000000149011612`).
    ///
    /// ```swift
    /// JSONValue(Float(0.1)) == .double(0.1)   // true
    /// ```
    public init(_ value: Float) {
        self = value.isFinite ? .double(Double("\(value)") ?? Double(value)) : .string("\(value)")
    }

    /// The JSON form of any `Encodable` value (through `JSONEncoder`).
    ///
    /// ```swift
    /// struct Config: Encodable { var steps = 50; var eta = 0.0 }
    /// try JSONValue(encoding: Config())   // .object(["steps": .int(50), "eta": .int(0)])
    /// ```
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int.self) { self = .int(i) }
        else if let d = try? container.decode(Double.self) { self = .double(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(s): try container.encode(s)
        case let .int(i): try container.encode(i)
        case let .double(d):
            // JSON has no NaN or infinity: record them as strings rather than fail the whole manifest.
            if d.isFinite { try container.encode(d) } else { try container.encode("\(d)") }
        case let .bool(b): try container.encode(b)
        case let .array(a): try container.encode(a)
        case let .object(o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
