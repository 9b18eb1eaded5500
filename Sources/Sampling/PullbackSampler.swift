import Foundation
import TensorCore
import Diffusion
import Diffreps

/// The paper's method (Savani, Finzi & Kolter 2024; DESIGN.md §2 "Sampling"): integrate the
/// reverse-time diffusion process *in the diffrep's parameters* by pulling each image-space
/// DDIM step back through the render's Jacobian,
/// `δθ = argmin_δ Σ_k ‖J_k δ − (y_k − x_k)‖²`, i.e. `δθ = (Σ JᵀJ)⁻¹ Σ Jᵀ(y − x)`,
/// with RePaint-style resampling to keep the renders consistent (the implicit constraint).
///
/// On a ``PixelImage`` it *is* the DDIM sampler; on a pixel-aligned ``PanoramaGrid`` it is
/// the average of the overlapping window updates (MultiDiffusion).
///
/// ```swift
/// let sigmas = schedule.ddimSigmas(steps: 50)
/// let sampler = PullbackSampler(denoiser: denoiser, configuration: .init(sigmas: sigmas, seed: 7))
/// let pano = PanoramaGrid(channels: 3, height: 32, width: 256, windowWidth: 32)
/// let report = try sampler.sample(pano) { p in print(p.step, p.remaining); return true }
/// ```
public struct PullbackSampler {
    /// Settings of one run (documented defaults).
    public struct Configuration: Sendable {
        /// Noise levels `σ_0 > σ_1 > … > σ_N = 0` (the model's DDIM steps or Karras).
        public var sigmas: [Float]
        /// Views rendered and denoised together per step (`K`).
        public var viewsPerStep = 4
        /// DDIM stochasticity: 0 = deterministic PF-ODE, 1 ≈ DDPM ancestral.
        public var eta: Float = 0
        /// RePaint resampling: each level's step is taken `resample` times, re-noising by
        /// `σ_i² − σ_{i+1}²` in between (1 = no resampling).
        public var resample = 1
        /// How `δθ` is solved for.
        public var solver = LeastSquaresSolver.default
        /// Seeds every random draw (views, noise).
        public var seed: UInt64 = 0
        /// Class label for a conditional denoiser (nil = unconditional).
        public var classLabel: Int? = nil

        public init(sigmas: [Float], viewsPerStep: Int = 4, eta: Float = 0, resample: Int = 1,
                    solver: LeastSquaresSolver = .default, seed: UInt64 = 0, classLabel: Int? = nil) {
            self.sigmas = sigmas
            self.viewsPerStep = viewsPerStep
            self.eta = eta
            self.resample = resample
            self.solver = solver
            self.seed = seed
            self.classLabel = classLabel
        }

        func validate() throws {
            guard sigmas.count >= 2, zip(sigmas, sigmas.dropFirst()).allSatisfy({ $0 > $1 }), sigmas.last! >= 0 else {
                throw SamplingError.invalidConfiguration("sigmas must decrease strictly and end at ≥ 0")
            }
            guard viewsPerStep >= 1 else { throw SamplingError.invalidConfiguration("views per step must be ≥ 1") }
            guard resample >= 1 else { throw SamplingError.invalidConfiguration("resample must be ≥ 1") }
            guard eta >= 0 && eta <= 1 else { throw SamplingError.invalidConfiguration("eta must be in [0, 1]") }
        }
    }

    public let denoiser: any Denoiser
    public let configuration: Configuration

    public init(denoiser: any Denoiser, configuration: Configuration) {
        self.denoiser = denoiser
        self.configuration = configuration
    }

    /// Samples `diffrep` in place (its parameters end as the sample) and reports timings.
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, progress: ProgressHandler? = nil) throws -> SamplingReport {
        let c = configuration
        try c.validate()
        var rng = RandomGenerator(seed: c.seed)
        var clock = SamplingClock()
        var report = SamplingReport()
        let steps = c.sigmas.count - 1

        // Initial state at σ_0: noise drawn in parameter space.
        addNoise(to: diffrep, std: c.sigmas[0], rng: &rng, clock: &clock, report: &report)

        for i in 0..<steps {
            let (sigma, next) = (c.sigmas[i], c.sigmas[i + 1])
            for u in 0..<c.resample {
                // Render K views, denoise them, and take the image-space DDIM step.
                let views = diffrep.sampleViews(count: c.viewsPerStep, using: &rng)
                let x = GradMode.withoutGrad { diffrep.render(views) }                          // [K, C, H, W]
                let labels = c.classLabel.map { [Int](repeating: $0, count: views.count) }
                let d = SamplingClock.time(&clock.denoiserSeconds) {
                    GradMode.withoutGrad { denoiser.denoise(x, sigma: sigma, condition: labels) }
                }
                report.denoiserCalls += 1
                let noise = c.eta > 0 ? rng.normal(x.shape) : nil
                let y = ddimStep(x: x, denoised: d, sigma: sigma, nextSigma: next, eta: c.eta, noise: noise)

                // Pull the change y − x back to the parameters.
                let residual = zip(y.data, x.data).map { $0 - $1 }
                let stats = SamplingClock.time(&clock.solveSeconds) {
                    LeastSquares.solveAndApply(c.solver, diffrep: diffrep, views: views, residual: residual, target: y)
                }
                report.solverIterations += stats.iterations
                guard ParameterVector(parts: diffrep.parameters.tensors.map(\.data)).isFinite else {
                    throw SamplingError.nonFinite(step: i, sigma: sigma)
                }

                // RePaint: jump back to σ_i with fresh noise and redo the step.
                if u < c.resample - 1 && next < sigma {
                    addNoise(to: diffrep, std: (sigma * sigma - next * next).squareRoot(), rng: &rng,
                             clock: &clock, report: &report)
                }
            }
            if let progress, !progress(clock.progress(step: i + 1, of: steps, sigma: next)) {
                throw SamplingError.cancelled(afterStep: i + 1)
            }
        }
        report.denoiserSeconds = clock.denoiserSeconds
        report.solveSeconds = clock.solveSeconds
        report.totalSeconds = clock.elapsed
        return report
    }

    /// Adds noise of standard deviation `std` in parameter space: exact white noise where the
    /// diffrep can show it, else the least-squares projection of per-view white noise.
    func addNoise<R: Diffrep>(to diffrep: R, std: Float, rng: inout RandomGenerator,
                              clock: inout SamplingClock, report: inout SamplingReport) {
        if let eps = diffrep.parameterNoise(using: &rng) {
            ParameterVector(parts: eps).apply(to: diffrep.parameters, scaledBy: std)
            return
        }
        let views = diffrep.sampleViews(count: configuration.viewsPerStep, using: &rng)
        let count = views.count * diffrep.renderShape.reduce(1, *)
        let target = rng.normalValues(count).map { $0 * std }
        let x = GradMode.withoutGrad { diffrep.render(views) }
        let y = Tensor(x.shape, data: zip(x.data, target).map { $0 + $1 })
        let stats = SamplingClock.time(&clock.solveSeconds) {
            LeastSquares.solveAndApply(configuration.solver, diffrep: diffrep, views: views, residual: target, target: y)
        }
        report.solverIterations += stats.iterations
    }
}
