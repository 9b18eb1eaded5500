/// Tokens matched in the text before any clean-up and kept whole with their own ids: the special
/// tokens (`<|startoftext|>`, `<|endoftext|>`, and the pad token, so SD 2.x's `!` is always a
/// token of its own) and any other added tokens the configuration lists.
struct AddedTokens: Sendable {
    /// One added token: its text, id, and whether the fast tokenizer matches it after
    /// normalisation (lower-cased text) rather than in the raw text.
    struct Token: Sendable, Equatable {
        var content: String
        var id: Int
        var normalized: Bool
    }

    /// A stretch of text, or an added token found in it.
    enum Segment: Equatable {
        case text(String)
        case token(content: String, id: Int)
    }

    let tokens: [Token]
    private let ids: [String: Int]
    private let patterns: [(scalars: [Unicode.Scalar], token: Token)]

    init(_ tokens: [Token]) {
        self.tokens = tokens
        ids = Dictionary(tokens.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first })
        patterns = tokens.filter { !$0.content.isEmpty }.map { (Array($0.content.unicodeScalars), $0) }
    }

    /// The id of an added token, if `content` is one.
    func id(of content: String) -> Int? { ids[content] }

    /// `text` cut at each occurrence of an added token (the leftmost first, the longest where two
    /// start at the same place, as transformers' trie does). `normalized` chooses which tokens take
    /// part: nil all of them, otherwise those whose `normalized` flag equals it. Empty stretches
    /// of text are left out.
    func split(_ text: String, normalized: Bool? = nil) -> [Segment] {
        let candidates = patterns.filter { normalized == nil || $0.token.normalized == normalized }
        guard !candidates.isEmpty else { return text.isEmpty ? [] : [.text(text)] }
        let scalars = Array(text.unicodeScalars)
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        func flushText(upTo end: Int) {
            guard end > textStart else { return }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[textStart..<end])
            segments.append(.text(String(view)))
        }
        while i < scalars.count {
            var best: (length: Int, token: Token)?
            for pattern in candidates where pattern.scalars.count > (best?.length ?? 0) {
                let end = i + pattern.scalars.count
                if end <= scalars.count && scalars[i..<end].elementsEqual(pattern.scalars) {
                    best = (pattern.scalars.count, pattern.token)
                }
            }
            if let best {
                flushText(upTo: i)
                segments.append(.token(content: best.token.content, id: best.token.id))
                i += best.length
                textStart = i
            } else {
                i += 1
            }
        }
        flushText(upTo: scalars.count)
        return segments
    }
}
