import TensorCore

/// Convolutions whose width wraps around: inside ``wrapping(_:)`` every padded convolution of the
/// package's networks pads the width circularly (the height keeps its zeros). The VAE decoder's
/// other layers — nearest upsampling, group norm (statistics over the whole map) and spatial
/// attention (no positional encoding) — already commute with a turn of the width, so the whole
/// decoder does: decoding a 360° latent strip gives a picture whose right edge continues into its
/// left edge exactly as any two neighbouring columns do (``AutoencoderKL/decode(scaledLatents:wrappingWidth:)``).
///
/// ```swift
/// let strip = WidthWrap.wrapping { vae.decode(z) }      // z [1, 4, 8, 64] → [1, 3, 64, 512], periodic in width
/// ```
public enum WidthWrap {
    /// Whether convolutions pad the width circularly (task-local: other tasks and tests are untouched).
    @TaskLocal public static var isOn = false

    /// Runs `body` with circular width padding in every convolution it calls on this thread.
    public static func wrapping<T>(_ body: () throws -> T) rethrows -> T {
        try $isOn.withValue(true) { try body() }
    }
}

extension AutoencoderKL {
    /// ``decode(scaledLatents:)`` of a strip whose width wraps around (a 360° panorama's latents
    /// `[N, 4, h, w]` → `[N, 3, h·f, w·f]`): with `wrappingWidth` the decoder's convolutions pad
    /// the width circularly, so the picture is periodic — turning the latents by `k` columns
    /// turns the picture by `k·f` columns, and its left and right edges join. Differentiable.
    ///
    /// ```swift
    /// let pano = vae.decode(scaledLatents: strip, wrappingWidth: true)    // strip [1, 4, 8, 64]
    /// ```
    public func decode(scaledLatents x: Tensor, wrappingWidth: Bool) -> Tensor {
        wrappingWidth ? WidthWrap.wrapping { decode(scaledLatents: x) } : decode(scaledLatents: x)
    }
}

extension StableDiffusionPipeline {
    /// ``decodeImage(_:sigma:)`` of a 360° latent strip `[N, 4, h, w]`: the picture
    /// `[N, 3, h·f, w·f]` wraps around seamlessly (``AutoencoderKL/decode(scaledLatents:wrappingWidth:)``).
    ///
    /// ```swift
    /// let picture = sd.decodePanorama(strip, sigma: sigmas.last!)     // [1, 3, 64, 512]
    /// ```
    public func decodePanorama(_ x: Tensor, sigma: Float) -> Tensor {
        WidthWrap.wrapping { decodeImage(x, sigma: sigma) }
    }
}
