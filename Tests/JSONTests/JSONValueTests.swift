// JSONValue: the strict reader (what config and safetensors readers rely on), equality, literals,
// and the Codable path run manifests and config writers take.

import Foundation
import Testing
@testable import JSON

private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Data(text.utf8)) }

@Suite struct JSONValueTests {
    /// Booleans stay apart from numbers, numbers keep their text, members keep their order and
    /// duplicates (for the reader to name), escapes decode.
    @Test func readerKeepsWhatConfigReadersCheck() throws {
        let v = try parse(#" {"b": 1.50, "a": true, "b": -2e-3, "s": "\u00e9\n\ud83d\ude00", "n": null, "l": [0, false]} "#)
        guard case .object(let members) = v else { Issue.record("not an object: \(v)"); return }
        #expect(members.map(\.key) == ["b", "a", "b", "s", "n", "l"])
        #expect(members[0].value == .number("1.50") && members[2].value == .number("-2e-3"))
        #expect(v["a"] == .bool(true) && v["a"] != .number("1"))
        #expect(v["s"] == .string("é\n😀"))
        #expect(v["n"] == .null && v["missing"] == nil)
        #expect(v["l"] == .array([.number("0"), .bool(false)]))
        #expect(v["b"]?.brief == "1.50" && v["b"]?.doubleValue == 1.5)
    }

    @Test(arguments: [
        ("", "unexpected end of input at byte 0"),
        ("[1,]", "unexpected character at byte 3"),
        ("{\"a\" 1}", "expected ':' at byte 5"),
        ("01", "unexpected data after the JSON value at byte 1"),
        ("1.", "invalid number at byte 2"),
        ("\"a\u{01}\"", "control character in a string at byte 3"),
        ("\"\\ud800\"", "unpaired surrogate in \\u escape at byte 7"),
        ("{} x", "unexpected data after the JSON value at byte 3"),
        (String(repeating: "[", count: 65), "nesting deeper than 64 at byte 64"),
    ])
    func malformedTextNamesTheProblemAndByte(text: String, message: String) {
        #expect(throws: JSONSyntaxError(message: message)) { try parse(text) }
    }

    @Test func numberAccessorsConvertOnlyWhatTheyPromise() {
        #expect(JSONValue.number("24").nonNegativeInt == 24)
        #expect(JSONValue.number("24.0").nonNegativeInt == nil && JSONValue.number("-1").nonNegativeInt == nil)
        #expect(JSONValue.number("1e2").nonNegativeInt == nil && JSONValue.number("99999999999999999999").nonNegativeInt == nil)
        #expect(JSONValue.bool(true).doubleValue == nil && JSONValue.string("1").doubleValue == nil)
        #expect(JSONValue.string("grid").stringValue == "grid" && JSONValue.number("1").stringValue == nil)
    }

    /// Objects compare regardless of member order; numbers compare as written.
    @Test func equalityIgnoresMemberOrderButNotNumberText() {
        let a: JSONValue = ["x": 1, "y": [true, nil]], b: JSONValue = ["y": [true, nil], "x": 1]
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": [true]])
        #expect(JSONValue.number("1") != .number("1.0"))
        #expect(JSONValue(object: ["b": 2, "a": 1]) == .object([(key: "a", value: .int(1)), (key: "b", value: .int(2))]))
        #expect(JSONValue(Float(0.1)) == .double(0.1) && JSONValue.double(0.1) == .number("0.1"))
        #expect(JSONValue(Float.nan) == .string("nan") && JSONValue.double(-.infinity) == .string("-inf"))
    }

    @Test func subscriptSetterReplacesAppendsAndRemoves() {
        var v: JSONValue = ["a": 1, "b": 2]
        v["a"] = "one"
        v["c"] = nil
        v["d"] = [3]
        v["b"] = nil
        #expect(v == ["a": "one", "d": [3]])
        guard case .object(let members) = v else { return }
        #expect(members.map(\.key) == ["a", "d"])
    }

    /// Through Codable: encodables convert, and a value survives JSONEncoder and JSONDecoder.
    @Test func codableRoundTripAndEncodables() throws {
        struct Config: Codable { var steps = 20; var eta: Float = 0.1; var name = "ddim"; var karras = false }
        let value = try JSONValue(encoding: Config())
        #expect(value == ["steps": 20, "eta": 0.1, "name": "ddim", "karras": false])
        let literal: JSONValue = ["a": [1, 2.5, "x", true, nil], "b": ["c": -3]]
        #expect(try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(literal)) == literal)
    }

    /// `encoded()` writes numbers as JSONEncoder writes Int and Double (so `1.0` as `1`), keys
    /// sorted, and non-finite doubles as strings.
    @Test func encodedTextIsSortedAndReadable() throws {
        let v: JSONValue = ["b": 1.0, "a": [.double(.nan), .number("1e-05"), "x/y"], "c": nil]
        #expect(String(decoding: try v.encoded(), as: UTF8.self) == #"{"a":["nan",1e-05,"x\/y"],"b":1,"c":null}"#)
        #expect(try parse(String(decoding: try v.encoded([.prettyPrinted, .sortedKeys]), as: UTF8.self))["b"] == .number("1"))
    }

    @Test func quotedEscapesLikeSerdeJSON() {
        #expect(JSONValue.quoted("a\"b\\c\n\u{01}é") == #""a\"b\\c\n\u0001é""#)
    }
}
