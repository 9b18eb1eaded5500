import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// On a latent strip with pixel-aligned windows the pullback sampler *is* MultiDiffusion in latent
/// space: with the tiny random-weight sd1 pipeline and a prompt, a whole run (several levels,
/// windows that move from step to step, overlaps of different depths, windows across the seam)
/// equals MultiDiffusion written from scratch — each step every window of latents is denoised,
/// takes its DDIM target, and each latent moves by the average of its windows' changes.
@Suite struct LatentPanoramaExactnessTests {
    static let (channels, height, width, window) = (4, 8, 20, 8)

    /// MultiDiffusion on a latent strip `[C, h, W]` (flattened), η = 0: per level, windows at
    /// `offsets[i]` (left edges, wrapping), `y = D + (σ'/σ)(x − D)`, averaged per latent.
    static func multiDiffusion(start: [Float], offsets: [[Int]], sigmas: [Float], denoiser: any Denoiser) -> [Float] {
        let (c, h, w, ww) = (channels, height, width, window)
        var p = start
        for i in 0..<(sigmas.count - 1) {
            let (sigma, next) = (sigmas[i], sigmas[i + 1])
            var sum = [Float](repeating: 0, count: p.count), count = [Float](repeating: 0, count: p.count)
            for offset in offsets[i] {
                var x = [Float](repeating: 0, count: c * h * ww), source = [Int](repeating: 0, count: c * h * ww)
                for ch in 0..<c { for r in 0..<h { for j in 0..<ww {
                    source[(ch * h + r) * ww + j] = (ch * h + r) * w + (offset + j) % w
                    x[(ch * h + r) * ww + j] = p[source[(ch * h + r) * ww + j]]
                } } }
                let d = GradMode.withoutGrad { denoiser.denoise(Tensor([1, c, h, ww], data: x), sigma: sigma, condition: nil).data }
                for k in 0..<x.count {
                    sum[source[k]] += d[k] + (next / sigma) * (x[k] - d[k]) - x[k]
                    count[source[k]] += 1
                }
            }
            p = (0..<p.count).map { count[$0] == 0 ? p[$0] : p[$0] + sum[$0] / count[$0] }
        }
        return p
    }

    /// Offsets per call: three windows (column 3 of 20 covered twice at the first step, one window across the seam).
    static let layouts: [[Int]] = [[0, 15, 8], [3, 11, 18], [6, 14, 17], [1, 9, 16]]

    @Test(arguments: [UInt64(1), 2])
    func pullbackOnLatentStripIsMultiDiffusion(seed: UInt64) throws {
        let sd = try LatentExactnessTests.pipeline()
        let denoiser = sd.denoiser(prompt: "a wide mountain landscape", negativePrompt: "blurry", guidance: 5)
        let sigmas = try sd.ddimSigmas(steps: 4)
        let pano = LatentPanorama(channels: Self.channels, height: Self.height, width: Self.width, windowWidth: Self.window)
        var calls: [[Int]] = []
        let chooser: ViewChooser<Float> = { _ in
            let offsets = Self.layouts[calls.count % Self.layouts.count]
            calls.append(offsets)
            return offsets.map(Float.init)
        }
        try PullbackSampler(denoiser: denoiser, configuration: .init(sigmas: sigmas, seed: seed)).sample(pano, views: chooser)
        let steps = sigmas.count - 1
        #expect(calls.count == steps || calls.count == steps + 1, "the sampler drew views \(calls.count) times for \(steps) steps")

        let start = SamplerConfig(sigmas: sigmas, seed: seed).initialNoise(shape: [Self.channels, Self.height, Self.width]).data
        let expected = Self.multiDiffusion(start: start, offsets: Array(calls.suffix(steps)), sigmas: sigmas, denoiser: denoiser)
        let scale = expected.reduce(0) { max($0, abs($1)) }
        let err = maxAbsDifference(pano.latents.data, expected)
        #expect(err <= 1e-4 * scale, "seed \(seed): max |pullback − MultiDiffusion| = \(err) (scale \(scale))")
        // The run moved the latents away from their start (the comparison is not of two starts).
        #expect(maxAbsDifference(expected, start) > 0.1 * scale)

        let picture = pano.decoded { sd.decodePanorama($0, sigma: sigmas.last!) }          // [3, 16, 40]
        let reference = GradMode.withoutGrad {
            sd.decodePanorama(Tensor([1, Self.channels, Self.height, Self.width], data: expected), sigma: sigmas.last!)
        }
        #expect(picture.shape == [3, 16, 40])
        #expect(maxAbsDifference(picture.data, reference.data) <= 1e-4 * reference.data.reduce(0) { max($0, abs($1)) })
    }

    /// The package's default settings for a latent strip are the pixel panorama's (MultiDiffusion exactly).
    @Test func latentStripDefaultsAreThePixelPanoramas() {
        let latent = PullbackSampler.DiffrepSettings.defaults(for: LatentPanorama(channels: 4, height: 2, width: 8, windowWidth: 2))
        let pixel = PullbackSampler.DiffrepSettings.defaults(for: PanoramaGrid(channels: 4, height: 2, width: 8, windowWidth: 2))
        #expect(latent == pixel && latent.state == .noisy)
    }
}
