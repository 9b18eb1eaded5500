// Helpers shared by the Tokenizers tests: fixture paths, the recorded transformers ids, scratch folders.

import Foundation
import Testing
@testable import Tokenizers

/// The URL of a committed fixture (see Fixtures/make_fixtures.py).
func fixtureURL(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
}

/// `Fixtures/expected_ids.json`: the strings and, per fixture folder, transformers' ids for each.
struct ExpectedIDs: Decodable, Sendable {
    struct Encoding: Decodable, Sendable {
        /// `tokenizer(text, padding="max_length", max_length=77, truncation=True)["input_ids"]`.
        var padded: [Int]
        /// `tokenizer(text)["input_ids"]`.
        var unpadded: [Int]
    }
    struct Folder: Decodable, Sendable {
        var pad_token: String
        var model_max_length: Int
        var slow: [Encoding]
        var fast: [Encoding]
        var slow_fast_differ: [Int]

        func encodings(_ variant: CLIPTokenizer.Variant) -> [Encoding] { variant == .slow ? slow : fast }
    }
    var transformers: String
    var strings: [String]
    var folders: [String: Folder]

    static func load() throws -> ExpectedIDs {
        try JSONDecoder().decode(ExpectedIDs.self, from: Data(contentsOf: fixtureURL("expected_ids.json")))
    }
}

/// A fresh empty folder under the system temporary directory (removed by `remove()`).
struct ScratchFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    /// Writes `text` to `name` in the folder.
    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }
    /// Copies the fixture file `fixture` (e.g. "sd1/vocab.json") into the folder as `name`.
    func copy(fixture: String, as name: String? = nil) throws {
        let source = try fixtureURL(fixture)
        try FileManager.default.copyItem(at: source, to: url.appendingPathComponent(name ?? source.lastPathComponent))
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The `TokenizerError` that `body` throws, if any.
func tokenizerError(_ body: () throws -> Void) -> TokenizerError? {
    do { try body() } catch let error as TokenizerError { return error } catch {}
    return nil
}
