import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// On a pixel-grid panorama with pixel-aligned windows, one pullback step is MultiDiffusion in
/// closed form: every panorama pixel moves by the average of `y_k − x_k` over the windows that
/// cover it; pixels no window covers stay where they are.
@Suite struct PanoramaClosedFormTests {
    static let (channels, height, width, window) = (2, 3, 16, 6)

    /// The closed form, written from scratch: cut each window out of the panorama by hand
    /// (wrapping columns modulo the width), denoise it, take the DDIM target, and average the
    /// per-window changes into the panorama pixels they came from.
    /// `keep` is the DDIM step's kept fraction of `x − D` (`σ'/σ` when η = 0).
    static func closedForm(panorama p: [Float], offsets: [Int], denoiser: any Denoiser,
                           sigma: Float, keep: Float) -> [Float] {
        let (c, h, w, ww) = (channels, height, width, window)
        var sum = [Float](repeating: 0, count: p.count), count = [Float](repeating: 0, count: p.count)
        for offset in offsets {
            var x = [Float](repeating: 0, count: c * h * ww)
            var source = [Int](repeating: 0, count: x.count)
            for ch in 0..<c { for i in 0..<h { for j in 0..<ww {
                let col = (offset + j) % w
                source[(ch * h + i) * ww + j] = (ch * h + i) * w + col
                x[(ch * h + i) * ww + j] = p[(ch * h + i) * w + col]
            } } }
            let d = denoiser.denoise(Tensor([1, c, h, ww], data: x), sigma: sigma, condition: nil).data
            for k in 0..<x.count {
                let y = d[k] + keep * (x[k] - d[k])
                sum[source[k]] += y - x[k]
                count[source[k]] += 1
            }
        }
        return (0..<p.count).map { count[$0] == 0 ? p[$0] : p[$0] + sum[$0] / count[$0] }
    }

    static func denoiser() -> GaussianMixtureDenoiser {
        var rng = RandomGenerator(seed: 21)
        return GaussianMixtureDenoiser(weights: [0.6, 0.4], means: rng.uniform([2, channels, height, window], in: -1...1),
                                       variances: [0.1, 0.2])
    }

    /// Offsets with overlaps of different depths, one window across the seam, and column 12 uncovered.
    static let offsets = [0, 3, 6, 13, 3]

    @Test func oneStepIsTheAverageOfTheWindowUpdates() throws {
        let pano = PanoramaGrid(channels: Self.channels, height: Self.height, width: Self.width, windowWidth: Self.window)
        var rng = RandomGenerator(seed: 5)
        pano.pixels.data = rng.normalValues(pano.pixels.count).map { $0 * 1.5 }
        let start = pano.pixels.data
        let expected = Self.closedForm(panorama: start, offsets: Self.offsets, denoiser: Self.denoiser(),
                                       sigma: 1.5, keep: 0.9 / 1.5)

        let sampler = PullbackSampler(denoiser: Self.denoiser(), configuration: .init(sigmas: [1.5, 0.9]))
        var noise = RandomGenerator(seed: 6)
        try sampler.step(pano, views: Self.offsets.map(Float.init), sigma: 1.5, nextSigma: 0.9, noise: &noise)

        let err = maxAbsDifference(pano.pixels.data, expected)
        #expect(err <= 1e-4, "max |pullback − closed form| = \(err)")
        // The step moved the covered pixels and left column 12 alone.
        let moved = zip(pano.pixels.data, start).map { abs($0 - $1) }
        for ch in 0..<Self.channels { for i in 0..<Self.height {
            let row = (ch * Self.height + i) * Self.width
            #expect(moved[row + 12] == 0, "uncovered column 12 moved")
            #expect(moved[row + 15] > 1e-3 && moved[row + 0] > 1e-3, "the seam window did not move its pixels")
        } }
    }

    /// The same through ``PullbackSampler/sample(_:views:progress:)``: a one-level run with fixed
    /// views starts at `σ_0·ε` (stream 0 of the seed, as in `SamplerConfig`) and takes one step.
    @Test func oneLevelRunWithFixedViews() throws {
        let pano = PanoramaGrid(channels: Self.channels, height: Self.height, width: Self.width, windowWidth: Self.window)
        let sigmas: [Float] = [2, 1.2]
        let start = SamplerConfig(sigmas: sigmas, seed: 9).initialNoise(shape: [Self.channels, Self.height, Self.width]).data
        let expected = Self.closedForm(panorama: start, offsets: Self.offsets, denoiser: Self.denoiser(),
                                       sigma: sigmas[0], keep: sigmas[1] / sigmas[0])
        let sampler = PullbackSampler(denoiser: Self.denoiser(), configuration: .init(sigmas: sigmas, seed: 9))
        try sampler.sample(pano, views: { _ in Self.offsets.map(Float.init) })
        let err = maxAbsDifference(pano.pixels.data, expected)
        #expect(err <= 1e-4, "max |pullback − closed form| = \(err)")
    }

    /// With η > 0 the step adds the DDIM noise `η(σ'/σ)√(σ² − σ'²)·ε` on the panorama pixels, `ε`
    /// the next draw of the generator passed in.
    @Test func stochasticStepAddsPixelNoise() throws {
        let pano = PanoramaGrid(channels: Self.channels, height: Self.height, width: Self.width, windowWidth: Self.window)
        var rng = RandomGenerator(seed: 7)
        pano.pixels.data = rng.normalValues(pano.pixels.count)
        let (sigma, next, eta): (Float, Float, Float) = (1, 0.6, 1)
        // η = 1 keeps √(σ'² − s²)/σ of x − D and adds s·ε, s = η(σ'/σ)√(σ² − σ'²) (DDIM, VE form).
        let s = eta * (next / sigma) * (sigma * sigma - next * next).squareRoot()
        let keep = (next * next - s * s).squareRoot() / sigma
        let deterministic = Self.closedForm(panorama: pano.pixels.data, offsets: Self.offsets, denoiser: Self.denoiser(),
                                            sigma: sigma, keep: keep)
        var copy = RandomGenerator(seed: 8)
        let eps = copy.normalValues(pano.pixels.count)
        let expected = zip(deterministic, eps).map { $0 + s * $1 }

        let config = PullbackSampler.Configuration(sigmas: [sigma, next], eta: eta)
        var noise = RandomGenerator(seed: 8)
        try PullbackSampler(denoiser: Self.denoiser(), configuration: config)
            .step(pano, views: Self.offsets.map(Float.init), sigma: sigma, nextSigma: next, noise: &noise)
        #expect(maxAbsDifference(pano.pixels.data, expected) <= 1e-4,
                "max |pullback − closed form + noise| = \(maxAbsDifference(pano.pixels.data, expected))")
    }
}
