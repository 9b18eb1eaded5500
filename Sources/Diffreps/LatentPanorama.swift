import TensorCore

/// A 360° panorama held as a latent diffusion model's latents: `θ` = a latent strip `[C, h, W]`
/// whose width wraps around (4 × 64 × 512 for a 512 × 4096 Stable Diffusion panorama), seen
/// through windows `[C, h, w]` of the denoiser's latent size at any offset — a ``PanoramaGrid``
/// of latents. With pixel-aligned windows the pullback sampler on it *is* MultiDiffusion in
/// latent space (each latent moves by the average of its windows' DDIM updates). The picture is
/// the strip decoded with its width wrapping around (``decoded(by:)`` with the pipeline's
/// `decodePanorama`), so the seam does not show.
///
/// ```swift
/// let pano = LatentPanorama(channels: 4, height: 8, width: 64, windowWidth: 8)
/// pano.render([0, 60]).shape                           // [2, 4, 8, 8]; the second wraps the seam
/// let rgb = pano.decoded { sd.decodePanorama($0, sigma: sigmas.last!) }   // [3, 64, 512]
/// ```
public final class LatentPanorama: Diffrep {
    /// Horizontal offset of a window's left edge, in latent columns (taken modulo the width).
    public typealias View = Float
    /// The strip of latents and its windows (rendering, view layout, noise).
    public let strip: PanoramaGrid
    public var parameters: Parameters { strip.parameters }
    public var renderShape: [Int] { strip.renderShape }

    /// `[C, h, W]`
    public var latents: Tensor { strip.pixels }
    public var panoramaWidth: Int { strip.panoramaWidth }

    public init(channels: Int, height: Int, width: Int, windowWidth: Int, alignViewsToPixels: Bool = true) {
        strip = PanoramaGrid(channels: channels, height: height, width: width, windowWidth: windowWidth,
                             alignViewsToPixels: alignViewsToPixels)
    }

    /// Windows evenly spaced around the circle from a random phase, covering the strip every step
    /// (``PanoramaGrid/sampleViews(count:using:)``).
    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Float] {
        strip.sampleViews(count: count, using: &rng)
    }

    /// Windows `[K, C, h, w]` of latents at the given offsets.
    public func render(_ views: [Float]) -> Tensor { strip.render(views) }

    /// White noise on the latents is white noise in every pixel-aligned window.
    public func parameterNoise(using rng: inout RandomGenerator) -> [[Float]]? {
        strip.parameterNoise(using: &rng)
    }

    /// The picture: `decode` maps the strip `[1, C, h, W]` to an image `[1, 3, H, W·f]` (decode it
    /// with the width wrapping around); returns `[3, H, W·f]`, off the tape.
    public func decoded(by decode: (Tensor) -> Tensor) -> Tensor {
        let image = GradMode.withoutGrad { decode(latents.detached().reshaped([1] + latents.shape)) }
        return image.reshaped(Array(image.shape.dropFirst())).detached()
    }
}
