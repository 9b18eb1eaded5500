import Foundation
import Testing
@testable import Tokenizers

/// Token ids equal to transformers' on the fixture strings (punctuation, digits, unicode, extra
/// spaces, special tokens in the text, over-long text), for each way a folder can hold the files.
@Suite struct CLIPTokenizerParityTests {
    /// A fixture folder, the expected_ids.json entry it must reproduce, and the variant.
    struct Case: Sendable, CustomTestStringConvertible {
        var folder: String
        var reference: String
        var variant: CLIPTokenizer.Variant
        var testDescription: String { "\(folder) (\(variant)) = transformers \(reference)" }
    }

    static let cases: [Case] = [
        Case(folder: "sd1", reference: "sd1", variant: .slow), Case(folder: "sd1", reference: "sd1", variant: .fast),
        Case(folder: "sd2", reference: "sd2", variant: .slow), Case(folder: "sd2", reference: "sd2", variant: .fast),
        // tokenizer.json alone (CLIPTokenizerFast.save_pretrained's file; merges as [a, b] pairs).
        Case(folder: "sd1-fast", reference: "sd1", variant: .slow), Case(folder: "sd1-fast", reference: "sd1", variant: .fast),
    ]

    @Test(arguments: cases) func idsEqualTransformers(_ c: Case) throws {
        let expected = try ExpectedIDs.load()
        let tokenizer = try CLIPTokenizer(folder: fixtureURL(c.folder), variant: c.variant)
        try expectIDs(tokenizer, equal: expected, folder: c.reference, variant: c.variant)
    }

    /// 200 seeded random strings from an awkward alphabet (whitespace of every kind, combining
    /// marks, sigma, long s, CJK, emoji, format characters, special-token fragments).
    @Test(arguments: [("sd1", CLIPTokenizer.Variant.slow), ("sd1", .fast), ("sd2", .slow), ("sd2", .fast)])
    func randomStringsEqualTransformers(_ folder: String, _ variant: CLIPTokenizer.Variant) throws {
        struct RandomIDs: Decodable {
            var strings: [String]
            var folders: [String: [String: [[Int]]]]
        }
        let expected = try JSONDecoder().decode(RandomIDs.self, from: Data(contentsOf: fixtureURL("random_ids.json")))
        let ids = try #require(expected.folders[folder]?[variant.rawValue])
        let tokenizer = try CLIPTokenizer(folder: fixtureURL(folder), variant: variant)
        for (text, want) in zip(expected.strings, ids) {
            #expect(tokenizer.encode(text, length: .full) == want, "ids of \(text.debugDescription)")
        }
    }

    /// tokenizer.json with merges written as "a b" strings (tokenizers before 0.20), beside the SD 2
    /// tokenizer_config.json (pad "!"), as transformers 5 saves a folder.
    @Test(arguments: CLIPTokenizer.Variant.allCases) func tokenizerJSONWithStringMergesAndConfig(_ variant: CLIPTokenizer.Variant) throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("sd1-fast/tokenizer.json"))) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        let pairs = try #require(model["merges"] as? [[String]])
        model["merges"] = pairs.map { $0.joined(separator: " ") }
        root["model"] = model
        try JSONSerialization.data(withJSONObject: root).write(to: scratch.url.appendingPathComponent("tokenizer.json"))
        try scratch.copy(fixture: "sd2/tokenizer_config.json")
        let tokenizer = try CLIPTokenizer(folder: scratch.url, variant: variant)
        try expectIDs(tokenizer, equal: try ExpectedIDs.load(), folder: "sd2", variant: variant)
    }

    /// A pipeline folder (model_index.json, tokenizer/, …) can be given instead of its tokenizer/.
    @Test func pipelineFolderUsesItsTokenizerSubfolder() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        try FileManager.default.copyItem(at: fixtureURL("sd2"), to: scratch.url.appendingPathComponent("tokenizer"))
        try scratch.write("model_index.json", "{}")
        let tokenizer = try CLIPTokenizer(folder: scratch.url)
        #expect(tokenizer.specialTokens.padding == "!")
        try expectIDs(tokenizer, equal: try ExpectedIDs.load(), folder: "sd2", variant: .slow)
    }

    /// The strings on which transformers' slow and fast tokenizers disagree are the clean-up cases
    /// ``CLIPTokenizer/Variant`` lists (controls, format characters, CJK, final sigma, long s).
    @Test func slowAndFastDisagreeOnlyOnCleanupCases() throws {
        let expected = try ExpectedIDs.load()
        let differing = Set(try #require(expected.folders["sd1"]).slow_fast_differ.map { expected.strings[$0] })
        #expect(differing.contains("猫の写真"))
        #expect(differing.contains("it'ſ a long s"))
        #expect(!differing.contains("a photo of a cat"))
        #expect(!differing.contains("<|ENDOFTEXT|> upper special"))
        #expect(differing.count == 10)
    }

    private func expectIDs(_ tokenizer: CLIPTokenizer, equal expected: ExpectedIDs, folder: String,
                           variant: CLIPTokenizer.Variant) throws {
        let reference = try #require(expected.folders[folder])
        #expect(tokenizer.maxLength == reference.model_max_length)
        #expect(tokenizer.specialTokens.padding == reference.pad_token)
        for (index, text) in expected.strings.enumerated() {
            let want = reference.encodings(variant)[index]
            #expect(tokenizer.encode(text) == want.padded, "padded ids of \(text.debugDescription)")
            #expect(tokenizer.encode(text, length: .full) == want.unpadded, "ids of \(text.debugDescription)")
        }
    }
}
