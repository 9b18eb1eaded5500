import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// The public `step` is the loop's step: a custom loop of steps with the run's carried noise
/// reproduces ``PullbackSampler/sample(_:views:progress:)`` bit for bit in the denoised state, and
/// carried noise that does not fit the run is refused.
@Suite struct PullbackStepTests {
    static let sigmas = KarrasSchedule.sigmas(steps: 5, sigmaMin: 0.05, sigmaMax: 3)

    static func denoiser(side: Int) -> GaussianDenoiser {
        var rng = RandomGenerator(seed: 21)
        return GaussianDenoiser(mean: rng.uniform([3, side, side], in: -0.5...0.5), variance: 0.05)
    }

    /// `sample` against the same levels stepped by hand, `resample` steps per level (a denoised
    /// state re-noises nothing between them); ρ = 1, so no fresh noise is drawn.
    func sampledAndStepped<R: Diffrep>(_ make: () -> R, views: [R.View], resample: Int,
                                       denoiser: any Denoiser) throws -> (sampled: [Float], stepped: [Float]) {
        let sampler = PullbackSampler(denoiser: denoiser, configuration: .init(sigmas: Self.sigmas, seed: 4, state: .denoised))
        let a = make(), b = make()
        try sampler.sample(a, views: { _ in views })
        let carried = try #require(sampler.carriedNoise(for: b))
        var unused = RandomGenerator(seed: 0)
        for i in 0..<(Self.sigmas.count - 1) {
            for _ in 0..<resample {
                try sampler.step(b, views: views, sigma: Self.sigmas[i], nextSigma: Self.sigmas[i + 1], noise: &unused, carried: carried)
            }
        }
        return (parameterValues(a.parameters), parameterValues(b.parameters))
    }

    @Test func aLoopOfStepsIsSampleOnAPixelGrid() throws {
        let r = try sampledAndStepped({ PixelImage(channels: 3, height: 4, width: 4) }, views: [()], resample: 1,
                                      denoiser: Self.denoiser(side: 4))
        #expect(r.sampled == r.stepped)
        #expect(r.sampled.contains { $0 != 0 })
    }

    @Test func aLoopOfStepsIsSampleOnANeRF() throws {
        let views = [OrbitView(azimuth: 0.3, elevation: 0.2), OrbitView(azimuth: 2.1, elevation: 0.5)]
        let r = try sampledAndStepped({ NeRFDiffrep(field: VoxelGridField(resolution: 5), imageSize: 6,
                                                    renderer: NeRFRenderer(samplesPerRay: 5)) },
                                      views: views, resample: 2, denoiser: Self.denoiser(side: 6))      // a NeRF resamples twice by default
        #expect(r.sampled == r.stepped)
        #expect(r.sampled.contains { $0 != 0 })
    }

    @Test func carriedNoiseMustFitTheRun() {
        let image = PixelImage(channels: 3, height: 4, width: 4)
        var rng = RandomGenerator(seed: 1)
        let fits = CarriedNoise(count: 1, shape: [3, 4, 4], using: &rng)
        let noisy = PullbackSampler(denoiser: Self.denoiser(side: 4), configuration: .init(sigmas: Self.sigmas))
        #expect(noisy.carriedNoise(for: image) == nil)
        #expect(throws: SamplingError.invalidConfiguration("carried noise belongs to the denoised state; this run is in the noisy state")) {
            try noisy.step(image, views: [()], sigma: 2, nextSigma: 1, noise: &rng, carried: fits)
        }
        let denoised = PullbackSampler(denoiser: Self.denoiser(side: 4), configuration: .init(sigmas: Self.sigmas, state: .denoised))
        #expect(denoised.carriedNoise(for: image)?.values.count == 48)
        let tooSmall = CarriedNoise(count: 1, shape: [3, 2, 2], using: &rng)
        #expect(throws: SamplingError.invalidConfiguration("carried noise of 12 values; this run carries 1 image(s) of [3, 4, 4]")) {
            try denoised.step(image, views: [()], sigma: 2, nextSigma: 1, noise: &rng, carried: tooSmall)
        }
        #expect(image.pixels.data.allSatisfy { $0 == 0 }, "a refused step touched the parameters")
    }
}
