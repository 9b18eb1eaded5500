import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// A neural field cannot show exact pixel noise, so the sampler projects per-view white noise by
/// least squares (the fallback path): runs end finite, call the denoiser once per step and
/// resample, report progress per level, and reproduce with the same seed.
@Suite struct FieldSamplingTests {
    @Test(arguments: [(0, 1), (1, 2)])
    func fieldSamplingRunsOnTheProjectedNoise(layers: Int, resample: Int) throws {
        var rng = RandomGenerator(seed: 41)
        let denoiser = CountingDenoiser(GaussianDenoiser(mean: rng.uniform([3, 8, 8], in: -0.5...0.5), variance: 0.05))
        let sigmas = KarrasSchedule.sigmas(steps: 6, sigmaMin: 0.05, sigmaMax: 3)
        let config = PullbackSampler.Configuration(sigmas: sigmas, viewsPerStep: 2, eta: 0.5, resample: resample, seed: 3)
        func run() throws -> (FourierFieldImage, SamplingReport, [Int]) {
            let field = FourierFieldImage(channels: 3, height: 8, width: 8, features: 8, hidden: 8, layers: layers, seed: 1)
            var steps: [Int] = []
            let report = try PullbackSampler(denoiser: denoiser, configuration: config).sample(field) { steps.append($0.step); return true }
            return (field, report, steps)
        }
        let initial = parameterValues(FourierFieldImage(channels: 3, height: 8, width: 8, features: 8, hidden: 8, layers: layers, seed: 1).parameters)
        denoiser.calls = 0
        let (field, report, steps) = try run()
        #expect(report.denoiserCalls == 6 * resample && denoiser.calls == 6 * resample)
        #expect(steps == Array(1...6))
        #expect(report.solverIterations > 0)
        let values = parameterValues(field.parameters)
        #expect(values.allSatisfy { $0.isFinite })
        #expect(zip(values, initial).contains { abs($0 - $1) > 1e-3 }, "the parameters did not move")
        let render = GradMode.withoutGrad { field.render([()]) }.data
        #expect(render.allSatisfy { $0.isFinite && abs($0) < 10 }, "the field's render left any sensible range")
        #expect(try run().0.parameters.tensors.map(\.data) == field.parameters.tensors.map(\.data), "same seed, different field")
    }
}
