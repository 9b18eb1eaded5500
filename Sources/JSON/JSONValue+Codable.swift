import Foundation

// JSONValue through Codable: what run manifests and config writers use (JSONEncoder's output,
// so a value written here reads back with any JSON reader).

extension JSONValue: Codable {
    /// The JSON form of any `Encodable` value (through `JSONEncoder`).
    ///
    /// ```swift
    /// struct Config: Encodable { var steps = 50; var eta = 0.5 }
    /// try JSONValue(encoding: Config())   // ["eta": 0.5, "steps": 50]
    /// ```
    public init(encoding value: some Encodable) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(value))
    }

    /// Decodes any JSON value; objects come back with their members sorted by key (a `Decoder`
    /// does not keep the order written — ``parse(_:)-(Data)`` does).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int.self) { self = .int(i) }
        else if let d = try? container.decode(Double.self) { self = .double(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = JSONValue(object: try container.decode([String: JSONValue].self)) }
    }

    /// Encodes the value; a number is written as the `Int` or `Double` its text reads as (a
    /// number too large for a `Double` is written as a string), and of members sharing a key the
    /// last is written.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(s): try container.encode(s)
        case let .number(text):
            if let i = Int(text) { try container.encode(i) }
            else if let d = Double(text), d.isFinite { try container.encode(d) }
            else { try container.encode(text) }
        case let .bool(b): try container.encode(b)
        case let .array(a): try container.encode(a)
        case let .object(members): try container.encode(Dictionary(members, uniquingKeysWith: { _, last in last }))
        case .null: try container.encodeNil()
        }
    }

    /// The value as JSON text, keys sorted (add `.prettyPrinted` for files people read).
    ///
    /// ```swift
    /// let text = String(decoding: try JSONValue(object: ["b": 1, "a": true]).encoded(), as: UTF8.self)   // {"a":true,"b":1}
    /// ```
    public func encoded(_ formatting: JSONEncoder.OutputFormatting = [.sortedKeys]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        return try encoder.encode(self)
    }
}
