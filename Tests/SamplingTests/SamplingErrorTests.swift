import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// Bad settings, cancellation and NaN end a run with a clear ``Sampling/SamplingError``.
/// (`Diffusion` has a `SamplingError` of its own, hence the module prefix.)
@Suite struct SamplingErrorTests {
    static let sigmas = KarrasSchedule.sigmas(steps: 6, sigmaMin: 0.05, sigmaMax: 5)
    static var denoiser: GaussianDenoiser { GaussianDenoiser(mean: Tensor.zeros([1, 2, 2]), variance: 1) }

    static func isInvalidConfiguration(_ error: any Error) -> Bool {
        if case .invalidConfiguration = error as? SamplingError { return true }
        return false
    }

    static let invalidPullback: [PullbackSampler.Configuration] = [
        .init(sigmas: [1]),                                       // one level: no step
        .init(sigmas: [1, 2, 0]),                                 // increasing
        .init(sigmas: [1, 1, 0]),                                 // not strictly decreasing
        .init(sigmas: [0, -1]),                                   // starts at zero, ends negative
        .init(sigmas: [.nan, 0]),
        .init(sigmas: sigmas, viewsPerStep: 0),
        .init(sigmas: sigmas, eta: -0.1),
        .init(sigmas: sigmas, eta: 1.5),
        .init(sigmas: sigmas, resample: 0),
        .init(sigmas: sigmas, solver: .conjugateGradient(iterations: 0)),
        .init(sigmas: sigmas, solver: .conjugateGradient(damping: -1)),
        .init(sigmas: sigmas, solver: .adam(steps: 0)),
        .init(sigmas: sigmas, solver: .adam(learningRate: 0)),
    ]

    @Test(arguments: invalidPullback.indices)
    func invalidPullbackConfigurationThrows(index: Int) {
        let image = PixelImage(channels: 1, height: 2, width: 2)
        let sampler = PullbackSampler(denoiser: Self.denoiser, configuration: Self.invalidPullback[index])
        #expect(throws: SamplingError.self) { try sampler.sample(image) }
        do { try sampler.sample(image); Issue.record("configuration \(index) ran") } catch {
            #expect(Self.isInvalidConfiguration(error), "configuration \(index) threw \(error)")
        }
        #expect(image.pixels.data.allSatisfy { $0 == 0 }, "an invalid run touched the parameters")
    }

    @Test func emptyViewChoiceAndBadStepThrow() {
        let pano = PanoramaGrid(channels: 1, height: 2, width: 8, windowWidth: 4)
        let sampler = PullbackSampler(denoiser: Self.denoiser, configuration: .init(sigmas: Self.sigmas))
        #expect(throws: SamplingError.self) { try sampler.sample(pano, views: { _ in [] }) }
        var rng = RandomGenerator(seed: 0)
        #expect(throws: SamplingError.self) { try sampler.step(pano, views: [0], sigma: 1, nextSigma: 2, noise: &rng) }
    }

    static let invalidDistillation: [ScoreDistillationSampler.Configuration] = [
        .init(method: .sds, iterations: 0),
        .init(method: .sds, viewsPerStep: 0),
        .init(method: .sds, learningRate: 0),
        .init(method: .sds, sigmaMin: 0),
        .init(method: .sds, sigmaMin: 2, sigmaMax: 1),
        .init(method: .sjc(perturbations: 0)),
    ]

    @Test(arguments: invalidDistillation.indices)
    func invalidDistillationConfigurationThrows(index: Int) {
        let image = PixelImage(channels: 1, height: 2, width: 2)
        let sampler = ScoreDistillationSampler(denoiser: Self.denoiser, configuration: Self.invalidDistillation[index])
        do { try sampler.sample(image); Issue.record("configuration \(index) ran") } catch {
            #expect(Self.isInvalidConfiguration(error), "configuration \(index) threw \(error)")
        }
    }

    @Test func progressReturningFalseCancels() throws {
        let image = PixelImage(channels: 1, height: 2, width: 2)
        let sampler = PullbackSampler(denoiser: Self.denoiser, configuration: .init(sigmas: Self.sigmas, seed: 1))
        var seen: [Int] = []
        #expect(throws: SamplingError.cancelled(afterStep: 2)) {
            try sampler.sample(image) { p in
                seen.append(p.step)
                #expect(p.totalSteps == 6 && p.sigma == Self.sigmas[p.step])
                return p.step < 2
            }
        }
        #expect(seen == [1, 2], "progress ran at steps \(seen)")

        let sds = ScoreDistillationSampler(denoiser: Self.denoiser, configuration: .init(method: .sjc(perturbations: 2), iterations: 10))
        #expect(throws: SamplingError.cancelled(afterStep: 3)) {
            try sds.sample(PixelImage(channels: 1, height: 2, width: 2)) { $0.step < 3 }
        }
    }

    @Test func nanDenoiserThrowsNonFinite() throws {
        let image = PixelImage(channels: 1, height: 2, width: 2)
        let sampler = PullbackSampler(denoiser: NaNDenoiser(), configuration: .init(sigmas: Self.sigmas))
        #expect(throws: SamplingError.nonFinite(step: 0, sigma: Self.sigmas[0])) { try sampler.sample(image) }
        #expect(image.pixels.data.allSatisfy { $0.isFinite }, "the NaN reached the parameters")

        let sds = ScoreDistillationSampler(denoiser: NaNDenoiser(), configuration: .init(method: .sds, iterations: 5))
        do { try sds.sample(PixelImage(channels: 1, height: 2, width: 2)); Issue.record("SDS ran on NaN") } catch {
            guard case .nonFinite(step: 0, sigma: _) = error as? SamplingError else {
                Issue.record("SDS threw \(error)"); return
            }
        }
    }

    /// A denoiser that turns NaN only late in the run: the error names that step and level.
    @Test func lateNaNNamesTheStep() throws {
        struct LateNaN: Denoiser {
            let base: GaussianDenoiser
            let below: Float
            func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
                sigma < below ? Tensor(x.shape, data: [Float](repeating: .infinity, count: x.count))
                              : base.denoise(x, sigma: sigma, condition: condition)
            }
        }
        let sampler = PullbackSampler(denoiser: LateNaN(base: Self.denoiser, below: Self.sigmas[3] * 1.01),
                                      configuration: .init(sigmas: Self.sigmas))
        #expect(throws: SamplingError.nonFinite(step: 3, sigma: Self.sigmas[3])) {
            try sampler.sample(PixelImage(channels: 1, height: 2, width: 2))
        }
    }
}
