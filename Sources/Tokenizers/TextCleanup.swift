import Foundation

/// The text clean-up that runs before CLIP's word splitting, in the two forms transformers has.
enum TextCleanup {
    /// transformers 4's Python `CLIPTokenizer` when `ftfy` is absent: its `BasicTokenizer(
    /// strip_accents=False, do_split_on_punc=False)`, then the words joined by single spaces.
    ///
    /// In order: drop U+0000, U+FFFD and control/format/unassigned characters (category C*) but
    /// turn tab, newline, carriage return and every Zs space into a space; put spaces around CJK
    /// ideographs; NFC; split at Python's whitespace; lower-case each word as Python's
    /// `str.lower` does (full mappings, and a capital sigma at the end of a word becomes `ς`).
    static func basicTokenizer(_ text: String) -> String {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0 || value == 0xFFFD { continue }
            if value == 0x09 || value == 0x0A || value == 0x0D { cleaned.append(" "); continue }
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned: continue
            case .spaceSeparator: cleaned.append(" ")
            default:
                if isCJKIdeograph(value) {
                    cleaned.append(" "); cleaned.append(scalar); cleaned.append(" ")
                } else {
                    cleaned.append(scalar)
                }
            }
        }
        let composed = String(cleaned).precomposedStringWithCanonicalMapping
        let words = composed.unicodeScalars.split(whereSeparator: isPythonWhitespace)
        return words.map { pythonLowercased(Array($0)) }.joined(separator: " ")
    }

    /// The normaliser of `CLIPTokenizerFast` and of transformers 5's `CLIPTokenizer` (the Rust
    /// tokenizers library): NFC, every run of Unicode whitespace becomes one space, then each
    /// character is lower-cased on its own (full mappings, no final-sigma rule). Nothing is removed.
    static func tokenizersNormalizer(_ text: String) -> String {
        let composed = text.precomposedStringWithCanonicalMapping
        var result = ""
        var inSpace = false
        for scalar in composed.unicodeScalars {
            if scalar.properties.isWhitespace {
                if !inSpace { result.unicodeScalars.append(" ") }
                inSpace = true
            } else {
                result += scalar.properties.lowercaseMapping
                inSpace = false
            }
        }
        return result
    }

    /// The CJK Unified Ideograph blocks BERT's `_is_chinese_char` lists (not kana or Hangul).
    static func isCJKIdeograph(_ value: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value)
            || (0x20000...0x2A6DF).contains(value) || (0x2A700...0x2B73F).contains(value)
            || (0x2B740...0x2B81F).contains(value) || (0x2B820...0x2CEAF).contains(value)
            || (0xF900...0xFAFF).contains(value) || (0x2F800...0x2FA1F).contains(value)
    }

    /// Python's `str.isspace`: the White_Space property plus U+001C…U+001F.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// Python's `str.lower` of one word: each character's full lower-case mapping, except that a
    /// capital sigma preceded by a cased letter and not followed by one (case-ignorable characters
    /// skipped both ways) becomes the final form `ς`.
    static func pythonLowercased(_ scalars: [Unicode.Scalar]) -> String {
        var result = ""
        for (i, scalar) in scalars.enumerated() {
            if scalar.value == 0x03A3 {
                result.unicodeScalars.append(isFinalSigma(at: i, in: scalars) ? "\u{03C2}" : "\u{03C3}")
            } else {
                result += scalar.properties.lowercaseMapping
            }
        }
        return result
    }

    private static func isFinalSigma(at index: Int, in scalars: [Unicode.Scalar]) -> Bool {
        let before = scalars[..<index].last { !$0.properties.isCaseIgnorable }
        guard let before, before.properties.isCased else { return false }
        let after = scalars[(index + 1)...].first { !$0.properties.isCaseIgnorable }
        return !(after?.properties.isCased ?? false)
    }
}
