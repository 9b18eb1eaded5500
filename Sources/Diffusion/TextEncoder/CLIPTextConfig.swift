import Foundation
import JSON
import SafeTensors

/// The `config.json` of a transformers `CLIPTextModel` (a Stable Diffusion `text_encoder/`
/// folder) as ``CLIPTextModel`` implements it. Keys and defaults are transformers' own. Keys that
/// cannot change `last_hidden_state` (dropout, initialisation, token ids, the projection width,
/// transformers' generic generation settings) are accepted and ignored; any other key, or a value
/// outside what is implemented, is an error that names it.
///
/// ```swift
/// let config = try CLIPTextConfig(contentsOf: folder.appendingPathComponent("config.json"))
/// config.hiddenAct   // .quickGELU for SD 1.x, .gelu for SD 2.x
/// ```
public struct CLIPTextConfig: Equatable, Sendable {
    /// The MLP activation (`hidden_act`).
    public enum Activation: String, Sendable, CaseIterable {
        /// `x·σ(1.702·x)`, OpenAI CLIP's (SD 1.x).
        case quickGELU = "quick_gelu"
        /// Exact GELU `x·Φ(x)` (OpenCLIP's, SD 2.x).
        case gelu = "gelu"
    }

    public var vocabSize: Int = 49408
    public var hiddenSize: Int = 512
    public var intermediateSize: Int = 2048
    public var numHiddenLayers: Int = 12
    public var numAttentionHeads: Int = 8
    /// Rows of the position table: the longest token sequence (77 for Stable Diffusion).
    public var maxPositionEmbeddings: Int = 77
    public var hiddenAct: Activation = .quickGELU
    public var layerNormEps: Float = 1e-5

    public init() {}

    /// Bounds that only keep a typo from asking for terabytes (far beyond any released CLIP).
    public enum Limits {
        public static let vocabSize = 1...1_000_000
        public static let width = 1...65_536
        public static let layers = 1...256
        public static let positions = 1...65_536
    }

    /// Reads and validates a transformers `config.json`.
    public init(contentsOf url: URL) throws {
        try self.init(json: try ConfigReader<TextEncoderConfigKind>.data(contentsOf: url), source: url.path)
    }

    /// Parses a config from JSON bytes (`source` names it in errors).
    ///
    /// ```swift
    /// _ = try CLIPTextConfig(json: Data(#"{"hidden_act": "relu"}"#.utf8), source: "text_encoder/config.json")
    /// // throws CLIPTextConfigError.unsupported("text_encoder/config.json", key: "hidden_act", value: "'relu'")
    /// ```
    public init(json data: Data, source: String = "config.json") throws {
        var r = try ConfigReader<TextEncoderConfigKind>(json: data, source: source)
        try r.expectClass("clip_text_model", key: "model_type")
        if let archs = r.peek("architectures"), archs != .null, archs != .array([.string("CLIPTextModel")]) {
            throw CLIPTextConfigError.unsupported(source, key: "architectures", value: archs.brief)
        }
        r.markRead("architectures")
        vocabSize = try r.int("vocab_size", default: 49408, in: Limits.vocabSize)
        hiddenSize = try r.int("hidden_size", default: 512, in: Limits.width)
        intermediateSize = try r.int("intermediate_size", default: 2048, in: Limits.width)
        numHiddenLayers = try r.int("num_hidden_layers", default: 12, in: Limits.layers)
        numAttentionHeads = try r.int("num_attention_heads", default: 8, in: Limits.width)
        maxPositionEmbeddings = try r.int("max_position_embeddings", default: 77, in: Limits.positions)
        let act = try r.string("hidden_act", default: "quick_gelu")
        guard let activation = Activation(rawValue: act) else {
            throw CLIPTextConfigError.unsupported(source, key: "hidden_act", value: "'\(act)'")
        }
        hiddenAct = activation
        layerNormEps = try r.float("layer_norm_eps", default: 1e-5)
        if let pruned = r.peek("pruned_heads"), pruned != .null, pruned != .object([]) {
            throw CLIPTextConfigError.unsupported(source, key: "pruned_heads", value: pruned.brief)
        }
        for key in Self.ignoredKeys { r.markRead(key) }
        try r.finish()
        try validate(source: source)
    }

    /// Keys that cannot change `last_hidden_state`: CLIP's training and pooling settings, and the
    /// generic settings transformers 4 writes into every config.
    static let ignoredKeys: [String] = [
        "projection_dim", "dropout", "attention_dropout", "initializer_range", "initializer_factor",
        "pad_token_id", "bos_token_id", "eos_token_id", "dtype", "torch_dtype", "transformers_version", "pruned_heads",
        "return_dict", "output_hidden_states", "output_attentions", "torchscript", "use_bfloat16", "tf_legacy_loss",
        "tie_word_embeddings", "chunk_size_feed_forward", "is_encoder_decoder", "is_decoder",
        "cross_attention_hidden_size", "add_cross_attention", "tie_encoder_decoder", "max_length", "min_length",
        "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty", "temperature", "top_k",
        "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
        "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
        "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
        "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "finetuning_task",
        "id2label", "label2id", "tokenizer_class", "prefix", "sep_token_id", "decoder_start_token_id",
        "task_specific_params", "problem_type", "gradient_checkpointing", "use_cache",
    ]

    /// Checks that the heads divide the width and `layer_norm_eps` is positive.
    public func validate(source: String = "config") throws {
        if hiddenSize % numAttentionHeads != 0 {
            throw CLIPTextConfigError.inconsistent(source, "hidden_size = \(hiddenSize) is not divisible by num_attention_heads = \(numAttentionHeads)")
        }
        if !(layerNormEps.isFinite && layerNormEps > 0) {
            throw CLIPTextConfigError.outOfRange(source, key: "layer_norm_eps", value: "\(layerNormEps)", allowed: "a finite number > 0")
        }
    }
}
