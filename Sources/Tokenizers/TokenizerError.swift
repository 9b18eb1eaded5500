import Foundation

/// Why a tokenizer folder could not be read. Every message names the file, and the key or line
/// where there is one.
///
/// ```swift
/// do { _ = try CLIPTokenizer(folder: url) }
/// catch let e as TokenizerError { print(e) }   // e.g. "tokenizer file '…/merges.txt' line 7: expected two symbols, found 'a b c'"
/// ```
public enum TokenizerError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The folder holds neither `vocab.json` + `merges.txt` nor `tokenizer.json`.
    case missingFiles(folder: String, missing: [String])
    /// The file exists but could not be read as UTF-8 text.
    case unreadable(file: String, reason: String)
    /// The file is not JSON, or not a JSON object.
    case invalidJSON(file: String, reason: String)
    /// A required key is absent (`key` is a dotted path such as `model.vocab`).
    case missingKey(file: String, key: String)
    /// A key holds a value of the wrong type, out of range or unsupported.
    case invalidValue(file: String, key: String, value: String, expected: String)
    /// A merge is not two symbols (`line` counts from 1 in `merges.txt`, entries from 0 in `tokenizer.json`).
    case invalidMerge(file: String, line: Int, text: String)
    /// A special token the configuration names has no id in the vocabulary.
    case unknownToken(file: String, key: String, token: String)

    public var description: String {
        switch self {
        case let .missingFiles(folder, missing):
            return "tokenizer folder '\(folder)': no \(missing.joined(separator: " or ")) (HINT: point at a diffusers pipeline's tokenizer/ folder or the pipeline folder itself)"
        case let .unreadable(file, reason): return "cannot read tokenizer file '\(file)': \(reason)"
        case let .invalidJSON(file, reason): return "tokenizer file '\(file)': not a JSON object: \(reason)"
        case let .missingKey(file, key): return "tokenizer file '\(file)': key '\(key)' is missing"
        case let .invalidValue(file, key, value, expected):
            return "tokenizer file '\(file)': '\(key)' is \(value), expected \(expected)"
        case let .invalidMerge(file, line, text):
            return "tokenizer file '\(file)' line \(line): expected two symbols separated by a space, found '\(text)'"
        case let .unknownToken(file, key, token):
            return "tokenizer file '\(file)': '\(key)' is '\(token)', which is not in the vocabulary"
        }
    }

    public var errorDescription: String? { description }
}
