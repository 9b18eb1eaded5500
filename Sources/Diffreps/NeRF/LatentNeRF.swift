import TensorCore

/// A NeRF of a latent diffusion model's latents (as SJC samples Stable Diffusion): a radiance
/// field whose colour has the latent channel count (4 for SD), rendered at the latent resolution
/// (64 × 64 for a 512-px model), so the denoiser sees each view's latents; the picture of a view
/// is its render decoded by the pipeline's VAE (``decodedView(_:by:)``).
///
/// ```swift
/// let nerf = NeRFDiffrep.latent(field: VoxelGridField(resolution: 32, channels: 4), imageSize: 8,
///                               background: [0.8, 0.1, -0.2, -0.5])
/// nerf.render(nerf.turntable(frames: 2)).shape                      // [2, 4, 8, 8]
/// let frame = nerf.decodedView(nerf.turntable(frames: 1)[0]) { sd.decodeImage($0, sigma: 0) }   // [3, 64, 64]
/// ```
extension NeRFDiffrep {
    /// The default ``colorScale`` of a latent NeRF: colours in `[-4, 4]` (Stable Diffusion's scaled
    /// latents have unit variance; ±1 would clip a third of them).
    public static let latentColorScale: Float = 4

    /// A NeRF whose renders `[K, C, h, h]` are latents: `field.channels` latent channels at
    /// `imageSize` latent pixels, colours scaled by `colorScale`, over a constant `background`
    /// given in latents (`[C]`, e.g. the encoding of a white image).
    public static func latent(field: any RadianceField, imageSize: Int, background: [Float],
                              colorScale: Float = NeRFDiffrep.latentColorScale,
                              renderer: NeRFRenderer = NeRFRenderer()) -> NeRFDiffrep {
        precondition(background.count == field.channels,
                     "NeRFDiffrep.latent: \(background.count) background values for \(field.channels) latent channels")
        precondition(colorScale > 0 && colorScale.isFinite, "NeRFDiffrep.latent: colour scale must be positive, got \(colorScale)")
        var r = renderer
        r.background = .color(background.map { $0 / colorScale })          // the renderer works before the scale
        let nerf = NeRFDiffrep(field: field, imageSize: imageSize, renderer: r)
        nerf.colorScale = colorScale
        return nerf
    }

    /// The picture of `view`: its latents rendered at the training size `[1, C, h, h]`, then
    /// `decode` (the VAE, `[1, C, h, h] → [1, 3, H, H]`); returns `[3, H, H]`, off the tape.
    public func decodedView(_ view: OrbitView, by decode: (Tensor) -> Tensor) -> Tensor {
        let latents = display(view, size: renderShape[1]).image                // [C, h, h]
        let image = GradMode.withoutGrad { decode(latents.reshaped([1] + latents.shape)) }
        return image.reshaped(Array(image.shape.dropFirst())).detached()
    }
}
