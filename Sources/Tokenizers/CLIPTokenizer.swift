/// CLIP's text tokenizer, as Stable Diffusion pipelines use it: the ids transformers'
/// `CLIPTokenizer` gives, from the same `tokenizer/` folder.
///
/// ```swift
/// let tok = try CLIPTokenizer(folder: pipelineURL.appendingPathComponent("tokenizer"))
/// let ids: [Int] = tok.encode("a photo of a cat")           // 77 ids: start, words, end, padding
/// let short = tok.encode("a photo of a cat", length: .truncated)   // [start, a, photo, of, a, cat, end]
/// ```
///
/// What `encode` does, step by step (transformers 4's Python `CLIPTokenizer` without `ftfy`):
/// 1. cut the text at added tokens (`<|startoftext|>`, `<|endoftext|>`, the pad token), which
///    keep their own ids;
/// 2. clean the rest: control characters dropped, whitespace made single spaces, spaces around
///    CJK ideographs, NFC, lower case (``Variant`` describes the fast tokenizer's version);
/// 3. split it into words with CLIP's pattern (letter runs, single digits, punctuation runs,
///    contractions such as `'s`);
/// 4. write each word's UTF-8 bytes as byte symbols, mark the last with `</w>`, and apply the
///    merges by rank (byte-pair encoding);
/// 5. look the symbols up in the vocabulary, add the start and end ids, cut to ``maxLength``
///    and pad with the pad token's id.
public struct CLIPTokenizer: Sendable {
    /// Which of transformers' two CLIP tokenizers to equal. They agree on ordinary prompts and
    /// differ only in clean-up, on rare input.
    public enum Variant: String, Sendable, CaseIterable {
        /// transformers 4's Python `CLIPTokenizer` without `ftfy` (what diffusers' pipelines ran
        /// with transformers 4): drops control and format characters (U+200B, U+200D in emoji
        /// sequences, a BOM, U+FFFD), spaces out CJK ideographs, writes a word-final capital sigma
        /// as `ς`, and matches contractions case-insensitively (`'ſ` counts as `'s`).
        case slow
        /// `CLIPTokenizerFast`, which is transformers 5's `CLIPTokenizer` (the Rust tokenizers
        /// library): keeps every character, treats all Unicode whitespace (U+000B, U+000C, U+0085
        /// too) as spaces, lower-cases each character on its own.
        case fast
    }

    /// How long ``encode(_:length:)`` makes the id list.
    public enum Length: Sendable, Equatable {
        /// Cut to ``maxLength`` (the end id kept) and padded up to it: what text encoders take.
        case padded
        /// Cut to ``maxLength`` (the end id kept), not padded.
        case truncated
        /// Every token, however long.
        case full
    }

    /// The special tokens, by their text.
    public struct SpecialTokens: Sendable, Equatable {
        /// The token before the text (`bos_token`).
        public var start: String
        /// The token after the text (`eos_token`).
        public var end: String
        /// The token for a symbol the vocabulary lacks (`unk_token`).
        public var unknown: String
        /// The token that fills the ids up to ``CLIPTokenizer/maxLength`` (`pad_token`).
        public var padding: String

        /// CLIP's tokens; Stable Diffusion 1.x pads with `<|endoftext|>`, 2.x with `!`.
        public init(start: String = "<|startoftext|>", end: String = "<|endoftext|>",
                    unknown: String = "<|endoftext|>", padding: String = "<|endoftext|>") {
            self.start = start
            self.end = end
            self.unknown = unknown
            self.padding = padding
        }

        /// Stable Diffusion 1.x: padding with `<|endoftext|>`.
        public static let stableDiffusion1 = SpecialTokens()
        /// Stable Diffusion 2.x: padding with `!`.
        public static let stableDiffusion2 = SpecialTokens(padding: "!")
    }

    /// The text model's length in tokens, start and end included (`model_max_length`, 77 for CLIP).
    public let maxLength: Int
    /// The special tokens' texts.
    public let specialTokens: SpecialTokens
    /// The ids of the start, end, pad and unknown tokens.
    public let startID: Int, endID: Int, padID: Int, unknownID: Int
    /// Which transformers tokenizer this one equals.
    public let variant: Variant
    /// Token text → id (`vocab.json`, or `model.vocab` of `tokenizer.json`).
    public let vocabulary: [String: Int]

    let bpe: ByteLevelBPE
    let addedTokens: AddedTokens

    /// A tokenizer from a vocabulary and its merges (in rank order), with the special tokens
    /// added as transformers adds them.
    ///
    /// ```swift
    /// let tok = try CLIPTokenizer(vocabulary: vocab, merges: [("t", "h"), ("th", "e</w>")],
    ///                             specialTokens: .stableDiffusion2)
    /// ```
    /// - Throws: ``TokenizerError/unknownToken(file:key:token:)`` (file `vocabulary`) when a
    ///   special token is not in `vocabulary`; ``TokenizerError/invalidValue(file:key:value:expected:)``
    ///   when `maxLength` is not from 2 to 65,536.
    public init(vocabulary: [String: Int], merges: [(String, String)], specialTokens: SpecialTokens = .init(),
                maxLength: Int = 77, variant: Variant = .slow) throws {
        try self.init(vocabulary: vocabulary, merges: merges, addedTokens: [], specialTokens: specialTokens,
                      maxLength: maxLength, variant: variant, tokenFiles: [:], vocabularyFile: "vocabulary")
    }

    /// The designated initialiser: `tokenFiles` names, per configuration key, the file that set it
    /// (for error messages); `vocabularyFile` the file the vocabulary came from.
    init(vocabulary: [String: Int], merges: [(String, String)], addedTokens: [AddedTokens.Token],
         specialTokens: SpecialTokens, maxLength: Int, variant: Variant,
         tokenFiles: [String: String], vocabularyFile: String) throws {
        guard (2...TokenizerFiles.largestMaxLength).contains(maxLength) else {
            throw TokenizerError.invalidValue(file: tokenFiles["model_max_length"] ?? vocabularyFile, key: "model_max_length",
                                              value: String(maxLength), expected: "an integer from 2 to \(TokenizerFiles.largestMaxLength)")
        }
        var added = addedTokens
        // Every special token is an added token; transformers adds those its configuration does not
        // list: start, end and unknown normalised (the fast tokenizer finds them in lower-cased
        // text), a pad token given as plain text unnormalised (found only as written).
        for (key, content) in [("bos_token", specialTokens.start), ("eos_token", specialTokens.end),
                               ("unk_token", specialTokens.unknown), ("pad_token", specialTokens.padding)]
        where !added.contains(where: { $0.content == content }) {
            guard let id = vocabulary[content] else {
                throw TokenizerError.unknownToken(file: tokenFiles[key] ?? vocabularyFile, key: key, token: content)
            }
            added.append(.init(content: content, id: id, normalized: key != "pad_token"))
        }
        let addedTokens = AddedTokens(added)
        func id(_ content: String) -> Int { addedTokens.id(of: content)! }
        self.vocabulary = vocabulary
        self.bpe = ByteLevelBPE(merges: merges)
        self.addedTokens = addedTokens
        self.specialTokens = specialTokens
        self.maxLength = maxLength
        self.variant = variant
        startID = id(specialTokens.start)
        endID = id(specialTokens.end)
        padID = id(specialTokens.padding)
        unknownID = id(specialTokens.unknown)
    }

    // MARK: - Encoding

    /// The ids for `text`, start and end included, cut and padded to ``maxLength`` — what
    /// diffusers passes the text encoder (`tokenizer(text, padding="max_length",
    /// max_length=tokenizer.model_max_length, truncation=True)`).
    public func encode(_ text: String) -> [Int] { encode(text, length: .padded) }

    /// The ids for `text`, start and end included, as long as `length` says.
    ///
    /// ```swift
    /// tok.encode("a cat", length: .truncated)   // [startID, id("a</w>"), id("cat</w>"), endID]
    /// tok.encode(String(repeating: "a ", count: 100), length: .full).count   // 102
    /// ```
    public func encode(_ text: String, length: Length) -> [Int] {
        var ids = tokenize(text).map(\.id)
        if length != .full && ids.count > maxLength - 2 { ids.removeLast(ids.count - (maxLength - 2)) }
        ids = [startID] + ids + [endID]
        if length == .padded && ids.count < maxLength { ids += Array(repeating: padID, count: maxLength - ids.count) }
        return ids
    }

    /// The token texts for `text`, without start and end, as transformers' `tokenize` gives them
    /// (byte symbols, `</w>` on word ends): `tok.tokens("a cat!")` is `["a</w>", "cat</w>", "!</w>"]`.
    public func tokens(_ text: String) -> [String] { tokenize(text).map(\.token) }

    /// Each token's text and id.
    func tokenize(_ text: String) -> [(token: String, id: Int)] {
        var result: [(token: String, id: Int)] = []
        func appendWords(of cleaned: String, caseInsensitive: Bool) {
            for word in WordSplitter.words(in: cleaned, caseInsensitive: caseInsensitive) {
                // transformers 4's `bpe` cache keeps the two special tokens whole when the pattern finds them.
                if variant == .slow && (word == "<|startoftext|>" || word == "<|endoftext|>") {
                    result.append((word, id(of: word)))
                    continue
                }
                for symbol in bpe.symbols(of: word) { result.append((symbol, id(of: symbol))) }
            }
        }
        switch variant {
        case .slow:
            for segment in addedTokens.split(text) {
                switch segment {
                case let .token(content, id): result.append((content, id))
                case let .text(piece): appendWords(of: TextCleanup.basicTokenizer(piece), caseInsensitive: true)
                }
            }
        case .fast:
            // Unnormalised added tokens are found in the raw text, normalised ones after normalising.
            for segment in addedTokens.split(text, normalized: false) {
                guard case let .text(piece) = segment else {
                    if case let .token(content, id) = segment { result.append((content, id)) }
                    continue
                }
                for inner in addedTokens.split(TextCleanup.tokenizersNormalizer(piece), normalized: true) {
                    switch inner {
                    case let .token(content, id): result.append((content, id))
                    case let .text(normalized): appendWords(of: normalized, caseInsensitive: false)
                    }
                }
            }
        }
        return result
    }

    /// A token's id: added tokens first, then the vocabulary, else the unknown token's id.
    private func id(of token: String) -> Int {
        addedTokens.id(of: token) ?? vocabulary[token] ?? unknownID
    }
}
