import Foundation

extension CLIPTokenizer {
    /// Reads a tokenizer folder as transformers' `CLIPTokenizer.from_pretrained` does.
    ///
    /// `folder` is a pipeline's `tokenizer/` folder, or the pipeline folder itself (its
    /// `tokenizer/` is used when `folder` holds no vocabulary). Files read:
    /// - `vocab.json` + `merges.txt` (what released Stable Diffusion folders ship), or, when they
    ///   are not both there, `tokenizer.json` (the fast-tokenizer file transformers 5 saves alone:
    ///   `model.vocab`, `model.merges` as `"a b"` strings or `["a", "b"]` pairs, `added_tokens`);
    /// - `tokenizer_config.json`, if present: `model_max_length` (2 to 65,536; 77 when absent or
    ///   set to transformers' "no limit" placeholder, 1e30), `bos_token`, `eos_token`, `unk_token`,
    ///   `pad_token` (text or `{"content": …}`) and `added_tokens_decoder`;
    /// - `special_tokens_map.json`, if present and `tokenizer_config.json` has no
    ///   `added_tokens_decoder`: its token keys override the config's, as in transformers.
    ///
    /// As in transformers, the first line of `merges.txt` is its `#version` header and is
    /// skipped whatever it holds, and at most 48,894 merges are read from it.
    ///
    /// ```swift
    /// let tok = try CLIPTokenizer(folder: URL(fileURLWithPath: "sd-1.5/tokenizer"))
    /// let ids = tok.encode("a photo of a cat")   // 77 ids
    /// ```
    /// - Throws: ``TokenizerError``, naming the file (and key or line) that is missing or wrong.
    public init(folder: URL, variant: Variant = .slow) throws {
        let folder = TokenizerFiles.tokenizerFolder(in: folder)
        let configuration = try TokenizerFiles.readConfiguration(in: folder)
        let vocabURL = folder.appendingPathComponent("vocab.json")
        let mergesURL = folder.appendingPathComponent("merges.txt")
        let fastURL = folder.appendingPathComponent("tokenizer.json")
        let model: TokenizerFiles.Model
        if TokenizerFiles.exists(vocabURL) && TokenizerFiles.exists(mergesURL) {
            model = TokenizerFiles.Model(vocabulary: try TokenizerFiles.readVocabulary(vocabURL),
                                         merges: try TokenizerFiles.readMergesText(mergesURL),
                                         addedTokens: [], vocabularyFile: vocabURL.path)
        } else if TokenizerFiles.exists(fastURL) {
            model = try TokenizerFiles.readTokenizerJSON(fastURL)
        } else {
            let missing = TokenizerFiles.exists(vocabURL) ? ["merges.txt", "tokenizer.json"]
                : TokenizerFiles.exists(mergesURL) ? ["vocab.json", "tokenizer.json"]
                : ["vocab.json + merges.txt", "tokenizer.json"]
            throw TokenizerError.missingFiles(folder: folder.path, missing: missing)
        }
        var added = configuration.addedTokens
        for token in model.addedTokens where !added.contains(where: { $0.content == token.content }) { added.append(token) }
        try self.init(vocabulary: model.vocabulary, merges: model.merges, addedTokens: added,
                      specialTokens: configuration.specialTokens, maxLength: configuration.maxLength, variant: variant,
                      tokenFiles: configuration.tokenFiles, vocabularyFile: model.vocabularyFile)
    }
}

/// Reading the files of a transformers tokenizer folder.
enum TokenizerFiles {
    /// What `vocab.json` + `merges.txt` or `tokenizer.json` hold.
    struct Model {
        var vocabulary: [String: Int]
        var merges: [(String, String)]
        var addedTokens: [AddedTokens.Token]
        var vocabularyFile: String
    }

    /// What `tokenizer_config.json` and `special_tokens_map.json` say.
    struct Configuration {
        var specialTokens = CLIPTokenizer.SpecialTokens()
        var addedTokens: [AddedTokens.Token] = []
        var maxLength = 77
        /// The file that set each key, for error messages.
        var tokenFiles: [String: String] = [:]
    }

    /// transformers 4 reads merges.txt lines 1 up to 49152 − 256 − 2 (CLIP's vocabulary size
    /// less the byte symbols and the two special tokens).
    static let maximumMergeLines = 49152 - 256 - 2

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// `folder`, or its `tokenizer/` subfolder when `folder` is a pipeline folder.
    static func tokenizerFolder(in folder: URL) -> URL {
        let own = ["vocab.json", "merges.txt", "tokenizer.json"].contains { exists(folder.appendingPathComponent($0)) }
        let sub = folder.appendingPathComponent("tokenizer")
        var isDirectory: ObjCBool = false
        if !own && FileManager.default.fileExists(atPath: sub.path, isDirectory: &isDirectory) && isDirectory.boolValue {
            return sub
        }
        return folder
    }

    // MARK: - Files

    /// `vocab.json`: an object from token text to id.
    static func readVocabulary(_ url: URL) throws -> [String: Int] {
        let object = try readJSONObject(url)
        return try vocabulary(object, file: url.path, key: nil)
    }

    /// `merges.txt`: a `#version` header line, then one merge per line, `first second`.
    static func readMergesText(_ url: URL) throws -> [(String, String)] {
        let text = try readText(url)
        // Python's `read().strip().split("\n")[1:…]`; line numbers count from the file's first line.
        let scalars = Array(text.unicodeScalars)
        var start = 0, end = scalars.count, lineNumber = 1
        while start < end && isSpace(scalars[start]) {
            if scalars[start] == "\n" { lineNumber += 1 }
            start += 1
        }
        while end > start && isSpace(scalars[end - 1]) { end -= 1 }
        let lines = scalars[start..<end].split(separator: "\n", omittingEmptySubsequences: false)
        var merges: [(String, String)] = []
        for (index, line) in lines.enumerated().dropFirst().prefix(maximumMergeLines) {
            let parts = line.split(whereSeparator: isSpace).map { part -> String in
                var view = String.UnicodeScalarView()
                view.append(contentsOf: part)
                return String(view)
            }
            if parts.isEmpty { continue }
            guard parts.count == 2 else {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: line)
                throw TokenizerError.invalidMerge(file: url.path, line: lineNumber + index, text: String(view))
            }
            merges.append((parts[0], parts[1]))
        }
        return merges
    }

    /// `tokenizer.json`: `model` (a BPE with `vocab` and `merges`) and `added_tokens`.
    static func readTokenizerJSON(_ url: URL) throws -> Model {
        let file = url.path
        let root = try readJSONObject(url)
        guard let modelValue = root["model"] else { throw TokenizerError.missingKey(file: file, key: "model") }
        guard let model = modelValue as? [String: Any] else {
            throw TokenizerError.invalidValue(file: file, key: "model", value: describe(modelValue), expected: "an object")
        }
        if let type = model["type"], !(type is NSNull) {
            guard let name = type as? String, name == "BPE" else {
                throw TokenizerError.invalidValue(file: file, key: "model.type", value: describe(type), expected: "\"BPE\" (CLIP's model)")
            }
        }
        if let suffix = model["end_of_word_suffix"], !(suffix is NSNull) {
            guard let text = suffix as? String, text == ByteLevelBPE.endOfWord else {
                throw TokenizerError.invalidValue(file: file, key: "model.end_of_word_suffix", value: describe(suffix),
                                                  expected: "\"</w>\" (CLIP's word end)")
            }
        }
        guard let vocabValue = model["vocab"] else { throw TokenizerError.missingKey(file: file, key: "model.vocab") }
        guard let vocabObject = vocabValue as? [String: Any] else {
            throw TokenizerError.invalidValue(file: file, key: "model.vocab", value: describe(vocabValue), expected: "an object from token to id")
        }
        let vocabulary = try vocabulary(vocabObject, file: file, key: "model.vocab")
        guard let mergesValue = model["merges"] else { throw TokenizerError.missingKey(file: file, key: "model.merges") }
        guard let mergeList = mergesValue as? [Any] else {
            throw TokenizerError.invalidValue(file: file, key: "model.merges", value: describe(mergesValue), expected: "an array")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeList.count)
        for (index, entry) in mergeList.enumerated() {
            if let text = entry as? String {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw TokenizerError.invalidMerge(file: file, line: index, text: text)
                }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = entry as? [Any], pair.count == 2, let first = pair[0] as? String, let second = pair[1] as? String {
                merges.append((first, second))
            } else {
                throw TokenizerError.invalidMerge(file: file, line: index, text: describe(entry))
            }
        }
        var added: [AddedTokens.Token] = []
        if let list = root["added_tokens"], !(list is NSNull) {
            guard let entries = list as? [Any] else {
                throw TokenizerError.invalidValue(file: file, key: "added_tokens", value: describe(list), expected: "an array")
            }
            for (index, entry) in entries.enumerated() {
                guard let token = entry as? [String: Any], let content = token["content"] as? String,
                      let idValue = token["id"], let id = integer(idValue), id >= 0 else {
                    throw TokenizerError.invalidValue(file: file, key: "added_tokens[\(index)]", value: describe(entry),
                                                      expected: "an object with a string \"content\" and an integer \"id\"")
                }
                added.append(.init(content: content, id: id, normalized: token["normalized"] as? Bool ?? false))
            }
        }
        return Model(vocabulary: vocabulary, merges: merges, addedTokens: added, vocabularyFile: file)
    }

    /// `tokenizer_config.json` and `special_tokens_map.json`, each optional.
    static func readConfiguration(in folder: URL) throws -> Configuration {
        var configuration = Configuration()
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let mapURL = folder.appendingPathComponent("special_tokens_map.json")
        var hasAddedTokensDecoder = false
        if exists(configURL) {
            let object = try readJSONObject(configURL)
            try applyTokens(object, file: configURL.path, to: &configuration)
            if let value = object["model_max_length"], !(value is NSNull) {
                configuration.maxLength = try maxLength(value, file: configURL.path)
                configuration.tokenFiles["model_max_length"] = configURL.path
            }
            if let decoder = object["added_tokens_decoder"], !(decoder is NSNull) {
                hasAddedTokensDecoder = true
                guard let entries = decoder as? [String: Any] else {
                    throw TokenizerError.invalidValue(file: configURL.path, key: "added_tokens_decoder", value: describe(decoder),
                                                      expected: "an object from id to token")
                }
                for (key, entry) in entries.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
                    guard let id = Int(key), id >= 0, let token = entry as? [String: Any], let content = token["content"] as? String else {
                        throw TokenizerError.invalidValue(file: configURL.path, key: "added_tokens_decoder.\(key)", value: describe(entry),
                                                          expected: "an object with a string \"content\", under an integer id")
                    }
                    configuration.addedTokens.append(.init(content: content, id: id, normalized: token["normalized"] as? Bool ?? true))
                }
            }
        }
        if exists(mapURL) && !hasAddedTokensDecoder {
            try applyTokens(try readJSONObject(mapURL), file: mapURL.path, to: &configuration)
        }
        return configuration
    }

    /// The special-token keys of a config object: text, `{"content": …}`, or null (keep the default).
    private static func applyTokens(_ object: [String: Any], file: String, to configuration: inout Configuration) throws {
        let keys: [(String, WritableKeyPath<CLIPTokenizer.SpecialTokens, String>)] =
            [("bos_token", \.start), ("eos_token", \.end), ("unk_token", \.unknown), ("pad_token", \.padding)]
        for (key, path) in keys {
            guard let value = object[key], !(value is NSNull) else { continue }
            let content: String
            if let text = value as? String {
                content = text
            } else if let token = value as? [String: Any], let text = token["content"] as? String {
                content = text
            } else {
                throw TokenizerError.invalidValue(file: file, key: key, value: describe(value), expected: "a token text or {\"content\": …}")
            }
            configuration.specialTokens[keyPath: path] = content
            configuration.tokenFiles[key] = file
        }
    }

    /// The most tokens a `model_max_length` may ask for (CLIP's text models take 77).
    static let largestMaxLength = 65_536

    private static func maxLength(_ value: Any, file: String) throws -> Int {
        let expected = "an integer from 2 to \(largestMaxLength)"
        guard !isBoolean(value), let number = value as? NSNumber else {
            throw TokenizerError.invalidValue(file: file, key: "model_max_length", value: describe(value), expected: expected)
        }
        let double = number.doubleValue
        if double >= 1e18 { return 77 }  // transformers' VERY_LARGE_INTEGER (1e30): no length was saved.
        guard double >= 2, double <= Double(largestMaxLength), double == double.rounded() else {
            throw TokenizerError.invalidValue(file: file, key: "model_max_length", value: describe(value), expected: expected)
        }
        return Int(double)
    }

    // MARK: - Helpers

    private static func vocabulary(_ object: [String: Any], file: String, key: String?) throws -> [String: Int] {
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(object.count)
        for (token, value) in object {
            guard let id = integer(value), id >= 0 else {
                throw TokenizerError.invalidValue(file: file, key: key.map { "\($0).\(token)" } ?? token, value: describe(value),
                                                  expected: "a non-negative integer id")
            }
            vocabulary[token] = id
        }
        return vocabulary
    }

    /// Whether a JSONSerialization value is `true` or `false` (Foundation gives them as an
    /// `NSNumber` subclass, and `0 is Bool` holds for plain numbers on Linux).
    private static func isBoolean(_ value: Any) -> Bool {
        type(of: value) == Bool.self || String(describing: type(of: value)).contains("Boolean")
    }

    private static func integer(_ value: Any) -> Int? {
        if isBoolean(value) { return nil }
        if let int = value as? Int { return int }
        if let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 1e15 {
            return number.intValue
        }
        return nil
    }

    private static func readText(_ url: URL) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.unreadable(file: url.path, reason: "not UTF-8 text")
        }
        return text
    }

    private static func readJSONObject(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError.invalidJSON(file: url.path, reason: error.localizedDescription)
        }
        guard let dictionary = object as? [String: Any] else {
            throw TokenizerError.invalidJSON(file: url.path, reason: "the top level is \(describe(object)), not an object")
        }
        return dictionary
    }

    /// Python's `str.isspace`, which `strip()` and `split()` use.
    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool { TextCleanup.isPythonWhitespace(scalar) }

    /// A short description of a JSON value for error messages.
    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let text as String: return "\"\(text.prefix(40))\""
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case let number as NSNumber: return isBoolean(value) ? String(number.boolValue) : number.stringValue
        default: return String(describing: value).prefix(40).description
        }
    }
}
