import Foundation
import TensorCore

/// A VAE architecture-compatible with diffusers' `AutoencoderKL`, Stable Diffusion's image
/// autoencoder: an encoder from images to a diagonal Gaussian over latents, and a decoder back.
/// Parameter names are diffusers' state-dict keys, so a `vae/` folder saved by diffusers loads
/// unchanged. Every op is on the tape: ``decode(_:)`` has gradients with respect to the latents
/// and the weights (latent diffreps pull their gradients through it).
///
/// The latents the UNet sees are scaled: ``scaledLatents(_:)`` and ``decode(scaledLatents:)``
/// apply the config's `scaling_factor` (and `shift_factor`) the way diffusers' pipelines do.
///
/// ```swift
/// let vae = try AutoencoderKL(contentsOf: pipeline.appendingPathComponent("vae"))
/// let posterior = GradMode.withoutGrad { vae.encode(images) }          // images [1, 3, 512, 512] in [-1, 1]
/// let latents = vae.scaledLatents(posterior.mean)                      // [1, 4, 64, 64], what the UNet denoises
/// let back = vae.decode(scaledLatents: latents)                        // [1, 3, 512, 512]
/// ```
public final class AutoencoderKL: @unchecked Sendable {
    public let config: AutoencoderKLConfig
    /// Every trainable tensor under its diffusers name.
    public let parameters: Parameters

    let encoder: AutoencoderEncoder
    let decoder: AutoencoderDecoder
    let quantConv: Conv2dLayer?
    let postQuantConv: Conv2dLayer?

    /// A randomly initialised VAE (PyTorch's default initialisation, seeded).
    public convenience init(config c: AutoencoderKLConfig, seed: UInt64 = 0) {
        self.init(config: c, builder: ParameterBuilder(seed: seed))
    }

    /// The architecture with `b`'s tensors (random, or placeholders for loaded weights).
    init(config c: AutoencoderKLConfig, builder b: ParameterBuilder) {
        config = c
        encoder = AutoencoderEncoder(b, "encoder", config: c)
        decoder = AutoencoderDecoder(b, "decoder", config: c)
        let moments = 2 * c.latentChannels
        quantConv = c.useQuantConv ? Conv2dLayer(b, "quant_conv", in: moments, out: moments, kernel: 1) : nil
        postQuantConv = c.usePostQuantConv
            ? Conv2dLayer(b, "post_quant_conv", in: c.latentChannels, out: c.latentChannels, kernel: 1) : nil
        parameters = b.parameters
    }

    /// Every parameter's name and shape for `config`, without allocating the weights.
    static func parameterShapes(_ config: AutoencoderKLConfig) -> [String: [Int]] {
        let b = ParameterBuilder(fill: .shapesOnly)
        _ = AutoencoderKL(config: config, builder: b)
        return b.shapes
    }

    /// How many times smaller the latents are than the images: `2^(levels − 1)` (8 for SD).
    public var downsamplingFactor: Int { 1 << (config.blockOutChannels.count - 1) }

    /// diffusers' `encode(images).latent_dist`: images `[N, in, H, W]` (pixels in [-1, 1]; `H` and
    /// `W` divisible by ``downsamplingFactor``) → the posterior over unscaled latents
    /// `[N, latent, H/f, W/f]`. Meant for inference (wrap in `GradMode.withoutGrad`); it is built
    /// from tape ops, but its gradients are not checked against diffusers.
    ///
    /// ```swift
    /// let posterior = GradMode.withoutGrad { vae.encode(images) }   // images [2, 3, 64, 64]
    /// posterior.mean.shape                                         // [2, 4, 8, 8]
    /// ```
    public func encode(_ images: Tensor) -> LatentDistribution {
        precondition(images.rank == 4 && images.shape[1] == config.inChannels,
                     "AutoencoderKL.encode expects [N, \(config.inChannels), H, W], got \(images.shape)")
        let f = downsamplingFactor
        precondition(images.shape[2] % f == 0 && images.shape[3] % f == 0,
                     "AutoencoderKL.encode needs H and W divisible by \(f), got \(images.shape)")
        var moments = encoder(images)                                           // [N, 2·latent, h, w]
        if let quantConv { moments = quantConv(moments) }
        let halves = moments.chunked(2, axis: 1)
        return LatentDistribution(mean: halves[0], logVariance: halves[1].clamped(-30, 20))
    }

    /// diffusers' `decode(latents).sample`: unscaled latents `[N, latent, h, w]` → images
    /// `[N, out, h·f, w·f]` (pixels in about [-1, 1]). Differentiable: call `backward` on a loss
    /// of the result to get gradients in the latents and the weights.
    ///
    /// ```swift
    /// z.requiresGrad = true                          // z [1, 4, 64, 64]
    /// let image = vae.decode(z)                      // [1, 3, 512, 512]
    /// (image * image).sum().backward()               // z.grad: d loss / d z
    /// ```
    public func decode(_ latents: Tensor) -> Tensor {
        precondition(latents.rank == 4 && latents.shape[1] == config.latentChannels,
                     "AutoencoderKL.decode expects [N, \(config.latentChannels), h, w], got \(latents.shape)")
        return decoder(postQuantConv.map { $0(latents) } ?? latents)
    }

    /// The UNet's latents from unscaled ones: `(z − shift_factor) · scaling_factor`.
    ///
    /// ```swift
    /// let x0 = vae.scaledLatents(vae.encode(images).mean)   // SD 1.5: z · 0.18215
    /// ```
    public func scaledLatents(_ z: Tensor) -> Tensor {
        let shifted = config.shiftFactor.map { z.shifted(by: -$0) } ?? z
        return shifted.scaled(by: config.scalingFactor)
    }

    /// Decodes the UNet's (scaled) latents: `decode(x / scaling_factor + shift_factor)`, as
    /// diffusers' pipelines do before `vae.decode`. Differentiable like ``decode(_:)``.
    ///
    /// ```swift
    /// let image = vae.decode(scaledLatents: x0)      // x0 [1, 4, 64, 64] from the sampler
    /// ```
    public func decode(scaledLatents x: Tensor) -> Tensor {
        let z = x.scaled(by: 1 / config.scalingFactor)
        return decode(config.shiftFactor.map { z.shifted(by: $0) } ?? z)
    }
}

/// The encoder's diagonal Gaussian over unscaled latents (diffusers'
/// `DiagonalGaussianDistribution`), each tensor `[N, latent, h, w]`.
///
/// ```swift
/// let posterior = vae.encode(images)
/// var rng = RandomGenerator(seed: 1)
/// let z = posterior.sample(noise: rng.normal(posterior.mean.shape))   // mean + σ·noise
/// ```
public struct LatentDistribution {
    /// `[N, latent, h, w]`
    public let mean: Tensor
    /// `[N, latent, h, w]`, clamped to [-30, 20] as diffusers does.
    public let logVariance: Tensor

    public init(mean: Tensor, logVariance: Tensor) {
        self.mean = mean
        self.logVariance = logVariance
    }

    /// `exp(logVariance / 2)`, `[N, latent, h, w]`.
    public var standardDeviation: Tensor { logVariance.scaled(by: 0.5).exp() }

    /// `mean + standardDeviation · noise` for standard normal `noise` of the mean's shape.
    public func sample(noise: Tensor) -> Tensor {
        precondition(noise.shape == mean.shape, "noise must be \(mean.shape), got \(noise.shape)")
        return mean + standardDeviation * noise
    }
}
