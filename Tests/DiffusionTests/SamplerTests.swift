import Foundation
import Testing
import TensorCore
import Diffusion
import TestSupport

/// A denoiser that returns NaN below a noise level.
private struct BrokenDenoiser: Denoiser {
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        sigma < 1 ? Tensor(x.shape, repeating: .nan) : x.scaled(by: 0.5)
    }
}

/// Correlated Gaussian data of dimension 6 (items of shape [1, 2, 3]).
private func correlatedGaussian() -> (denoiser: GaussianDenoiser, mean: [Double], covariance: [Double]) {
    let d = 6
    let cov = randomCovariance(d: d, seed: 3)
    let mean: [Double] = [0.5, -0.3, 0.2, 0.0, -0.6, 0.4]
    let g = GaussianDenoiser(mean: Tensor([1, 2, 3], data: mean.map(Float.init)),
                             covariance: Tensor([d, d], data: cov.map(Float.init)))
    return (g, mean, cov)
}

/// Checks the sample mean and covariance of `x` (`[N, …]`, items of 6 values) against the
/// Gaussian's, each within `z` standard errors; returns the largest |z|.
@discardableResult
private func expectMoments(_ x: Tensor, mean: [Double], covariance: [Double], z: Double = 4.5,
                           _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    let d = mean.count, n = Double(x.shape[0])
    let (m, c) = sampleMoments(x.data, d: d)
    var worst = 0.0
    for j in 0..<d {
        let zj = (m[j] - mean[j]) / (covariance[j * d + j] / n).squareRoot()
        worst = max(worst, abs(zj))
        #expect(abs(zj) < z, "\(what): mean[\(j)] = \(m[j]) vs \(mean[j]) (z = \(zj))", sourceLocation: sourceLocation)
    }
    for a in 0..<d { for b in a..<d {
        let s = covariance[a * d + b]
        let se = ((s * s + covariance[a * d + a] * covariance[b * d + b]) / n).squareRoot()
        let zab = (c[a * d + b] - s) / se
        worst = max(worst, abs(zab))
        #expect(abs(zab) < z, "\(what): cov[\(a), \(b)] = \(c[a * d + b]) vs \(s) (z = \(zab))", sourceLocation: sourceLocation)
    } }
    return worst
}

@Suite struct SamplerTests {
    /// The one-step marginal: for data at a point, x ~ N(0, σ²) must land on N(0, σ'²) for every η,
    /// i.e. keep²·σ² + noise² = σ'²; η = 0 is the ODE step and η = 1 has the DDPM posterior variance.
    @Test func ddimStepCoefficientsPreserveTheMarginal() {
        for (s, sn) in [(Float(10), Float(5)), (1, 0.9), (0.5, 0), (80, 0.002)] {
            for eta: Float in [0, 0.3, 1, 2] {
                let c = ddimStepCoefficients(sigma: s, nextSigma: sn, eta: eta)
                let variance = c.keep * c.keep * s * s + c.noise * c.noise
                #expect(abs(variance - sn * sn) <= 1e-5 * max(sn * sn, 1e-6), "σ \(s) → \(sn), η \(eta)")
            }
            #expect(abs(ddimStepCoefficients(sigma: s, nextSigma: sn, eta: 0).keep - sn / s) < 1e-6)
            let ancestral = ddimStepCoefficients(sigma: s, nextSigma: sn, eta: 1).noise
            #expect(abs(ancestral * ancestral - sn * sn * (s * s - sn * sn) / (s * s)) <= 1e-4 * max(sn * sn, 1e-6))
        }
        let x = Tensor([1, 2], data: [4, -2]), d = Tensor([1, 2], data: [1, 1])
        #expect(ddimStep(x: x, denoised: d, sigma: 2, nextSigma: 1, eta: 0, noise: nil).data == [2.5, -0.5])
        let z = Tensor([1, 2], data: [1, -1])
        let c = ddimStepCoefficients(sigma: 2, nextSigma: 1, eta: 1)
        assertClose(ddimStep(x: x, denoised: d, sigma: 2, nextSigma: 1, eta: 1, noise: z).data,
                    [1 + 3 * c.keep + c.noise, 1 - 3 * c.keep - c.noise], rtol: 1e-6, atol: 1e-6)
    }

    /// Deterministic DDIM on the model's own 50 DDIM timesteps turns N(0, σ_max²) into the data
    /// distribution: mean and covariance of 2000 samples match within a few standard errors.
    @Test func ddimSamplesGaussianData() throws {
        let (g, mean, cov) = correlatedGaussian()
        let sigmas = DDPMSchedule().ddimSigmas(steps: 50)
        let x = try DDIMSampler(eta: 0).sample(g, shape: [2000, 1, 2, 3], config: SamplerConfig(sigmas: sigmas, seed: 1))
        #expect(x.shape == [2000, 1, 2, 3])
        expectMoments(x, mean: mean, covariance: cov, "DDIM η = 0")
    }

    /// The stochastic variant (η = 1), Heun and Euler on Karras levels sample the same distribution.
    /// (Ancestral steps shrink the variance by O(step size) — about 10% at 100 Karras steps for this
    /// data, 1% at 1000 — hence the many steps for η = 1.)
    @Test(arguments: [(DDIMSampler(eta: 1) as any ImageSampler, 1000), (HeunSampler(), 25), (EulerSampler(), 60)])
    func otherSamplersSampleGaussianData(sampler: any ImageSampler, steps: Int) throws {
        let (g, mean, cov) = correlatedGaussian()
        let config = SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: steps, sigmaMin: 0.002, sigmaMax: 80), seed: 2)
        let x = try sampler.sample(g, shape: [2000, 1, 2, 3], config: config)
        expectMoments(x, mean: mean, covariance: cov, "\(sampler)")
    }

    /// Euler on the PF-ODE in VE form is DDIM with η = 0.
    @Test func eulerEqualsDeterministicDDIM() throws {
        let (g, _, _) = correlatedGaussian()
        let config = SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: 12, sigmaMin: 0.01, sigmaMax: 20), seed: 9)
        let a = try EulerSampler().sample(g, shape: [8, 1, 2, 3], config: config)
        let b = try DDIMSampler().sample(g, shape: [8, 1, 2, 3], config: config)
        assertClose(a, b, rtol: 1e-4, atol: 1e-4)
    }

    /// With the empirical denoiser the samples are training images (memorisation), and several
    /// different ones.
    @Test func empiricalSamplesLandOnTrainingImages() throws {
        var rng = RandomGenerator(seed: 12)
        let images = rng.uniform([6, 3, 4, 4], in: -1...1)                        // [N, C, H, W]
        let config = SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: 40, sigmaMin: 0.002, sigmaMax: 80), seed: 5)
        let x = try DDIMSampler().sample(EmpiricalDenoiser(images: images), shape: [24, 3, 4, 4], config: config)
        let d = 48
        var hit = Set<Int>()
        for i in 0..<24 {
            var best = Float.infinity, arg = -1
            for n in 0..<6 {
                var dist: Float = 0
                for j in 0..<d { let r = x.data[i * d + j] - images.data[n * d + j]; dist += r * r }
                if dist < best { best = dist; arg = n }
            }
            #expect((best / Float(d)).squareRoot() < 1e-3, "sample \(i) is \((best / Float(d)).squareRoot()) (RMS) from image \(arg)")
            hit.insert(arg)
        }
        #expect(hit.count >= 4, "samples hit only images \(hit)")
    }

    /// A Gaussian mixture's samples split between the modes in proportion to the weights.
    @Test func mixtureSamplesSplitByWeights() throws {
        let weights: [Float] = [0.2, 0.3, 0.5]
        let means = Tensor([3, 1, 1, 2], data: [-4, 0, 4, 0, 0, 4])
        let gmm = GaussianMixtureDenoiser(weights: weights, means: means, variances: [0.25, 0.1, 0.4])
        let n = 3000
        let config = SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: 40, sigmaMin: 0.002, sigmaMax: 80), seed: 77)
        let x = try DDIMSampler().sample(gmm, shape: [n, 1, 1, 2], config: config)
        var counts = [0, 0, 0]
        var spread = [0.0, 0.0, 0.0]
        for i in 0..<n {
            let p = (x.data[2 * i], x.data[2 * i + 1])
            let dist = (0..<3).map { k -> Float in
                let dx = p.0 - means.data[2 * k], dy = p.1 - means.data[2 * k + 1]
                return dx * dx + dy * dy
            }
            let k = dist.firstIndex(of: dist.min()!)!
            counts[k] += 1
            spread[k] += Double(dist[k])
        }
        for k in 0..<3 {
            let p = Double(weights[k]), share = Double(counts[k]) / Double(n)
            let se = (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(share - p) < 4 * se, "mode \(k): share \(share) vs weight \(p)")
        }
        // within a mode the spread is the component's (2 coordinates × variance)
        for (k, v) in [0.25, 0.1, 0.4].enumerated() {
            let meanSq = spread[k] / Double(counts[k])
            #expect(abs(meanSq - 2 * v) < 0.15 * 2 * v, "mode \(k): mean squared radius \(meanSq) vs \(2 * v)")
        }
    }

    /// Same seed, same images (bit for bit); another seed, other images; stochastic runs too.
    @Test func seedsAreReproducible() throws {
        let (g, _, _) = correlatedGaussian()
        let sigmas = KarrasSchedule.sigmas(steps: 10, sigmaMin: 0.01, sigmaMax: 10)
        for sampler in [DDIMSampler(eta: 0.7) as any ImageSampler, HeunSampler()] {
            let a = try sampler.sample(g, shape: [4, 1, 2, 3], config: SamplerConfig(sigmas: sigmas, seed: 3))
            let b = try sampler.sample(g, shape: [4, 1, 2, 3], config: SamplerConfig(sigmas: sigmas, seed: 3))
            let c = try sampler.sample(g, shape: [4, 1, 2, 3], config: SamplerConfig(sigmas: sigmas, seed: 4))
            #expect(a.data == b.data)
            #expect(a.data != c.data)
        }
        let config = SamplerConfig(sigmas: sigmas, seed: 3)
        var stream0 = RandomGenerator(seed: 3).fork(0), stream5 = RandomGenerator(seed: 3).fork(5)
        #expect(config.initialNoise(shape: [2, 3]).data == stream0.normal([2, 3]).scaled(by: 10).data)
        #expect(config.stepNoise(step: 4, shape: [2, 3]).data == stream5.normal([2, 3]).data)
    }

    /// The progress callback sees every step with its level and time; returning false cancels
    /// with ``SamplingError/cancelled(afterStep:)`` after that step.
    @Test func progressCanCancel() throws {
        let (g, _, _) = correlatedGaussian()
        let config = SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: 10, sigmaMin: 0.01, sigmaMax: 10), seed: 1)
        for sampler in [DDIMSampler() as any ImageSampler, EulerSampler(), HeunSampler()] {
            var seen: [SamplingProgress] = []
            #expect(throws: SamplingError.cancelled(afterStep: 3)) {
                _ = try sampler.sample(g, shape: [2, 1, 2, 3], config: config) { p in
                    seen.append(p)
                    return p.step < 3
                }
            }
            #expect(seen.map(\.step) == [1, 2, 3] && seen.allSatisfy { $0.totalSteps == 10 })
            #expect(seen.map(\.sigma) == Array(config.sigmas[1...3]))
            #expect(seen.allSatisfy { $0.elapsed >= 0 && $0.remaining >= 0 })
            var all = 0
            _ = try sampler.sample(g, shape: [2, 1, 2, 3], config: config) { _ in all += 1; return true }
            #expect(all == 10)
        }
    }

    /// NaN from the denoiser stops the run with an error that names the step and level.
    @Test func nonFiniteDenoiserOutputThrows() {
        let config = SamplerConfig(sigmas: [4, 2, 0.5, 0], seed: 0)
        #expect(throws: SamplingError.nonFinite(step: 2, sigma: 0.5)) {
            _ = try DDIMSampler().sample(BrokenDenoiser(), shape: [1, 1, 1, 2], config: config)
        }
        #expect(SamplingError.nonFinite(step: 2, sigma: 0.5).description.contains("step 2"))
    }

    /// Settings a sampler cannot run with throw instead of trapping, saying what is wrong.
    @Test func badSettingsThrow() {
        let (g, _, _) = correlatedGaussian()
        let good = SamplerConfig(sigmas: [4, 2, 0], seed: 0)
        var labelled = good
        labelled.condition = [1]
        let cases: [(any ImageSampler, SamplerConfig, [Int], String)] = [
            (DDIMSampler(), SamplerConfig(sigmas: [4], seed: 0), [1, 1, 2, 3], "a sampler needs at least two noise levels, got [4.0]"),
            (EulerSampler(), SamplerConfig(sigmas: [2, 4, 0], seed: 0), [1, 1, 2, 3], "noise levels must strictly decrease: [2.0, 4.0, 0.0]"),
            (HeunSampler(), SamplerConfig(sigmas: [0, 0], seed: 0), [1, 1, 2, 3], "noise levels must be finite, non-negative, and start positive: [0.0, 0.0]"),
            (DDIMSampler(), good, [0, 1, 2, 3], "invalid batch shape [0, 1, 2, 3]"),
            (DDIMSampler(), labelled, [2, 1, 2, 3], "1 class labels for a batch of 2"),
            (DDIMSampler(eta: -1), good, [1, 1, 2, 3], "eta must be finite and non-negative, got -1.0"),
        ]
        for (sampler, config, shape, why) in cases {
            #expect(throws: SamplingError.invalidConfiguration(why)) { _ = try sampler.sample(g, shape: shape, config: config) }
        }
    }
}
