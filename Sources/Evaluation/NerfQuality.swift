import Diffreps
import Diffusion
import Foundation
import TensorCore

/// Quick image statistics of a sampled NeRF, written to every `diffrep nerf` manifest beside the
/// evaluation figures (``SampleEvaluator``: recognisability, KID, 3D consistency), which are what
/// quality claims rest on; these only describe colour and haze:
///
/// - `chroma`: mean `max(rgb) − min(rgb)` (0–1) of the object's pixels (opacity > ½) — the toys
///   are saturated (about 0.6); the mode-averaging failure gives grey objects (below 0.15).
/// - `background_deviation`: mean `|rgb − white|` (0–1) of the pixels with opacity < ½ — haze.
/// - `coverage`: fraction of pixels with opacity > ½.
/// - `denoiser_change`: RMS of `D(x + σε; σ) − x` at σ = 0.3 over the views (0–1 units): how much
///   the model wants to change the renders; small when they look like its data.
/// - `mean_rgb_*`: the object's mean colour (0–1), to compare seeds (diversity).
public enum NerfQuality {
    /// Renders `views` at the model's size and measures them.
    ///
    /// ```swift
    /// let q = NerfQuality.measure(nerf, views: nerf.turntable(frames: 8), denoiser: d, classLabel: 0, seed: 1)
    /// print(q["chroma"]!, q["coverage"]!)
    /// ```
    public static func measure(_ nerf: NeRFDiffrep, views: [OrbitView], denoiser: any Denoiser, classLabel: Int?,
                        seed: UInt64) -> [String: Double] {
        let size = nerf.renderShape[1]
        let renders = views.map { nerf.display($0, size: size) }
        var chroma = 0.0, objects = 0, haze = 0.0, backgrounds = 0
        var rgbSum = [0.0, 0.0, 0.0]
        for r in renders {
            let px = size * size
            for p in 0..<px {
                let rgb = (0..<3).map { Double(r.image.data[$0 * px + p] + 1) / 2 }
                if r.opacity.data[p] > 0.5 {
                    chroma += rgb.max()! - rgb.min()!
                    for c in 0..<3 { rgbSum[c] += rgb[c] }
                    objects += 1
                } else {
                    haze += rgb.map { abs(1 - $0) }.reduce(0, +) / 3
                    backgrounds += 1
                }
            }
        }
        // How far the denoiser moves the renders at a low noise level (fixed noise: comparable runs).
        let x = Tensor.concat(renders.map { $0.image.reshaped([1] + nerf.renderShape) }, axis: 0)   // [V, C, H, W]
        var rng = RandomGenerator(seed: seed ^ 0x5157_4c54)
        let sigma: Float = 0.3
        let d = GradMode.withoutGrad {
            denoiser.denoise(x + rng.normal(x.shape).scaled(by: sigma), sigma: sigma,
                             conditions: views.map { DenoiserCondition(classLabel: classLabel,
                                                                       camera: CameraPose(azimuth: $0.azimuth, elevation: $0.elevation)) })
        }
        let change = (zip(d.data, x.data).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(x.count)).squareRoot() / 2
        var m: [String: Double] = [
            "chroma": objects > 0 ? chroma / Double(objects) : 0,
            "background_deviation": backgrounds > 0 ? haze / Double(backgrounds) : 0,
            "coverage": Double(objects) / Double(renders.count * size * size),
            "denoiser_change": change,
        ]
        for (c, name) in ["r", "g", "b"].enumerated() { m["mean_rgb_" + name] = objects > 0 ? rgbSum[c] / Double(objects) : 0 }
        return m
    }
}
