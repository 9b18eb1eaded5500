// Typed, key-tracking access to a model `config.json`, shared by every model config reader.

import Foundation
import JSON
import SafeTensors

/// Typed access to a JSON object's members that remembers which keys were read. Integers must
/// be written as whole numbers; booleans are not numbers; every key may appear once.
struct ConfigReader<Kind: ModelConfigKind> {
    typealias Failure = ModelConfigError<Kind>

    let dict: [String: JSONValue]
    let source: String
    private(set) var read: Set<String> = []

    init(members: [(key: String, value: JSONValue)], source: String) throws {
        var dict: [String: JSONValue] = [:]
        for (k, v) in members {
            if dict.updateValue(v, forKey: k) != nil { throw Failure.duplicateKey(source, k) }
        }
        self.dict = dict
        self.source = source
    }

    var unreadKeys: [String] {
        dict.keys.filter { !$0.hasPrefix("_") && !read.contains($0) }.sorted()
    }

    mutating func markRead(_ key: String) { read.insert(key) }

    /// The value of `key` (null included) without marking it read.
    func peek(_ key: String) -> JSONValue? { dict[key] }

    private mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let v = dict[key], v != .null else { return nil }
        return v
    }

    /// A whole number in `allowed` (written `32`, or as a float with no fraction such as `32.0`).
    private func integer(_ v: JSONValue, key: String, in allowed: ClosedRange<Int>) throws -> Int {
        guard case .number(let text) = v, let x = Double(text), x.isFinite, x == x.rounded() else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "an integer")
        }
        guard x >= Double(allowed.lowerBound), x <= Double(allowed.upperBound) else {
            throw Failure.outOfRange(source, key: key, value: text, allowed: Failure.text(allowed))
        }
        return Int(x)
    }

    mutating func int(_ key: String, default d: Int, in allowed: ClosedRange<Int>) throws -> Int {
        guard let v = value(key) else { return d }
        return try integer(v, key: key, in: allowed)
    }

    mutating func optionalInt(_ key: String, default d: Int?, in allowed: ClosedRange<Int>) throws -> Int? {
        guard dict.keys.contains(key) else { return d }
        guard let v = value(key) else { return nil }
        return try integer(v, key: key, in: allowed)
    }

    mutating func float(_ key: String, default d: Float) throws -> Float {
        guard let v = value(key) else { return d }
        guard let x = v.doubleValue else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "a number")
        }
        guard Float(x).isFinite else {
            throw Failure.outOfRange(source, key: key, value: v.brief, allowed: "a finite 32-bit float")
        }
        return Float(x)
    }

    mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = value(key) else { return d }
        guard case .bool(let b) = v else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "true or false")
        }
        return b
    }

    mutating func strings(_ key: String, default d: [String]) throws -> [String] {
        guard let v = value(key) else { return d }
        guard case .array(let items) = v else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "a list of strings")
        }
        return try items.enumerated().map { i, item in
            guard case .string(let s) = item else {
                throw Failure.wrongType(source, key: "\(key)[\(i)]", value: item.brief, expected: "a string")
            }
            return s
        }
    }

    mutating func ints(_ key: String, default d: [Int], in allowed: ClosedRange<Int>) throws -> [Int] {
        guard let v = value(key) else { return d }
        guard case .array(let items) = v else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "a list of integers")
        }
        return try items.enumerated().map { i, item in try integer(item, key: "\(key)[\(i)]", in: allowed) }
    }

    /// A string value (`default` when absent).
    mutating func string(_ key: String, default d: String) throws -> String {
        guard let v = peek(key), v != .null else { markRead(key); return d }
        markRead(key)
        guard case .string(let s) = v else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "a string")
        }
        return s
    }

    mutating func expect(_ key: String, _ supported: String) throws {
        guard let v = value(key) else { return }
        guard case .string(let s) = v else {
            throw Failure.wrongType(source, key: key, value: v.brief, expected: "a string")
        }
        if s != supported { throw Failure.unsupported(source, key: key, value: s) }
    }

    mutating func expectNull(_ key: String) throws {
        if let v = value(key) { throw Failure.unsupported(source, key: key, value: v.brief) }
    }
}

extension ConfigReader {
    /// The bytes of `url`, or ``ModelConfigError/unreadable(_:_:)`` with the system's reason.
    static func data(contentsOf url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw Failure.unreadable(url.path, FileReadFailure.reason(url, error))
        }
    }

    /// A reader of `data`, which must be one JSON object with every key once.
    init(json data: Data, source: String) throws {
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch { throw Failure.notJSON(source) }
        guard case .object(let members) = root else { throw Failure.notJSON(source) }
        try self.init(members: members, source: source)
    }

    /// Refuses `_class_name` (or another naming key) unless it is absent, null or `expected`.
    mutating func expectClass(_ expected: String, key: String = "_class_name") throws {
        markRead(key)
        if let v = peek(key), v != .null, v != .string(expected) {
            throw Failure.unsupported(source, key: key, value: v.brief)
        }
    }

    /// Throws ``ModelConfigError/unknownKey(_:_:)`` for the first key nothing read (keys starting
    /// with `_` are metadata and pass).
    func finish() throws {
        if let extra = unreadKeys.first { throw Failure.unknownKey(source, extra) }
    }
}
