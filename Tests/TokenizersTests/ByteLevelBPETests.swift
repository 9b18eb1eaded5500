import Testing
@testable import Tokenizers

/// Byte symbols and merges applied by rank, on a hand-made vocabulary.
@Suite struct ByteLevelBPETests {
    @Test func byteSymbolsArePrintableAndDistinct() {
        let symbols = ByteLevelBPE.byteSymbols
        #expect(symbols.count == 256 && Set(symbols).count == 256)
        #expect(symbols[Int(UInt8(ascii: "a"))] == "a" && symbols[Int(UInt8(ascii: "!"))] == "!")
        #expect(symbols[32] == "\u{120}")   // space → Ġ, as in GPT-2 and CLIP
        #expect(symbols[0] == "\u{100}" && symbols[173] == "\u{143}")  // the 68 unprintable bytes take U+0100…U+0143
        for symbol in symbols {
            let scalar = symbol.unicodeScalars.first!
            #expect(symbol.unicodeScalars.count == 1 && !scalar.properties.isWhitespace)
        }
    }

    @Test func mergesApplyLowestRankFirst() {
        let lowFirst = ByteLevelBPE(merges: [("l", "o"), ("lo", "w</w>"), ("o", "w</w>")])
        #expect(lowFirst.symbols(of: "low") == ["low</w>"])
        let owFirst = ByteLevelBPE(merges: [("o", "w</w>"), ("l", "o"), ("lo", "w</w>")])
        #expect(owFirst.symbols(of: "low") == ["l", "ow</w>"])
        // Every occurrence of the best pair is joined, left to right, without overlap.
        let aa = ByteLevelBPE(merges: [("a", "a"), ("a", "a</w>")])
        #expect(aa.symbols(of: "aaaaa") == ["aa", "aa", "a</w>"])
        #expect(ByteLevelBPE(merges: []).symbols(of: "é") == ["Ã", "©</w>"])
        #expect(ByteLevelBPE(merges: []).symbols(of: "") == [])
    }

    @Test func tokensCarryWordEndsAndSpecialTokens() throws {
        var vocabulary: [String: Int] = [:]
        for symbol in ByteLevelBPE.byteSymbols { vocabulary[symbol] = vocabulary.count }
        for symbol in ByteLevelBPE.byteSymbols { vocabulary[symbol + "</w>"] = vocabulary.count }
        for token in ["ca", "cat</w>", "<|startoftext|>", "<|endoftext|>"] { vocabulary[token] = vocabulary.count }
        let tokenizer = try CLIPTokenizer(vocabulary: vocabulary, merges: [("c", "a"), ("ca", "t</w>")])
        #expect(tokenizer.tokens("A CAT, a cat!") == ["a</w>", "cat</w>", ",</w>", "a</w>", "cat</w>", "!</w>"])
        #expect(tokenizer.tokens("cats<|endoftext|>") == ["ca", "t", "s</w>", "<|endoftext|>"])
        #expect(tokenizer.encode("cat", length: .truncated) == [tokenizer.startID, vocabulary["cat</w>"]!, tokenizer.endID])
    }
}
