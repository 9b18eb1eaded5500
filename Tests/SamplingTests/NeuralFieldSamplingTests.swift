import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
@testable import Sampling

/// The two SIREN diffreps through the pullback sampler as the CLI runs them, the denoised state:
/// the SIREN image with carried noise, the panorama field with its own panorama noise (which the
/// sampler takes in place of per-window noise). Runs end finite and move the weights, and the
/// same seed gives the same weights.
@Suite struct NeuralFieldSamplingTests {
    static let sigmas = KarrasSchedule.sigmas(steps: 5, sigmaMin: 0.05, sigmaMax: 3)

    @Test func sirenImageSamplesInTheDenoisedState() throws {
        var rng = RandomGenerator(seed: 41)
        let denoiser = GaussianDenoiser(mean: rng.uniform([3, 8, 8], in: -0.5...0.5), variance: 0.05)
        let config = PullbackSampler.Configuration(sigmas: Self.sigmas, viewsPerStep: 1, seed: 3, state: .denoised)
        func run() throws -> SirenImage {
            let siren = SirenImage(channels: 3, height: 8, width: 8, hidden: 16, layers: 2, seed: 1)
            try PullbackSampler(denoiser: denoiser, configuration: config).sample(siren)
            return siren
        }
        let initial = parameterValues(SirenImage(channels: 3, height: 8, width: 8, hidden: 16, layers: 2, seed: 1).parameters)
        let siren = try run()
        let values = parameterValues(siren.parameters)
        #expect(values.allSatisfy { $0.isFinite })
        #expect(maxAbsDifference(values, initial) > 1e-3, "the weights did not move")
        let render = GradMode.withoutGrad { siren.render([()]) }.data
        #expect(render.allSatisfy { $0.isFinite && abs($0) < 10 }, "the render left any sensible range")
        #expect(parameterValues(try run().parameters) == values, "same seed, different SIREN")
    }

    @Test func panoramaFieldSamplesWithItsPanoramaNoise() throws {
        let pano = PanoramaField(channels: 2, height: 4, width: 12, windowWidth: 4, hidden: 8, layers: 2)
        var config = PullbackSampler.Configuration(sigmas: Self.sigmas, viewsPerStep: 1, seed: 3, state: .denoised)
        config.viewConsistentNoise = true
        config.noiseCorrelation = 0
        let sampler = PullbackSampler(denoiser: GaussianDenoiser(mean: Tensor.zeros([2, 4, 4]), variance: 0.05), configuration: config)
        // The windows' noise is the panorama's, not fresh per window.
        let views: [Float] = [0, 2]
        var fresh = RandomGenerator(seed: 1)
        let state = try #require(PullbackRun(sampler, diffrep: pano, carried: nil).state as? DenoisedState)
        let e = state.viewNoise(pano, views: views, shape: [2, 2, 4, 4], fresh: &fresh)
        #expect(e.data == pano.viewConsistentNoise(views, seed: config.seed ^ 0x5E_ED_0F_5E_ED)!.data)
        func run() throws -> [Float] {
            let p = PanoramaField(channels: 2, height: 4, width: 12, windowWidth: 4, hidden: 8, layers: 2)
            try sampler.sample(p)
            return parameterValues(p.parameters)
        }
        let values = try run()
        #expect(values.allSatisfy { $0.isFinite })
        #expect(maxAbsDifference(values, parameterValues(pano.parameters)) > 1e-3, "the weights did not move")
        #expect(try run() == values, "same seed, different field")
    }
}
