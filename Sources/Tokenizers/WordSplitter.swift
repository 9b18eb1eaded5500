/// CLIP's word splitting: the pieces that the pattern
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// finds, left to right, as Python's `re.findall` does: at each position the first alternative
/// that matches wins; a position where none matches (whitespace) is skipped. So a word is one of
/// the two special tokens, an English contraction suffix, a run of letters, a single digit, or a
/// run of other non-space characters (punctuation, symbols, marks, emoji).
///
/// Written out over Unicode scalars rather than through `NSRegularExpression`, so letters and
/// numbers are exactly the Unicode general categories L* and N* of Swift's own tables.
enum WordSplitter {
    private static let literals: [[Unicode.Scalar]] = [
        "<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
    ].map { Array($0.unicodeScalars) }

    /// The words of `text`. `caseInsensitive` is transformers 4's `re.IGNORECASE` (Python's
    /// `regex` module): after lower-casing it still lets `ſ` (U+017F, long s) match `s`.
    static func words(in text: String, caseInsensitive: Bool) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        var i = 0
        func take(_ end: Int) {
            var word = String.UnicodeScalarView()
            word.append(contentsOf: scalars[i..<end])
            words.append(String(word))
            i = end
        }
        scan: while i < scalars.count {
            for literal in literals where matches(literal, in: scalars, at: i, caseInsensitive: caseInsensitive) {
                take(i + literal.count)
                continue scan
            }
            let scalar = scalars[i]
            if isLetter(scalar) {
                var end = i + 1
                while end < scalars.count && isLetter(scalars[end]) { end += 1 }
                take(end)
            } else if isNumber(scalar) {
                take(i + 1)
            } else if !scalar.properties.isWhitespace {
                var end = i + 1
                while end < scalars.count && isOther(scalars[end]) { end += 1 }
                take(end)
            } else {
                i += 1
            }
        }
        return words
    }

    private static func matches(_ literal: [Unicode.Scalar], in scalars: [Unicode.Scalar], at start: Int,
                                caseInsensitive: Bool) -> Bool {
        guard start + literal.count <= scalars.count else { return false }
        for (offset, expected) in literal.enumerated() {
            let actual = scalars[start + offset]
            if actual == expected { continue }
            guard caseInsensitive, sameIgnoringCase(actual, expected) else { return false }
        }
        return true
    }

    /// Simple case folding for the pattern's lower-case ASCII letters: upper case, the Kelvin
    /// sign (folds to k) and the long s (folds to s).
    private static func sameIgnoringCase(_ actual: Unicode.Scalar, _ expected: Unicode.Scalar) -> Bool {
        if actual.value == 0x017F { return expected == "s" }
        return actual.properties.lowercaseMapping == String(expected)
    }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    private static func isOther(_ scalar: Unicode.Scalar) -> Bool {
        !scalar.properties.isWhitespace && !isLetter(scalar) && !isNumber(scalar)
    }
}
