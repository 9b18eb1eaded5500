import Diffusion
import Diffreps
import TensorCore

/// One pullback run on one diffrep (docs/DESIGN.md §2 "Sampling"): the step every level
/// repeats, the state's noise (``PullbackState``), and what the run has measured. The sampler's
/// loop and its public `step` both go through it.
final class PullbackRun<R: Diffrep> {
    let diffrep: R
    let denoiser: any Denoiser
    let configuration: PullbackSampler.Configuration
    /// The diffrep-dependent settings, resolved (the configuration's over the diffrep's defaults).
    let settings: PullbackSampler.DiffrepSettings
    /// Where the noise lives: in the parameters (``NoisyState``) or in each view's denoiser input (``DenoisedState``).
    let state: any PullbackState
    private var clock = SamplingClock()
    private var report = SamplingReport()

    /// A run of `sampler` on `diffrep`; `carried` is the denoised state's carried noise (nil: none).
    init(_ sampler: PullbackSampler, diffrep: R, carried: CarriedNoise?) throws {
        self.diffrep = diffrep
        denoiser = sampler.denoiser
        configuration = sampler.configuration
        settings = configuration.settings(for: diffrep)
        try settings.validate()
        switch settings.state {
        case .noisy:
            guard carried == nil else {
                throw SamplingError.invalidConfiguration("carried noise belongs to the denoised state; this run is in the noisy state")
            }
            state = NoisyState()
        case .denoised:
            let perImage = diffrep.renderShape.reduce(1, *)
            if let carried, carried.values.count != settings.carriedNoiseImages * perImage {
                throw SamplingError.invalidConfiguration("carried noise of \(carried.values.count) values; this run carries \(settings.carriedNoiseImages) image(s) of \(diffrep.renderShape)")
            }
            state = DenoisedState(settings: settings, configuration: configuration, carried: carried)
        }
    }

    /// One DDIM step `σ → σ'` on `views`, pulled back to the parameters; `index` names the step in errors.
    @discardableResult
    func step(views: [R.View], from sigma: Float, to nextSigma: Float, noise: inout RandomGenerator, index: Int) throws -> SolveStats {
        // Render K views and denoise them (a denoised state first adds its per-view noise σ·ε_k).
        let x = GradMode.withoutGrad { diffrep.render(views) }                                  // [K, C, H, W]
        let input = state.denoiserInput(x, of: diffrep, views: views, sigma: sigma, noise: &noise)
        let conditions = ViewConditions.make(views: views, classLabel: configuration.classLabel,   // class + each view's camera
                                             withCamera: configuration.cameraFromSigma.map { sigma <= $0 } ?? true)
        let d = SamplingClock.time(&clock.denoiserSeconds) {
            GradMode.withoutGrad { denoiser.denoise(input, sigma: sigma, conditions: conditions) }
        }
        report.denoiserCalls += 1
        precondition(d.shape == x.shape, "denoiser returned \(d.shape) for renders of \(x.shape)")
        guard d.data.allSatisfy({ $0.isFinite }) else { throw SamplingError.nonFinite(step: index, sigma: sigma) }

        // The image-space DDIM step proposes the targets y_k = D_k + keep·(x_k − D_k).
        let coefficients = ddimStepCoefficients(sigma: sigma, nextSigma: nextSigma, eta: configuration.eta)
        let y = GradMode.withoutGrad { d + (x - d).scaled(by: coefficients.keep) }             // [K, C, H, W]

        // Pull the change y − x back to the parameters.
        let stats = pullBack(views: views, renders: x, targets: y)

        // η > 0: the DDIM step's fresh noise, drawn where the state keeps its noise.
        if coefficients.noise > 0 {
            try addNoise(std: coefficients.noise, views: { views }, noise: &noise)
        }
        guard diffrep.parameters.tensors.allSatisfy({ $0.data.allSatisfy { $0.isFinite } }) else {
            throw SamplingError.nonFinite(step: index, sigma: sigma)
        }
        return stats
    }

    /// Adds noise of standard deviation `std` to the state (nothing in the denoised state, whose
    /// noise is drawn per view); `views` is asked for only when the noise must be projected.
    func addNoise(std: Float, views: () throws -> [R.View], noise: inout RandomGenerator) throws {
        try state.addNoise(std: std, run: self, views: views, noise: &noise)
    }

    /// Moves the parameters by the least-squares change that takes the renders `x` of `views`
    /// toward `targets` (both `[K, C, H, W]`), timed as solve time.
    @discardableResult
    func pullBack(views: [R.View], renders x: Tensor, targets y: Tensor) -> SolveStats {
        let stats = SamplingClock.time(&clock.solveSeconds) {
            LeastSquares.solveAndApply(settings.solver, diffrep: diffrep, views: views, renders: x, targets: y)
        }
        report.solverIterations += stats.iterations
        return stats
    }

    /// The progress report after `step` of `total` steps, now at level `sigma`.
    func progress(step: Int, of total: Int, sigma: Float) -> SamplingProgress {
        clock.progress(step: step, of: total, sigma: sigma)
    }

    /// What the run measured, with its timings.
    func finish() -> SamplingReport {
        var r = report
        r.denoiserSeconds = clock.denoiserSeconds
        r.solveSeconds = clock.solveSeconds
        r.totalSeconds = clock.elapsed
        return r
    }
}
