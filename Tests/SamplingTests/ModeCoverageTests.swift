import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// Sampling, not mode seeking (docs/DESIGN.md §2): on a Gaussian mixture with unequal weights, pullback
/// samples from many seeds fall into the modes in proportion to the weights, while SDS from the same
/// seeds collapses — every seed lands on the same mode.
@Suite struct ModeCoverageTests {
    static let weights: [Float] = [0.5, 0.3, 0.2]
    /// Three well-separated modes (pairwise distance ≥ 2.8, std 0.1) of a 1×2×2 image.
    static let means: [[Float]] = [[0.8, 0.8, -0.8, -0.8], [-0.8, 0.8, 0.8, -0.8], [-0.6, -0.9, -0.6, 0.9]]
    static var denoiser: GaussianMixtureDenoiser { GaussianMixtureDenoiser(weights: weights, means: Tensor([3, 1, 2, 2], data: means.flatMap { $0 }),
                                                  variances: [0.01, 0.01, 0.01]) }
    static let seeds: [UInt64] = Array(1...300)

    /// The mode nearest to `x`, and the distance to it.
    static func nearestMode(_ x: [Float]) -> (mode: Int, distance: Float) {
        let d = means.map { m in zip(m, x).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        let best = d.indices.min { d[$0] < d[$1] }!
        return (best, d[best])
    }

    static func modeCounts(_ samples: [[Float]]) -> [Int] {
        var counts = [0, 0, 0]
        for s in samples { counts[nearestMode(s).mode] += 1 }
        return counts
    }

    /// Mean squared distance of the samples to their mean (summed over the 4 values).
    static func spread(_ samples: [[Float]]) -> Float {
        let n = Float(samples.count)
        let mean = (0..<4).map { j in samples.reduce(Float(0)) { $0 + $1[j] } / n }
        return samples.reduce(Float(0)) { acc, s in acc + zip(s, mean).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } } / n
    }

    /// χ² with 2 degrees of freedom: P(χ² > 13.82) = 0.001.
    static let chiSquareCritical = 13.82

    static func pullbackSamples(seeds: [UInt64], eta: Float, resample: Int) throws -> [[Float]] {
        let sigmas = KarrasSchedule.sigmas(steps: 25, sigmaMin: 0.01, sigmaMax: 20)
        return try seeds.map { seed in
            let image = PixelImage(channels: 1, height: 2, width: 2)
            let config = PullbackSampler.Configuration(sigmas: sigmas, viewsPerStep: 1, eta: eta, resample: resample, seed: seed)
            try PullbackSampler(denoiser: denoiser, configuration: config).sample(image)
            return image.pixels.data
        }
    }

    /// 300 seeds, deterministic (η = 0) and stochastic with RePaint resampling (η = 1, U = 2).
    @Test(arguments: [(Float(0), 1), (Float(1), 2)])
    func pullbackCoversModesByWeight(eta: Float, resample: Int) throws {
        let samples = try Self.pullbackSamples(seeds: Array(1...300), eta: eta, resample: resample)
        let far = samples.map { Self.nearestMode($0).distance }.max()!
        #expect(far < 0.6, "a pullback sample is \(far) from every mode")
        let counts = Self.modeCounts(samples)
        let chi = chiSquare(counts: counts, probabilities: Self.weights.map(Double.init))
        #expect(chi < Self.chiSquareCritical, "pullback counts \(counts) reject the weights \(Self.weights): χ² = \(chi)")
    }

    /// SDS from the diffrep's initial state (zeros), 100 seeds: one mode takes nearly everything,
    /// the weights are rejected, and the spread across seeds is a small fraction of the pullback
    /// samples' from the same seeds (SDS 96/4/0 and spread ≈ 0.10 vs ≈ 2.0 when written).
    @Test func sdsFromTheSameSeedsCollapses() throws {
        let seeds: [UInt64] = Array(1...100)
        let sds = try seeds.map { seed -> [Float] in
            let image = PixelImage(channels: 1, height: 2, width: 2)
            let config = ScoreDistillationSampler.Configuration(method: .sds, iterations: 300, viewsPerStep: 1, seed: seed)
            try ScoreDistillationSampler(denoiser: Self.denoiser, configuration: config).sample(image)
            return image.pixels.data
        }
        let pullback = try Self.pullbackSamples(seeds: seeds, eta: 0, resample: 1)
        let counts = Self.modeCounts(sds)
        let chi = chiSquare(counts: counts, probabilities: Self.weights.map(Double.init))
        #expect(counts.max()! >= 90, "SDS did not collapse: \(counts)")
        #expect(chi > Self.chiSquareCritical, "SDS counts \(counts) fit the weights: χ² = \(chi)")
        #expect(Self.spread(sds) < 0.1 * Self.spread(pullback),
                "SDS spread \(Self.spread(sds)) vs pullback \(Self.spread(pullback))")
    }
}
