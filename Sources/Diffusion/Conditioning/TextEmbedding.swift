import TensorCore

/// One encoded prompt: the text encoder's `last_hidden_state` for it, the states a
/// ``UNet2DCondition`` cross-attends to. Made once per prompt (``StableDiffusionPipeline/encode(prompts:)``)
/// and shared by every batch item and step that uses it, through ``DenoiserCondition/text``.
/// Two embeddings are equal when they are the same object (the same encoded prompt).
///
/// ```swift
/// let texts = pipeline.encode(prompts: ["a photo of a cat", ""])   // two embeddings, states [77, 768] each
/// let c = DenoiserCondition(text: texts[0])
/// ```
public final class TextEmbedding: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// `[L, D]`: L tokens (77 for Stable Diffusion), D = the UNet's `cross_attention_dim`. Off the tape.
    public let states: Tensor
    /// The text it encodes, when known (for messages and manifests).
    public let prompt: String?

    /// Wraps `states` `[L, D]` (a `[1, L, D]` tensor is taken as `[L, D]`).
    public init(states: Tensor, prompt: String? = nil) {
        precondition(states.rank == 2 || (states.rank == 3 && states.shape[0] == 1),
                     "text states must be [L, D] (or [1, L, D]), got \(states.shape)")
        self.states = states.rank == 2 ? states.detached() : states.detached().reshaped(Array(states.shape.dropFirst()))
        self.prompt = prompt
    }

    /// Tokens `L`.
    public var length: Int { states.shape[0] }
    /// Features per token `D`.
    public var features: Int { states.shape[1] }

    public static func == (a: TextEmbedding, b: TextEmbedding) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    public var description: String { "TextEmbedding(\(prompt.map { "\"\($0)\"" } ?? "unnamed"), \(states.shape))" }

    /// The states of one embedding per batch item as `[B, L, D]`, or `[1, L, D]` when every item
    /// has the same one (the UNet then broadcasts it).
    static func batch(_ items: [TextEmbedding]) -> Tensor {
        precondition(!items.isEmpty, "no text embeddings to batch")
        let (l, d) = (items[0].length, items[0].features)
        precondition(items.allSatisfy { $0.length == l && $0.features == d },
                     "text embeddings of one batch must share [L, D]; got \(Set(items.map { $0.states.shape.description }).sorted())")
        if items.allSatisfy({ $0 === items[0] }) { return items[0].states.reshaped([1, l, d]) }
        return Tensor.concat(items.map { $0.states.reshaped([1, l, d]) }, axis: 0)     // [B, L, D]
    }
}
