import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// Smoke checks of the baselines: SDS and SJC run on a pixel image, a panorama (fixed views) and a
/// neural field, call the denoiser as often as they should, and move the parameters.
@Suite struct ScoreDistillationTests {
    static var denoiser: GaussianDenoiser {
        var rng = RandomGenerator(seed: 31)
        return GaussianDenoiser(mean: rng.uniform([3, 4, 4], in: -0.5...0.5), variance: 0.1)
    }

    static let methods: [ScoreDistillationSampler.Method] = [.sds, .sjc(perturbations: 3)]

    @Test(arguments: methods)
    func baselinesMoveTheParameters(method: ScoreDistillationSampler.Method) throws {
        let counting = CountingDenoiser(Self.denoiser)
        let perturbations: Int
        if case let .sjc(n) = method { perturbations = n } else { perturbations = 1 }
        let config = ScoreDistillationSampler.Configuration(method: method, iterations: 12, viewsPerStep: 2, seed: 4)
        let sampler = ScoreDistillationSampler(denoiser: counting, configuration: config)

        let image = PixelImage(channels: 3, height: 4, width: 4)
        let report = try sampler.sample(image)
        #expect(report.denoiserCalls == 12 * perturbations && counting.calls == 12 * perturbations)
        #expect(image.pixels.data.contains { abs($0) > 1e-3 } && image.pixels.data.allSatisfy { $0.isFinite })

        let field = FourierFieldImage(channels: 3, height: 4, width: 4, features: 8, hidden: 8, layers: 1, seed: 2)
        let before = parameterValues(field.parameters)
        try sampler.sample(field)
        #expect(zip(parameterValues(field.parameters), before).contains { abs($0 - $1) > 1e-3 })

        let pano = PanoramaGrid(channels: 3, height: 4, width: 10, windowWidth: 4)
        try sampler.sample(pano, views: { _ in [8] })                        // only columns 8, 9, 0, 1
        let p = pano.pixels.data
        for ch in 0..<3 { for i in 0..<4 { for j in 0..<10 {
            let moved = p[(ch * 4 + i) * 10 + j] != 0
            #expect(moved == [8, 9, 0, 1].contains(j), "column \(j) moved: \(moved)")
        } } }
    }

    /// The same seed gives the same result; another seed another one.
    @Test(arguments: methods)
    func baselinesAreReproducible(method: ScoreDistillationSampler.Method) throws {
        func run(_ seed: UInt64) throws -> [Float] {
            let image = PixelImage(channels: 3, height: 4, width: 4)
            try ScoreDistillationSampler(denoiser: Self.denoiser, configuration: .init(method: method, iterations: 8, seed: seed)).sample(image)
            return image.pixels.data
        }
        #expect(try run(1) == run(1))
        #expect(try run(1) != run(2))
    }
}
