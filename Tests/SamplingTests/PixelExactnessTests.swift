import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// On a pixel grid (`R` = identity) the pullback sampler *is* DDIM: the same seed gives the same
/// image as `DDIMSampler` (docs/DESIGN.md §2, "Exactness that must hold and is tested").
@Suite struct PixelExactnessTests {
    static let shape = [3, 4, 4]

    /// Gaussian data with a smooth covariance and a non-zero mean: `D` is affine but not isotropic.
    static func gaussian() -> GaussianDenoiser {
        var rng = RandomGenerator(seed: 11)
        return GaussianDenoiser(mean: rng.uniform(shape, in: -0.5...0.5),
                                covariance: smoothCovariance(channels: 3, height: 4, width: 4, length: 1.2, variance: 0.3))
    }

    /// Three separated modes with unequal weights: `D` is strongly non-linear.
    static func mixture() -> GaussianMixtureDenoiser {
        var rng = RandomGenerator(seed: 12)
        return GaussianMixtureDenoiser(weights: [0.5, 0.3, 0.2], means: rng.uniform([3] + shape, in: -1...1),
                                       variances: [0.02, 0.05, 0.01])
    }

    static func pullback(_ denoiser: any Denoiser, sigmas: [Float], seed: UInt64, eta: Float, views: Int,
                         state: PullbackSampler.StateMode = .noisy, noiseCorrelation: Float = 1) throws -> [Float] {
        let image = PixelImage(channels: shape[0], height: shape[1], width: shape[2])
        var config = PullbackSampler.Configuration(sigmas: sigmas, viewsPerStep: views, eta: eta, resample: 1,
                                                   solver: .conjugateGradient(), seed: seed, state: state)
        config.noiseCorrelation = noiseCorrelation
        try PullbackSampler(denoiser: denoiser, configuration: config).sample(image)
        return image.pixels.data
    }

    static func ddim(_ denoiser: any Denoiser, sigmas: [Float], seed: UInt64, eta: Float) throws -> [Float] {
        try DDIMSampler(eta: eta).sample(denoiser, shape: [1] + shape, config: SamplerConfig(sigmas: sigmas, seed: seed)).data
    }

    @Test(arguments: [(Float(0), 1), (Float(1), 1), (Float(0.5), 1), (Float(0), 3), (Float(1), 3)])
    func pullbackEqualsDDIM(eta: Float, views: Int) throws {
        let sigmas = KarrasSchedule.sigmas(steps: 20, sigmaMin: 0.01, sigmaMax: 80)
        for (name, denoiser) in [("gaussian", Self.gaussian() as any Denoiser), ("mixture", Self.mixture())] {
            for seed: UInt64 in [1, 2] {
                let a = try Self.pullback(denoiser, sigmas: sigmas, seed: seed, eta: eta, views: views)
                let b = try Self.ddim(denoiser, sigmas: sigmas, seed: seed, eta: eta)
                let err = maxAbsDifference(a, b)
                #expect(err <= 1e-4, "\(name), seed \(seed), η = \(eta), K = \(views): max |pullback − DDIM| = \(err)")
                #expect(b.allSatisfy { abs($0) < 5 }, "\(name): the DDIM reference left the data range")
            }
        }
    }

    /// The denoised state with its noise fully carried (ρ = 1) holds `x` where DDIM holds
    /// `x + σ·ε`: the same trajectory, so the same image; with fresh noise (ρ < 1) it is not DDIM.
    @Test(arguments: [1, 3])
    func denoisedStateWithCarriedNoiseEqualsDDIM(views: Int) throws {
        let sigmas = KarrasSchedule.sigmas(steps: 20, sigmaMin: 0.01, sigmaMax: 80)
        for (name, denoiser) in [("gaussian", Self.gaussian() as any Denoiser), ("mixture", Self.mixture())] {
            for seed: UInt64 in [1, 2] {
                let a = try Self.pullback(denoiser, sigmas: sigmas, seed: seed, eta: 0, views: views, state: .denoised)
                let b = try Self.ddim(denoiser, sigmas: sigmas, seed: seed, eta: 0)
                #expect(maxAbsDifference(a, b) <= 1e-4, "\(name), seed \(seed), K = \(views): max |pullback − DDIM| = \(maxAbsDifference(a, b))")
                let c = try Self.pullback(denoiser, sigmas: sigmas, seed: seed, eta: 0, views: views, state: .denoised,
                                          noiseCorrelation: 0.5)
                #expect(maxAbsDifference(c, b) > 1e-2, "\(name): half-fresh noise still gave the DDIM image")
            }
        }
    }

    @Test func pullbackEqualsDDIMOnTheModelSchedule() throws {
        let sigmas = DDPMSchedule().ddimSigmas(steps: 25)       // σ_0 ≈ 157, ends at 0 through the discrete steps
        let a = try Self.pullback(Self.mixture(), sigmas: sigmas, seed: 5, eta: 1, views: 1)
        let b = try Self.ddim(Self.mixture(), sigmas: sigmas, seed: 5, eta: 1)
        #expect(maxAbsDifference(a, b) <= 1e-4, "max |pullback − DDIM| = \(maxAbsDifference(a, b))")
    }

    @Test func sameSeedSameImageOtherSeedOtherImage() throws {
        let sigmas = KarrasSchedule.sigmas(steps: 10, sigmaMin: 0.01, sigmaMax: 20)
        let a = try Self.pullback(Self.gaussian(), sigmas: sigmas, seed: 3, eta: 1, views: 2)
        let b = try Self.pullback(Self.gaussian(), sigmas: sigmas, seed: 3, eta: 1, views: 2)
        let c = try Self.pullback(Self.gaussian(), sigmas: sigmas, seed: 4, eta: 1, views: 2)
        #expect(a == b, "the same seed must give a bit-identical image")
        #expect(maxAbsDifference(a, c) > 0.05, "different seeds gave the same image")
    }
}
