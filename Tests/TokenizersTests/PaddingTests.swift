import Foundation
import Testing
@testable import Tokenizers

/// Padding to `model_max_length` with the configured pad token, truncation that keeps the end
/// token, and the unpadded forms.
@Suite struct PaddingTests {
    @Test func padsToMaxLengthWithTheConfiguredPadToken() throws {
        let sd1 = try CLIPTokenizer(folder: fixtureURL("sd1"))
        let sd2 = try CLIPTokenizer(folder: fixtureURL("sd2"))
        #expect(sd1.padID == sd1.endID)
        #expect(sd2.padID == sd2.vocabulary["!"])
        for tokenizer in [sd1, sd2] {
            let short = tokenizer.encode("a photo of a cat", length: .truncated)
            let padded = tokenizer.encode("a photo of a cat")
            #expect(short.count == tokenizer.tokens("a photo of a cat").count + 2)
            #expect(short.first == tokenizer.startID && short.last == tokenizer.endID)
            #expect(padded.count == 77)
            #expect(Array(padded.prefix(short.count)) == short)
            #expect(padded.dropFirst(short.count).allSatisfy { $0 == tokenizer.padID })
            #expect(tokenizer.encode("") == [tokenizer.startID, tokenizer.endID] + Array(repeating: tokenizer.padID, count: 75))
        }
    }

    @Test func truncationKeepsStartAndEnd() throws {
        let tokenizer = try CLIPTokenizer(folder: fixtureURL("sd1"))
        let a = try #require(tokenizer.vocabulary["a</w>"])
        let exactly = String(repeating: "a ", count: 75)  // 75 words: start + 75 + end = 77
        #expect(tokenizer.encode(exactly) == [tokenizer.startID] + Array(repeating: a, count: 75) + [tokenizer.endID])
        #expect(tokenizer.encode(exactly, length: .full) == tokenizer.encode(exactly))

        let long = String(repeating: "a ", count: 200)
        #expect(tokenizer.encode(long) == tokenizer.encode(exactly))
        #expect(tokenizer.encode(long, length: .truncated) == tokenizer.encode(exactly))
        let full = tokenizer.encode(long, length: .full)
        #expect(full.count == 202)
        #expect(full.last == tokenizer.endID)
    }

    @Test func maxLengthComesFromTheConfig() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        try scratch.copy(fixture: "sd1/vocab.json")
        try scratch.copy(fixture: "sd1/merges.txt")
        try scratch.write("tokenizer_config.json", #"{"model_max_length": 8, "pad_token": "!"}"#)
        let tokenizer = try CLIPTokenizer(folder: scratch.url)
        #expect(tokenizer.maxLength == 8)
        let ids = tokenizer.encode("a photo of a cat on a mat")
        #expect(ids.count == 8)
        #expect(ids.last == tokenizer.endID)
        #expect(tokenizer.encode("a") == [tokenizer.startID, tokenizer.vocabulary["a</w>"]!, tokenizer.endID]
                    + Array(repeating: tokenizer.vocabulary["!"]!, count: 5))

        // transformers writes 1e30 when no length is known: CLIP's 77 then.
        try scratch.write("tokenizer_config.json", #"{"model_max_length": 1000000000000000019884624838656}"#)
        #expect(try CLIPTokenizer(folder: scratch.url).maxLength == 77)
        // No config at all: CLIP's tokens and 77.
        try FileManager.default.removeItem(at: scratch.url.appendingPathComponent("tokenizer_config.json"))
        let plain = try CLIPTokenizer(folder: scratch.url)
        #expect(plain.maxLength == 77)
        #expect(plain.specialTokens == .stableDiffusion1)
    }

    /// special_tokens_map.json overrides tokenizer_config.json's tokens unless the config has
    /// added_tokens_decoder (transformers' legacy rule).
    @Test func specialTokensMapOverridesALegacyConfig() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        try scratch.copy(fixture: "sd1/vocab.json")
        try scratch.copy(fixture: "sd1/merges.txt")
        try scratch.write("tokenizer_config.json", #"{"model_max_length": 77, "pad_token": "<|endoftext|>"}"#)
        try scratch.write("special_tokens_map.json", #"{"pad_token": "!", "bos_token": {"content": "<|startoftext|>", "normalized": true}}"#)
        #expect(try CLIPTokenizer(folder: scratch.url).specialTokens == .stableDiffusion2)
        try scratch.write("tokenizer_config.json", #"{"pad_token": "<|endoftext|>", "added_tokens_decoder": {}}"#)
        #expect(try CLIPTokenizer(folder: scratch.url).specialTokens == .stableDiffusion1)
    }

    @Test func vocabularyInitialiserMatchesTheFolder() throws {
        let folder = try CLIPTokenizer(folder: fixtureURL("sd2"))
        let text = try String(contentsOf: fixtureURL("sd2/merges.txt"), encoding: .utf8)
        let merges = text.split(separator: "\n").dropFirst().map { line -> (String, String) in
            let parts = line.split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        }
        let built = try CLIPTokenizer(vocabulary: folder.vocabulary, merges: merges, specialTokens: .stableDiffusion2)
        let expected = try ExpectedIDs.load()
        for text in expected.strings {
            #expect(built.encode(text) == folder.encode(text), "\(text.debugDescription)")
        }
    }
}
