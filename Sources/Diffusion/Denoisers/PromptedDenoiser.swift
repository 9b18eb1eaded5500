import TensorCore

/// Gives every batch item a prompt: conditions that carry no ``DenoiserCondition/text`` get
/// `text`, and everything else (class, camera) passes through to `base` unchanged. This is how a
/// sampler that knows nothing about text (it passes classes and cameras, or nothing) samples
/// from a prompt; ``StableDiffusionPipeline/denoiser(prompt:negativePrompt:guidance:)`` builds it
/// around the guided pipeline denoiser.
///
/// ```swift
/// let texts = pipeline.encode(prompts: ["a red box", ""])
/// let guided = GuidedDenoiser(base: pipeline.textDenoiser(defaultText: texts[1]), guidance: 7.5, nullClass: nil, nullText: texts[1])
/// let d = PromptedDenoiser(base: guided, text: texts[0])
/// let x0 = d.denoise(latents, sigma: 2, condition: nil)     // latents [B, 4, h, w]: guided toward "a red box"
/// ```
public struct PromptedDenoiser: Denoiser {
    /// The denoiser that reads the text.
    public let base: any Denoiser
    /// The prompt given to items without one.
    public let text: TextEmbedding

    public init(base: any Denoiser, text: TextEmbedding) {
        self.base = base
        self.text = text
    }

    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        denoise(x, sigma: sigma, conditions: DenoiserCondition.classes(condition))
    }

    public func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor {
        let given = conditions ?? [DenoiserCondition](repeating: DenoiserCondition(), count: x.shape[0])
        return base.denoise(x, sigma: sigma, conditions: given.map { c in
            var c = c
            if c.text == nil { c.text = text }
            return c
        })
    }
}
