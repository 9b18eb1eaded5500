import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// Defaults per diffrep: a configuration that leaves a setting `nil` gets the diffrep's own —
/// for a NeRF, `diffrep nerf`'s measured settings, so its priors reach the solve.
@Suite struct PullbackDefaultsTests {
    static func nerf(quarterTurns: Bool = false) -> NeRFDiffrep {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 6), imageSize: 8, renderer: NeRFRenderer(samplesPerRay: 6))
        nerf.viewsInQuarterTurns = quarterTurns
        return nerf
    }

    @Test func aNeRFGetsTheCLIsSettings() {
        let config = PullbackSampler.Configuration(sigmas: [2, 1, 0])
        var want = PullbackSampler.DiffrepSettings()
        want.state = .denoised
        want.solver = .adam(steps: 20, learningRate: 0.2)
        want.resample = 2
        want.viewsPerStep = 6
        #expect(config.settings(for: Self.nerf()) == want)
        // A multi-view model's views: one group of four a quarter turn apart, azimuth noise (ρ = 0).
        want.viewsPerStep = 4
        want.carriedNoiseImages = 4
        want.viewConsistentNoise = true
        want.noiseCorrelation = 0
        let multiView = Self.nerf(quarterTurns: true)
        #expect(config.settings(for: multiView) == want)
        #expect(multiView.azimuthSteps == NeRFDiffrep.quarterTurnAzimuthSteps && Self.nerf().azimuthSteps == nil)
    }

    /// Views in quarter turns take eight azimuths unless the caller chose others first.
    @Test func quarterTurnsKeepAnAzimuthCountAlreadyChosen() {
        let nerf = Self.nerf()
        nerf.azimuthSteps = 16
        nerf.viewsInQuarterTurns = true
        #expect(nerf.azimuthSteps == 16)
        var rng = RandomGenerator(seed: 3)
        let fresh = Self.nerf(quarterTurns: true)
        let azimuths = fresh.sampleViews(count: 40, using: &rng).map { $0.azimuth }
        // Every view at a multiple of 45° (azimuths run past 360° by the quarter turns added).
        #expect(azimuths.allSatisfy { a in abs(a / (.pi / 4) - (a / (.pi / 4)).rounded()) < 1e-4 })
        #expect(Set(azimuths.map { NeRFDiffrep.azimuthIndex($0, steps: 8) }).count == 8)
    }

    @Test func theConfigurationsOwnValuesWin() {
        var config = PullbackSampler.Configuration(sigmas: [2, 1, 0], viewsPerStep: 3, resample: 1,
                                                   solver: .conjugateGradient(iterations: 5), state: .noisy)
        config.noiseCorrelation = 0.5
        config.carriedNoiseImages = 2
        config.viewConsistentNoise = true
        let s = config.settings(for: Self.nerf())
        #expect(s.state == .noisy && s.solver == .conjugateGradient(iterations: 5) && s.viewsPerStep == 3 && s.resample == 1)
        #expect(s.noiseCorrelation == 0.5 && s.carriedNoiseImages == 2 && s.viewConsistentNoise)
    }

    @Test func everyDiffrepHasTheCommandLinesDefaults() {
        let config = PullbackSampler.Configuration(sigmas: [2, 1, 0])
        let grid = config.settings(for: PixelImage(channels: 3, height: 4, width: 4))
        #expect(grid.state == .noisy && grid.solver == .default && grid.viewsPerStep == 1 && grid.resample == 1)
        let fourier = config.settings(for: FourierFieldImage(channels: 3, height: 4, width: 4))
        #expect(fourier.state == .denoised && fourier.noiseCorrelation == 1 && !fourier.viewConsistentNoise && fourier.viewsPerStep == 1)
        #expect(config.settings(for: PanoramaGrid(channels: 3, height: 4, width: 16, windowWidth: 4)) == grid)
        let siren = config.settings(for: SirenImage(channels: 3, height: 4, width: 4, hidden: 4, layers: 1))
        #expect(siren.state == .denoised && siren.noiseCorrelation == 1 && !siren.viewConsistentNoise && siren.solver == .default)
        let field = config.settings(for: PanoramaField(channels: 3, height: 4, width: 16, windowWidth: 4, hidden: 4, layers: 1))
        #expect(field.state == .denoised && field.noiseCorrelation == 0 && field.viewConsistentNoise && field.viewsPerStep == 1)
        // A diffrep of a user's, without defaults of its own: the general ones.
        #expect(config.settings(for: Doubled()) == .general)
    }

    /// The point of the defaults: with `.init(sigmas:)` alone a NeRF's priors reach the solve
    /// (conjugate gradients, the old default, ignore them and give both runs the same field).
    @Test func aNeRFSampledWithLibraryDefaultsAppliesItsPriors() throws {
        var rng = RandomGenerator(seed: 5)
        let denoiser = GaussianDenoiser(mean: rng.uniform([3, 8, 8], in: -0.5...0.5), variance: 0.05)
        let config = PullbackSampler.Configuration(sigmas: KarrasSchedule.sigmas(steps: 4, sigmaMin: 0.05, sigmaMax: 2), seed: 2)
        func sampled(smoothness: Float, solver: LeastSquaresSolver? = nil) throws -> VoxelGridField {
            let nerf = Self.nerf()
            nerf.smoothness = smoothness
            nerf.sparsity = 0
            var c = config
            c.solver = solver
            try PullbackSampler(denoiser: denoiser, configuration: c).sample(nerf)
            return nerf.field as! VoxelGridField
        }
        func roughness(_ f: VoxelGridField) -> Float {
            GradMode.withoutGrad { f.regularizer(smoothness: 1, sparsity: 0)!.item }
        }
        let free = try sampled(smoothness: 0), smooth = try sampled(smoothness: 1)
        #expect(parameterValues(free.parameters) != parameterValues(smooth.parameters), "the prior did not change the solve")
        #expect(roughness(smooth) < 0.8 * roughness(free), "smoothness prior: TV² \(roughness(smooth)) against \(roughness(free)) without it")
        // The control: with conjugate gradients the prior never reaches the solve.
        let cg = LeastSquaresSolver.conjugateGradient()
        #expect(parameterValues(try sampled(smoothness: 0, solver: cg).parameters) == parameterValues(try sampled(smoothness: 1, solver: cg).parameters))
    }
}

/// A diffrep with no pullback defaults of its own: a 2×2 image shown at 4×4.
private final class Doubled: Diffrep {
    let parameters = Parameters([("pixels", Tensor.zeros([1, 2, 2]))])
    let renderShape = [1, 4, 4]
    func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] { .init(repeating: (), count: count) }
    func render(_ views: [Void]) -> Tensor {
        parameters["pixels"]!.upsampleNearest2x().reshaped([1, 1, 4, 4]).expanded(to: [views.count, 1, 4, 4])
    }
}
