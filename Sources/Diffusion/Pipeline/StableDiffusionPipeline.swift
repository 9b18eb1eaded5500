import Foundation
import TensorCore
import Tokenizers

/// A diffusers `StableDiffusionPipeline` folder (SD 1.x, SD 2.x) as a denoiser of latents: the
/// CLIP tokenizer and text encoder turn a prompt into text states once, the ``UNet2DCondition``
/// denoises latents `[B, 4, h, w]` (ε- or v-prediction, from the scheduler config), and the
/// ``AutoencoderKL`` decodes latents to images `[B, 3, 8h, 8w]`. Samplers work in the latent space
/// in the variance-exploding convention of docs/DESIGN.md §1, like any ``Denoiser``.
///
/// With DDIM at η = 0 the result equals diffusers'
/// `StableDiffusionPipeline(prompt, negative_prompt=…, latents=z, num_inference_steps=n,
/// guidance_scale=w, eta=0)` run with a `DDIMScheduler`: start at ``startingLatents(_:sigma:)``,
/// step down ``ddimSigmas(steps:)``, decode with ``decodeImage(_:sigma:)``.
///
/// ```swift
/// let sd = try StableDiffusionPipeline(contentsOf: URL(fileURLWithPath: "stable-diffusion-v1-5"))
/// let denoiser = sd.denoiser(prompt: "a photo of a cat", negativePrompt: "blurry", guidance: 7.5)
/// let sigmas = try sd.ddimSigmas(steps: 50)
/// var config = SamplerConfig(sigmas: sigmas, seed: 1)
/// config.startsLikeDiffusers = true                                     // x = √(1+σ₀²)·z, as diffusers starts
/// let latents = try DDIMSampler().sample(denoiser, shape: sd.latentShape(count: 1), config: config)   // [1, 4, 64, 64]
/// let image = sd.decodeImage(latents, sigma: sigmas.last!)                                             // [1, 3, 512, 512] in [-1, 1]
/// ```
public final class StableDiffusionPipeline: @unchecked Sendable {
    /// The folder it was loaded from.
    public let folder: URL
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DCondition
    public let vae: AutoencoderKL
    /// The training noise schedule (betas, prediction type, timestep spacing) from
    /// `scheduler/scheduler_config.json`, whatever scheduler class it names.
    public let schedule: DDPMSchedule
    /// The scheduler's `set_alpha_to_one`: DDIM's last step lands on σ = 0 (true) or on the
    /// smallest training level σ₀ (false, as the released SD 1.x and 2.x configs say).
    public let setAlphaToOne: Bool

    /// A pipeline from parts already in memory, e.g. random weights of a released architecture
    /// for a benchmark (``init(contentsOf:variant:)`` loads a folder). `folder` is only what
    /// messages and manifests name. The parts must fit together: the UNet's channels are the VAE's
    /// latent channels and its `cross_attention_dim` the text encoder's width.
    ///
    /// ```swift
    /// let sd = StableDiffusionPipeline(
    ///     folder: URL(fileURLWithPath: "random-sd15"), tokenizer: tok,
    ///     textEncoder: CLIPTextModel(config: textConfig, seed: 1), unet: UNet2DCondition(config: unetConfig, seed: 2),
    ///     vae: AutoencoderKL(config: vaeConfig, seed: 3),
    ///     schedule: DDPMSchedule(betaStart: 0.00085, betaEnd: 0.012, betaSchedule: .scaledLinear, stepsOffset: 1),
    ///     setAlphaToOne: false)
    /// ```
    public init(folder: URL, tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DCondition,
                vae: AutoencoderKL, schedule: DDPMSchedule, setAlphaToOne: Bool) {
        precondition(unet.config.inChannels == vae.config.latentChannels && unet.config.outChannels == vae.config.latentChannels,
                     "the UNet's in/out channels (\(unet.config.inChannels)/\(unet.config.outChannels)) must be the VAE's latent channels (\(vae.config.latentChannels))")
        precondition(Set(unet.config.crossAttentionDim) == [textEncoder.config.hiddenSize],
                     "the UNet's cross_attention_dim \(unet.config.crossAttentionDim) must be the text encoder's hidden size \(textEncoder.config.hiddenSize)")
        self.folder = folder
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
        self.unet = unet
        self.vae = vae
        self.schedule = schedule
        self.setAlphaToOne = setAlphaToOne
    }

    // MARK: - Text

    /// Encodes prompts in one text-encoder call: each is tokenized as diffusers does (start and end
    /// tokens, truncated and padded to the tokenizer's `model_max_length`) and gives a
    /// ``TextEmbedding`` of states `[L, D]`.
    ///
    /// ```swift
    /// let texts = sd.encode(prompts: ["a photo of a cat", ""])    // the prompt and the empty (unconditional) one
    /// ```
    public func encode(prompts: [String]) -> [TextEmbedding] {
        let ids = prompts.map { tokenizer.encode($0) }                                 // B × L ids
        let states = GradMode.withoutGrad { textEncoder.encode(ids) }                  // [B, L, D]
        return prompts.indices.map { i in TextEmbedding(states: states.sliceBatch(i..<i + 1), prompt: prompts[i]) }
    }

    // MARK: - Denoisers

    /// The pipeline's latent denoiser with no guidance: each item is told its own
    /// ``DenoiserCondition/text``, and items without one the `defaultText` (e.g. the empty prompt).
    ///
    /// ```swift
    /// let texts = sd.encode(prompts: ["a cat", ""])
    /// let d = sd.textDenoiser(defaultText: texts[1])
    /// let x0 = d.denoise(x, sigma: 2, conditions: [DenoiserCondition(text: texts[0])])   // x [1, 4, 64, 64]
    /// ```
    public func textDenoiser(defaultText: TextEmbedding) -> DDPMDenoiser {
        DDPMDenoiser(network: unet.conditioned(on: defaultText.states), schedule: schedule)
    }

    /// The denoiser to sample `prompt` with: both prompts encoded once (one encoder call), and
    /// classifier-free guidance `D_w = D_neg + w·(D_prompt − D_neg)` in one batched UNet call of
    /// `2B` items. `negativePrompt` `nil` is the empty prompt, as in diffusers. At `w = 1` the
    /// negative half is skipped (the conditional denoiser itself, as diffusers skips it).
    /// Items whose condition carries a text keep it; the others get `prompt`.
    ///
    /// ```swift
    /// let d = sd.denoiser(prompt: "a red box on a table", negativePrompt: nil, guidance: 7.5)
    /// let x0 = d.denoise(latents, sigma: 3, condition: nil)     // latents [B, 4, h, w]
    /// ```
    public func denoiser(prompt: String, negativePrompt: String? = nil, guidance: Float) -> PromptedDenoiser {
        let texts = encode(prompts: [prompt, negativePrompt ?? ""])
        let base = textDenoiser(defaultText: texts[1])
        if guidance == 1 { return PromptedDenoiser(base: base, text: texts[0]) }
        return PromptedDenoiser(base: GuidedDenoiser(base: base, guidance: guidance, nullClass: nil, nullText: texts[1]),
                                text: texts[0])
    }

    // MARK: - Latents and images

    /// `[count, C, h, w]` latents for images of `height × width` (default: the UNet's
    /// `sample_size` in latents, as diffusers' default size); the sizes must be multiples of
    /// the VAE's downsampling factor times the UNet's.
    public func latentShape(count: Int, height: Int? = nil, width: Int? = nil) -> [Int] {
        let f = vae.downsamplingFactor
        return [count, unet.config.inChannels, (height ?? unet.config.sampleSize * f) / f, (width ?? unet.config.sampleSize * f) / f]
    }

    /// The image size `(height, width)` the latents `[…, h, w]` decode to.
    public func imageSize(latentHeight h: Int, latentWidth w: Int) -> (height: Int, width: Int) {
        (h * vae.downsamplingFactor, w * vae.downsamplingFactor)
    }

    /// The DDIM noise levels diffusers' `DDIMScheduler` steps through for `steps` inference steps:
    /// the schedule's timesteps (spacing and `steps_offset` from the config), then σ = 0, or σ₀
    /// when `set_alpha_to_one` is false (a step from σ₀ to σ₀ does nothing and is left out).
    /// Throws ``ScheduleStepsError`` for a step count the schedule cannot take.
    ///
    /// ```swift
    /// try sd.ddimSigmas(steps: 4)   // SD 1.5: σ at t = 751, 501, 251, 1, then σ₀ ≈ 0.0292
    /// ```
    public func ddimSigmas(steps: Int) throws(ScheduleStepsError) -> [Float] {
        var sigmas = try schedule.checkedDDIMSigmas(steps: steps)
        if !setAlphaToOne {
            sigmas.removeLast()
            if sigmas.last! > schedule.sigmaMin { sigmas.append(schedule.sigmaMin) }
        }
        return sigmas
    }

    /// The sampler's state at level `sigma` for diffusers' starting `latents` `z ~ N(0, I)`
    /// (`[B, C, h, w]`, what `StableDiffusionPipeline(latents=z)` takes): `x = √(1+σ²)·z`, since
    /// diffusers' variance-preserving latents are `x/√(1+σ²)` (docs/DESIGN.md §1).
    public func startingLatents(_ latents: Tensor, sigma: Float) -> Tensor {
        latents.scaled(by: (1 + sigma * sigma).squareRoot())
    }

    /// Images `[B, 3, H, W]` (about `[-1, 1]`, not clamped) from the sampler's latents `x`
    /// `[B, C, h, w]` at level `sigma` (the last of ``ddimSigmas(steps:)``): diffusers' latents
    /// `x/√(1+σ²)`, unscaled by the VAE's `scaling_factor` (and `shift_factor`), decoded.
    /// On the tape when `x` is (latent diffreps pull gradients through it).
    public func decodeImage(_ x: Tensor, sigma: Float) -> Tensor {
        vae.decode(scaledLatents: x.scaled(by: 1 / (1 + sigma * sigma).squareRoot()))
    }
}
