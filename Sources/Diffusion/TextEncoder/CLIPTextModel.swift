import Foundation
import SafeTensors
import TensorCore

/// transformers' `CLIPTextModel`, the text encoder of Stable Diffusion: token and position
/// embeddings, causal pre-norm transformer layers, a final layer norm. ``encode(_:)`` gives
/// `last_hidden_state`, the `encoder_hidden_states` a ``UNet2DCondition`` cross-attends to.
/// Loads a `text_encoder/` folder (`config.json` + `model.safetensors`, F32, F16 or BF16) as
/// transformers 4 or 5 writes it. Built from tape ops like the UNets, though inference
/// (``GradMode/withoutGrad(_:)``) is what pipelines need.
///
/// ```swift
/// let encoder = try CLIPTextModel(contentsOf: pipeline.appendingPathComponent("text_encoder"))
/// let ids = try CLIPTokenizer(folder: pipeline).encode("a photo of a cat")   // 77 ids (module Tokenizers)
/// let states = GradMode.withoutGrad { encoder.encode([ids]) }               // [1, 77, 768] for SD 1.5
/// ```
public final class CLIPTextModel: @unchecked Sendable {
    public let config: CLIPTextConfig
    /// Every weight under its transformers 4 name (`text_model.…`).
    public let parameters: Parameters

    let tokenEmbedding: Tensor                                 // [vocab, D]
    let positionEmbedding: Tensor                              // [maxPositions, D]
    let layers: [CLIPEncoderLayer]
    let finalLayerNorm: LayerNormLayer

    /// The prefix of every parameter name in transformers 4 files (transformers 5 writes none).
    public static let namePrefix = "text_model."

    /// A randomly initialised encoder (seeded).
    public convenience init(config c: CLIPTextConfig, seed: UInt64 = 0) {
        self.init(config: c, builder: ParameterBuilder(seed: seed))
    }

    /// Every parameter's name and shape for `config`, without allocating the weights.
    static func parameterShapes(_ config: CLIPTextConfig) -> [String: [Int]] {
        let b = ParameterBuilder(fill: .shapesOnly)
        _ = CLIPTextModel(config: config, builder: b)
        return b.shapes
    }

    /// The architecture with `b`'s tensors (random, or placeholders for loaded weights).
    init(config c: CLIPTextConfig, builder b: ParameterBuilder) {
        config = c
        let p = Self.namePrefix
        tokenEmbedding = b.normal(p + "embeddings.token_embedding.weight", [c.vocabSize, c.hiddenSize], std: 0.02)
        positionEmbedding = b.normal(p + "embeddings.position_embedding.weight", [c.maxPositionEmbeddings, c.hiddenSize], std: 0.01)
        layers = (0..<c.numHiddenLayers).map { CLIPEncoderLayer(b, "\(p)encoder.layers.\($0)", config: c) }
        finalLayerNorm = LayerNormLayer(b, p + "final_layer_norm", features: c.hiddenSize, eps: c.layerNormEps)
        parameters = b.parameters
    }

    /// `last_hidden_state` `[B, L, D]` for `B` token sequences of one length `L`
    /// (1 ≤ `L` ≤ `max_position_embeddings`; ids in `0..<vocab_size`), e.g. the padded ids of
    /// `CLIPTokenizer` (module Tokenizers) for a prompt and a negative prompt.
    ///
    /// ```swift
    /// let states = encoder.encode([promptIDs, negativeIDs])   // [2, 77, D]
    /// ```
    public func encode(_ tokenIDs: [[Int]]) -> Tensor {
        precondition(!tokenIDs.isEmpty, "encode needs at least one token sequence")
        let length = tokenIDs[0].count
        precondition(tokenIDs.allSatisfy { $0.count == length }, "token sequences must have one length, got \(tokenIDs.map(\.count))")
        precondition(length >= 1 && length <= config.maxPositionEmbeddings,
                     "a sequence of \(length) tokens does not fit max_position_embeddings = \(config.maxPositionEmbeddings)")
        let flat = tokenIDs.flatMap { $0 }
        precondition(flat.allSatisfy { $0 >= 0 && $0 < config.vocabSize }, "token ids must be in 0..<\(config.vocabSize)")
        let d = config.hiddenSize
        let tokens = tokenEmbedding.gather(indices: flat, axis: 0).reshaped([tokenIDs.count, length, d])   // [B, L, D]
        let positions = positionEmbedding.slice(axis: 0, 0..<length)                                         // [L, D]
        var h = tokens + positions
        for layer in layers { h = layer(h) }
        return finalLayerNorm(h)
    }
}

// MARK: - Loading transformers folders

extension CLIPTextModel {
    /// The weights file transformers writes.
    public static let weightsFileName = "model.safetensors"

    /// Loads a transformers `text_encoder/` folder (`config.json` + `model.safetensors`; one file
    /// or shards with `model.safetensors.index.json`; a `variant` such as `"fp16"` reads
    /// `model.fp16.safetensors`, and a folder with only one variant uses it).
    ///
    /// ```swift
    /// let encoder = try CLIPTextModel(contentsOf: URL(fileURLWithPath: "sd15/text_encoder"))
    /// ```
    public convenience init(contentsOf folder: URL, variant: String? = nil) throws {
        let config = try CLIPTextConfig(contentsOf: folder.appendingPathComponent("config.json"))
        self.init(config: config, builder: .placeholders())
        let (weights, path) = try WeightsFile.read(Self.weightsFileName, in: folder, variant: variant)
        try load(weights: weights, source: path)
    }

    /// Copies named tensors into the parameters. Names with or without the `text_model.` prefix
    /// are accepted; `position_ids` (a buffer older files carry) is skipped; every weight must be
    /// present with its shape and no other tensor may be left over.
    public func load(weights: [(name: String, tensor: Tensor)], source: String = "weights") throws {
        let kept = weights.filter { !$0.name.hasSuffix("embeddings.position_ids") }
        try copyWeights(kept, into: parameters, source: source) { name in
            name.hasPrefix(Self.namePrefix) ? name : Self.namePrefix + name
        }
    }
}
