import Foundation
import Testing
@testable import Tokenizers

/// Missing and corrupt tokenizer files give errors that name the file, and the key or line.
@Suite struct TokenizerFileErrorTests {
    /// A scratch folder with the SD 1 fixture files, then `edit` applied; the error loading it.
    func error(files: [String] = ["vocab.json", "merges.txt", "tokenizer_config.json"],
               _ edit: (ScratchFolder) throws -> Void) throws -> TokenizerError? {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        for file in files { try scratch.copy(fixture: file == "tokenizer.json" ? "sd1-fast/\(file)" : "sd1/\(file)") }
        try edit(scratch)
        return tokenizerError { _ = try CLIPTokenizer(folder: scratch.url) }
    }

    @Test func missingFilesAreNamed() throws {
        let empty = try #require(try error(files: []) { _ in })
        guard case .missingFiles(_, let missing) = empty else { Issue.record("got \(empty)"); return }
        #expect(missing == ["vocab.json + merges.txt", "tokenizer.json"])
        #expect(empty.description.contains("no vocab.json + merges.txt or tokenizer.json"))

        let noMerges = try #require(try error(files: ["vocab.json"]) { _ in })
        #expect(noMerges.description.contains("no merges.txt or tokenizer.json"))
        let noVocab = try #require(try error(files: ["merges.txt"]) { _ in })
        #expect(noVocab.description.contains("no vocab.json or tokenizer.json"))
    }

    @Test func corruptVocabularyNamesTheFile() throws {
        let notJSON = try #require(try error { try $0.write("vocab.json", "{\"a\": 1,") })
        guard case .invalidJSON(let file, _) = notJSON else { Issue.record("got \(notJSON)"); return }
        #expect(file.hasSuffix("/vocab.json"))

        let array = try #require(try error { try $0.write("vocab.json", "[1, 2]") })
        #expect(array.description.contains("vocab.json") && array.description.contains("not a JSON object"))

        let badID = try #require(try error { try $0.write("vocab.json", #"{"a": "one", "b": 2}"#) })
        guard case .invalidValue(let badFile, let key, _, _) = badID else { Issue.record("got \(badID)"); return }
        #expect(badFile.hasSuffix("/vocab.json") && key == "a")
        let negative = try #require(try error { try $0.write("vocab.json", #"{"a": -1}"#) })
        #expect(negative.description.contains("'a' is -1"))
    }

    @Test func badMergeLineNamesFileAndLine() throws {
        let e = try #require(try error { try $0.write("merges.txt", "#version: 0.2\nt h\ni n\nthree symbols here\n") })
        #expect(e == .invalidMerge(file: e.fileForTest, line: 4, text: "three symbols here"))
        #expect(e.fileForTest.hasSuffix("/merges.txt"))
        #expect(e.description.contains("merges.txt' line 4"))
    }

    @Test func specialTokenMissingFromVocabularyNamesConfigKey() throws {
        let e = try #require(try error { try $0.write("tokenizer_config.json", #"{"pad_token": "<pad>"}"#) })
        guard case .unknownToken(let file, let key, let token) = e else { Issue.record("got \(e)"); return }
        #expect(file.hasSuffix("/tokenizer_config.json") && key == "pad_token" && token == "<pad>")

        let fromVocab = try #require(try error(files: ["merges.txt"]) { scratch in
            try scratch.write("vocab.json", #"{"a": 0, "<|endoftext|>": 1}"#)
        })
        guard case .unknownToken(let vocabFile, "bos_token", "<|startoftext|>") = fromVocab else { Issue.record("got \(fromVocab)"); return }
        #expect(vocabFile.hasSuffix("/vocab.json"))
    }

    @Test func badConfigValuesNameFileAndKey() throws {
        let length = try #require(try error { try $0.write("tokenizer_config.json", #"{"model_max_length": "77"}"#) })
        guard case .invalidValue(let file, "model_max_length", _, _) = length else { Issue.record("got \(length)"); return }
        #expect(file.hasSuffix("/tokenizer_config.json"))
        let tooShort = try #require(try error { try $0.write("tokenizer_config.json", #"{"model_max_length": 1}"#) })
        #expect(tooShort.description.contains("model_max_length"))
        let tooLong = try #require(try error { try $0.write("tokenizer_config.json", #"{"model_max_length": 500000000}"#) })
        #expect(tooLong.description.contains("'model_max_length' is 500000000, expected an integer from 2 to 65536"))
        let token = try #require(try error { try $0.write("tokenizer_config.json", #"{"eos_token": 5}"#) })
        #expect(token.description.contains("tokenizer_config.json") && token.description.contains("'eos_token'"))
        let corrupt = try #require(try error {
            try $0.write("tokenizer_config.json", #"{"model_max_length": 77}"#)   // no added_tokens_decoder: the map is read
            try $0.write("special_tokens_map.json", "pad_token: !")
        })
        #expect(corrupt.description.contains("special_tokens_map.json"))
    }

    @Test func corruptTokenizerJSONNamesTheKey() throws {
        func edited(_ change: @escaping (inout [String: Any]) -> Void) throws -> TokenizerError? {
            try error(files: ["tokenizer.json"]) { scratch in
                let url = scratch.url.appendingPathComponent("tokenizer.json")
                var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
                change(&root)
                try JSONSerialization.data(withJSONObject: root).write(to: url)
            }
        }
        func model(_ change: @escaping (inout [String: Any]) -> Void) throws -> TokenizerError? {
            try edited { root in
                var model = root["model"] as! [String: Any]
                change(&model)
                root["model"] = model
            }
        }
        #expect(try edited { $0["model"] = nil }.map { $0.description.contains("tokenizer.json': key 'model' is missing") } == true)
        let noVocab = try #require(try model { $0["vocab"] = nil })
        guard case .missingKey(let file, "model.vocab") = noVocab else { Issue.record("got \(noVocab)"); return }
        #expect(file.hasSuffix("/tokenizer.json"))
        let noMerges = try #require(try model { $0["merges"] = nil })
        #expect(noMerges.description.contains("'model.merges' is missing"))
        let badPair = try #require(try model { $0["merges"] = [["t", "h"], [1, 2]] })
        guard case .invalidMerge(_, 1, _) = badPair else { Issue.record("got \(badPair)"); return }
        let badString = try #require(try model { $0["merges"] = ["t h", "th"] })
        guard case .invalidMerge(_, 1, "th") = badString else { Issue.record("got \(badString)"); return }
        let wordPiece = try #require(try model { $0["type"] = "WordPiece" })
        #expect(wordPiece.description.contains("'model.type' is \"WordPiece\""))
        let suffix = try #require(try model { $0["end_of_word_suffix"] = "##" })
        #expect(suffix.description.contains("model.end_of_word_suffix"))
        let vocabID = try #require(try model { $0["vocab"] = ["a": true] })
        #expect(vocabID.description.contains("'model.vocab.a' is true"))
        let notJSON = try #require(try error(files: []) { try $0.write("tokenizer.json", "\u{FF}\u{FE}") })
        #expect(notJSON.description.contains("tokenizer.json"))
    }

    @Test func unreadableMergesFileIsNamed() throws {
        let e = try #require(try error { scratch in
            try Data([0x23, 0xFF, 0xFE, 0x0A]).write(to: scratch.url.appendingPathComponent("merges.txt"))
        })
        guard case .unreadable(let file, _) = e else { Issue.record("got \(e)"); return }
        #expect(file.hasSuffix("/merges.txt"))
    }
}

extension TokenizerError {
    /// The file an error names (for comparing whole errors whose scratch path is not known in advance).
    var fileForTest: String {
        switch self {
        case let .missingFiles(folder, _): return folder
        case let .unreadable(file, _), let .invalidJSON(file, _), let .missingKey(file, _),
             let .invalidValue(file, _, _, _), let .invalidMerge(file, _, _), let .unknownToken(file, _, _):
            return file
        }
    }
}
