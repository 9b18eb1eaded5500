import TensorCore

/// An image held as a latent diffusion model's latents: `θ` = a grid of latents `[C, h, w]`
/// (4 × 64 × 64 for a 512-px Stable Diffusion image), rendered as themselves — the denoiser of a
/// latent model sees the latents, so on this grid the pullback sampler *is* DDIM in latent space,
/// exactly as on a ``PixelImage``. The picture is what a decoder (the pipeline's VAE) makes of
/// the latents: ``decoded(by:)``.
///
/// ```swift
/// let image = LatentImage(channels: 4, height: 64, width: 64)
/// image.render([()]).shape                               // [1, 4, 64, 64]
/// let rgb = image.decoded { sd.decodeImage($0, sigma: sigmas.last!) }   // [3, 512, 512]
/// ```
public final class LatentImage: Diffrep {
    public typealias View = Void
    public let parameters: Parameters
    public let renderShape: [Int]
    /// `[C, h, w]`
    public var latents: Tensor { parameters["latents"]! }

    public init(channels: Int, height: Int, width: Int) {
        renderShape = [channels, height, width]
        parameters = Parameters([("latents", Tensor.zeros(renderShape))])
    }

    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] {
        [Void](repeating: (), count: count)
    }

    /// Every view is the whole grid of latents: `[K, C, h, w]`.
    public func render(_ views: [Void]) -> Tensor {
        latents.reshaped([1] + renderShape).expanded(to: [views.count] + renderShape)
    }

    /// White noise on the latents is white noise in every view (the render is the identity).
    public func parameterNoise(using rng: inout RandomGenerator) -> [[Float]]? {
        [rng.normalValues(latents.count)]
    }

    /// The picture: `decode` maps latents `[1, C, h, w]` to an image `[1, 3, H, W]`; returns `[3, H, W]`, off the tape.
    public func decoded(by decode: (Tensor) -> Tensor) -> Tensor {
        let image = GradMode.withoutGrad { decode(latents.detached().reshaped([1] + renderShape)) }
        return image.reshaped(Array(image.shape.dropFirst())).detached()
    }
}
