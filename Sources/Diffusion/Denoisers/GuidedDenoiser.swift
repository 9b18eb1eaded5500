import TensorCore

/// Classifier-free guidance (Ho & Salimans 2022) in denoiser form:
/// `D_w = D_uncond + w·(D_cond − D_uncond)` (docs/DESIGN.md §1). `w = 1` is the conditional
/// denoiser, `w = 0` the unconditional one, `w > 1` pushes samples toward the class.
///
/// With a `nullClass` (the label the model was trained to read as "no class") or a `nullText`
/// (a text model's negative or empty prompt), both halves run as **one batched call** of `2B`
/// items, `[x; x]` with conditions `[condition; unconditional…]`. Without either, the
/// unconditional half is a second call with no class. A call whose items carry neither a class
/// nor a text is unconditional: the base is called once and no guidance applies.
///
/// ```swift
/// let guided = GuidedDenoiser(base: unetDenoiser, guidance: 3, nullClass: 10)
/// let d = guided.denoise(x, sigma: 1.2, condition: [3, 3, 7, 7])   // [4, C, H, W]
/// let texts = pipeline.encode(prompts: ["a cat", "blurry"])
/// let g = GuidedDenoiser(base: pipeline.textDenoiser(defaultText: texts[1]), guidance: 7.5, nullClass: nil, nullText: texts[1])
/// let d2 = g.denoise(latents, sigma: 3, conditions: [DenoiserCondition(text: texts[0])])   // one UNet call of 2 items
/// ```
public struct GuidedDenoiser: Denoiser {
    /// The class-conditional denoiser.
    public let base: any Denoiser
    /// The guidance weight `w`.
    public let guidance: Float
    /// The label of the unconditional input, or `nil` when the base takes `condition: nil`.
    public let nullClass: Int?
    /// The text of the unconditional input (the negative prompt, or the empty one), or `nil`.
    public let nullText: TextEmbedding?

    /// Guides `base` with weight `w`.
    public init(base: any Denoiser, guidance w: Float, nullClass: Int?, nullText: TextEmbedding? = nil) {
        self.base = base
        self.guidance = w
        self.nullClass = nullClass
        self.nullText = nullText
    }

    /// `D_w(x; σ, condition)` for `x` of shape `[B, C, H, W]`.
    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        denoise(x, sigma: sigma, conditions: DenoiserCondition.classes(condition))
    }

    /// `D_w` with a class, camera and text per item: the unconditional half keeps each item's
    /// camera and replaces its class by the null class (no class at all without one) and its text
    /// by the null text. Items with neither class nor text get the unconditional denoiser; when
    /// no item has one, no guidance applies.
    public func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor {
        let b = x.shape[0]
        let given = conditions ?? [DenoiserCondition](repeating: DenoiserCondition(), count: b)
        precondition(given.count == b, "\(given.count) conditions for a batch of \(b)")
        let unconditional = given.map { DenoiserCondition(classLabel: nullClass, camera: $0.camera, text: nullText) }
        func conditioned(_ c: DenoiserCondition) -> Bool { c.classLabel != nil || c.text != nil }
        guard given.contains(where: conditioned) else {
            return base.denoise(x, sigma: sigma, conditions: unconditional)
        }
        let conditional = zip(given, unconditional).map { conditioned($0) ? $0 : $1 }
        let cond: Tensor, uncond: Tensor
        if nullClass != nil || nullText != nil {
            let both = base.denoise(Tensor.concatBatch([x, x]), sigma: sigma,     // [2B, C, H, W]
                                    conditions: conditional + unconditional)
            precondition(both.shape.first == 2 * b, "base denoiser returned \(both.shape) for \(2 * b) items")
            cond = both.sliceBatch(0..<b)
            uncond = both.sliceBatch(b..<2 * b)
        } else {
            cond = base.denoise(x, sigma: sigma, conditions: conditional)
            uncond = base.denoise(x, sigma: sigma, conditions: unconditional)
        }
        return uncond + (cond - uncond).scaled(by: guidance)
    }
}
