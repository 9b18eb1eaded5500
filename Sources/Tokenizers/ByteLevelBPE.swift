/// Byte-level byte-pair encoding as CLIP uses it (OpenAI's `simple_tokenizer.py`, transformers'
/// `CLIPTokenizer.bpe`): a word's UTF-8 bytes, each written as one printable character, the last
/// one marked with `</w>`, merged pair by pair in the order of `merges.txt`.
///
/// Token strings are compared as Swift `String`s, which treats canonically equivalent strings as
/// equal. That is safe here: byte-level symbols are drawn from ``byteSymbols`` (no combining
/// marks), so two different symbol strings are never canonically equivalent.
struct ByteLevelBPE: Sendable {
    /// CLIP's end-of-word marker, appended to a word's last symbol.
    static let endOfWord = "</w>"

    /// The printable character that stands for each byte (GPT-2's `bytes_to_unicode`): the 188
    /// printable Latin-1 bytes stand for themselves; the other 68 (controls, space, soft hyphen)
    /// take U+0100, U+0101, … in byte order, so no symbol is whitespace or a control character.
    static let byteSymbols: [String] = {
        let printable = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var symbols = [String](repeating: "", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if printable.contains(byte) {
                symbols[byte] = String(Character(Unicode.Scalar(UInt32(byte))!))
            } else {
                symbols[byte] = String(Character(Unicode.Scalar(next)!))
                next += 1
            }
        }
        return symbols
    }()

    /// A pair of adjacent symbols that a merge joins.
    struct Pair: Hashable, Sendable {
        var first: String
        var second: String
    }

    /// Each merge's rank: its position in the merges list (lower merges first). A pair listed twice
    /// keeps its later rank, as transformers' `dict(zip(merges, range(…)))` does.
    let ranks: [Pair: Int]

    init(merges: [(String, String)]) {
        var ranks: [Pair: Int] = [:]
        for (rank, merge) in merges.enumerated() { ranks[Pair(first: merge.0, second: merge.1)] = rank }
        self.ranks = ranks
    }

    /// The symbols of one word (a piece of text the word splitter found), after every merge applies.
    ///
    /// The loop is transformers' `CLIPTokenizer.bpe`: find the adjacent pair with the lowest rank,
    /// join every occurrence of it left to right, repeat until no adjacent pair has a rank.
    func symbols(of word: String) -> [String] {
        var symbols = word.utf8.map { Self.byteSymbols[Int($0)] }
        guard !symbols.isEmpty else { return [] }
        symbols[symbols.count - 1] += Self.endOfWord
        while symbols.count > 1 {
            var best: (rank: Int, pair: Pair)?
            for i in 0..<(symbols.count - 1) {
                let pair = Pair(first: symbols[i], second: symbols[i + 1])
                if let rank = ranks[pair], rank < best?.rank ?? .max { best = (rank, pair) }
            }
            guard let pair = best?.pair else { break }
            var merged: [String] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count && symbols[i] == pair.first && symbols[i + 1] == pair.second {
                    merged.append(pair.first + pair.second)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols
    }
}
