import Testing
@testable import Tokenizers

/// The two clean-ups and the word splitter, on small inputs (the fixtures check them end to end).
@Suite struct TextCleanupTests {
    @Test func basicTokenizerCleanup() {
        #expect(TextCleanup.basicTokenizer("  A\tPhoto\n\nOF  a Cat ") == "a photo of a cat")
        #expect(TextCleanup.basicTokenizer("猫の写真") == "猫 の 写 真")          // ideographs spaced, kana not
        #expect(TextCleanup.basicTokenizer("zero\u{200B}width\u{0}x\u{FFFD}") == "zerowidthx")
        #expect(TextCleanup.basicTokenizer("a\u{000B}b\u{2028}c\u{00A0}d") == "ab c d")
        #expect(TextCleanup.basicTokenizer("cafe\u{301}") == "caf\u{E9}")
        #expect(TextCleanup.basicTokenizer("ΟΔΟΣ ΣΟΦΟΣ Σ Α.Σ") == "οδος σοφος σ α.ς")
        #expect(TextCleanup.basicTokenizer("İ") == "i\u{307}")
    }

    @Test func tokenizersNormalizer() {
        #expect(TextCleanup.tokenizersNormalizer("  A\tPhoto\n\n") == " a photo ")
        #expect(TextCleanup.tokenizersNormalizer("a\u{000B}\u{0085}b\u{200B}") == "a b\u{200B}")
        #expect(TextCleanup.tokenizersNormalizer("ΟΔΟΣ") == "οδοσ")
    }

    @Test func wordSplitterFollowsCLIPsPattern() {
        let words = WordSplitter.words(in: "it's a cat's 3.14 ... héllo!! <|endoftext|>x 'd'", caseInsensitive: true)
        #expect(words == ["it", "'s", "a", "cat", "'s", "3", ".", "1", "4", "...", "héllo", "!!", "<|endoftext|>", "x", "'d", "'"])
        #expect(WordSplitter.words(in: "it'ſ", caseInsensitive: true) == ["it", "'ſ"])
        #expect(WordSplitter.words(in: "it'ſ", caseInsensitive: false) == ["it", "'", "ſ"])
        #expect(WordSplitter.words(in: "q\u{301}²½🐱👍🏽", caseInsensitive: true) == ["q", "\u{301}", "²", "½", "🐱👍🏽"])
        #expect(WordSplitter.words(in: "   ", caseInsensitive: true).isEmpty)
    }
}
