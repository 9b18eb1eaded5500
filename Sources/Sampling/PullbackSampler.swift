import Foundation
import TensorCore
import Diffusion
import Diffreps

/// The paper's method (Savani, Finzi & Kolter 2024; docs/DESIGN.md §2 "Sampling"): integrate the
/// reverse-time diffusion process *in the diffrep's parameters* by pulling each image-space
/// DDIM step back through the render's Jacobian,
/// `δθ = argmin_δ Σ_k ‖J_k δ − (y_k − x_k)‖²`, i.e. `δθ = (Σ JᵀJ)⁻¹ Σ Jᵀ(y − x)`,
/// with RePaint-style resampling to keep the renders consistent (the implicit constraint).
///
/// On a ``Diffreps/PixelImage`` it *is* the DDIM sampler — the same seed gives the same image as
/// ``Diffusion/DDIMSampler`` with ``Diffusion/SamplerConfig`` (see ``NoiseStreams`` for the
/// shared noise layout); on a pixel-aligned ``Diffreps/PanoramaGrid`` each step is the average
/// of the overlapping window updates (MultiDiffusion).
///
/// ```swift
/// let sigmas = schedule.ddimSigmas(steps: 50)
/// let sampler = PullbackSampler(denoiser: denoiser, configuration: .init(sigmas: sigmas, seed: 7))
/// let pano = PanoramaGrid(channels: 3, height: 32, width: 256, windowWidth: 32)
/// let report = try sampler.sample(pano) { p in print(p.step, p.remaining); return true }
/// ```
public struct PullbackSampler: DiffrepSampler {
    /// What the diffrep's parameters hold during the run (docs/DESIGN.md §2, "the implicit constraint").
    public enum StateMode: String, Sendable, CaseIterable {
        /// The noisy state `x_σ` itself (exact on pixel grids and panoramas: the default).
        case noisy
        /// The denoised estimate, which every diffrep can render; each step renders it, adds
        /// per-view noise `σ_i·ε_k`, denoises, and pulls back the *clean* part of the DDIM step,
        /// `y_k = D_k + keep·(x_k − D_k)`. For NeRFs, which cannot hold σ_max-sized noise.
        /// The noise is carried rather than redrawn as far as ``Configuration/noiseCorrelation``
        /// says: with `ρ = 1` (one noise image for every view and step) a one-view pixel grid
        /// follows exactly the DDIM sampler's trajectory, `x_σ = x + σ·ε`.
        case denoised
    }

    /// Settings of one run (documented defaults).
    public struct Configuration: Sendable {
        /// Noise levels `σ_0 > σ_1 > … > σ_N ≥ 0` (the model's DDIM steps or Karras).
        public var sigmas: [Float]
        /// Views rendered and denoised together per step (`K`), drawn from the diffrep's view
        /// distribution (unless a ``ViewChooser`` is passed to ``PullbackSampler/sample(_:views:progress:)``).
        public var viewsPerStep = 4
        /// DDIM stochasticity in `[0, 1]`: 0 = deterministic PF-ODE, 1 ≈ DDPM ancestral.
        public var eta: Float = 0
        /// RePaint resampling: each level's step is taken `resample` times, re-noising by
        /// `σ_i² − σ_{i+1}²` in between (1 = no resampling).
        public var resample = 1
        /// How `δθ` is solved for.
        public var solver = LeastSquaresSolver.default
        /// Seeds every random draw (views, noise); the layout is ``NoiseStreams``.
        public var seed: UInt64 = 0
        /// Class label for a conditional denoiser (nil = unconditional).
        public var classLabel: Int? = nil
        /// Whether the parameters hold the noisy state (default) or the denoised estimate.
        public var state = StateMode.noisy
        /// `.denoised` state only: how much of the per-view noise is carried. Each view's noise is
        /// `ε_k = √ρ·s + √(1−ρ)·η_k`, with `s` one image drawn once per run (from the initial-noise
        /// stream, like DDIM's `ε`) and `η_k` fresh for every view and step. Every `ε_k` is white
        /// noise; `ρ` is its correlation across views and steps. `ρ = 1`: DDIM's carried noise,
        /// the same in every view, so all views make the same random choices (colour, layout);
        /// `ρ = 0`: independent noise everywhere (an SDS-like average over noise draws).
        public var noiseCorrelation: Float = 1
        /// `.denoised` state only: how many carried images `s` there are; view `k` of a step
        /// carries image `k mod count`. 1 (the default): one image for every view. A multi-view
        /// denoiser (views in groups of four tiled into one image, `QuarterTurnTiledDenoiser`)
        /// takes 4, so each tile carries its own noise, as the model saw independent noise per
        /// tile in training, while every step still sees the same noise in each tile slot.
        public var carriedNoiseImages = 1
        /// `.denoised` state only: at levels `σ > carriedAboveSigma` every view takes its carried
        /// image alone (as with `ρ = 1`), below it the noise ``noiseCorrelation`` and
        /// ``viewConsistentNoise`` say — the high-noise choices (colour, size) from the carried
        /// noise, which every step shares, the shape from the rest. `nil` (the default): one rule at every level.
        public var carriedAboveSigma: Float? = nil
        /// `.denoised` state only: take each view's fresh part of the noise from the diffrep's
        /// ``Diffreps/Diffrep/viewConsistentNoise(_:seed:)`` (noise attached to the represented
        /// object, which turns with it from view to view), `ε_k = √ρ·s + √(1−ρ)·e_k` with `ρ` =
        /// ``noiseCorrelation``; with `ρ = 1` that is the carried image alone, which asks every
        /// view for the same picture. Diffreps without such noise ignore it.
        public var viewConsistentNoise = false
        /// With ``viewConsistentNoise``: replace each view's per-channel noise mean by the carried
        /// image's (one global draw for every view, the layout from the view-consistent noise),
        /// instead of mixing by ``noiseCorrelation``. Experimental.
        public var shareNoiseMean = false
        /// Camera-aware denoisers only: pass each view's camera at levels `σ ≤ cameraFromSigma`
        /// and the "no camera" condition above (nil: the camera at every level). At high noise the
        /// model makes the run's global random choices (colour, size); a view-free condition makes
        /// them the same in every view, where per-view cameras let each view choose its own
        /// (which the least-squares pull-back then averages into a dull compromise).
        public var cameraFromSigma: Float? = nil
        /// The level to start at: 0 for a fresh run; `s` to resume a run whose parameters were
        /// saved after `s` steps (the rest of the run is then the same as uninterrupted).
        public var startStep = 0

        /// A configuration; only the noise levels are required.
        public init(sigmas: [Float], viewsPerStep: Int = 4, eta: Float = 0, resample: Int = 1,
                    solver: LeastSquaresSolver = .default, seed: UInt64 = 0, classLabel: Int? = nil,
                    state: StateMode = .noisy) {
            self.state = state
            self.sigmas = sigmas
            self.viewsPerStep = viewsPerStep
            self.eta = eta
            self.resample = resample
            self.solver = solver
            self.seed = seed
            self.classLabel = classLabel
        }

        /// Throws ``SamplingError/invalidConfiguration(_:)`` unless the settings make sense.
        public func validate() throws {
            guard sigmas.count >= 2, sigmas.allSatisfy({ $0.isFinite }), sigmas[0] > 0,
                  zip(sigmas, sigmas.dropFirst()).allSatisfy({ $0 > $1 }), sigmas.last! >= 0 else {
                throw SamplingError.invalidConfiguration("sigmas must be finite, start positive, decrease strictly and end at ≥ 0 (got \(sigmas))")
            }
            if let t = cameraFromSigma, !(t >= 0 && t.isFinite) {
                throw SamplingError.invalidConfiguration("camera-from-sigma must be a finite σ ≥ 0, got \(t)")
            }
            guard viewsPerStep >= 1 else { throw SamplingError.invalidConfiguration("views per step must be ≥ 1") }
            guard resample >= 1 else { throw SamplingError.invalidConfiguration("resample must be ≥ 1") }
            if let t = carriedAboveSigma, !(t >= 0 && t.isFinite) {
                throw SamplingError.invalidConfiguration("carried-above-sigma must be a finite σ ≥ 0, got \(t)")
            }
            guard carriedNoiseImages >= 1 else { throw SamplingError.invalidConfiguration("carried noise images must be ≥ 1, got \(carriedNoiseImages)") }
            guard eta >= 0 && eta <= 1 else { throw SamplingError.invalidConfiguration("eta must be in [0, 1], got \(eta)") }
            guard noiseCorrelation >= 0 && noiseCorrelation <= 1 else {
                throw SamplingError.invalidConfiguration("noise correlation must be in [0, 1], got \(noiseCorrelation)")
            }
            try solver.validate()
            guard startStep >= 0 && startStep < sigmas.count - 1 else {
                throw SamplingError.invalidConfiguration("start step \(startStep) is outside 0..<\(sigmas.count - 1)")
            }
        }
    }

    public let denoiser: any Denoiser
    public let configuration: Configuration

    public init(denoiser: any Denoiser, configuration: Configuration) {
        self.denoiser = denoiser
        self.configuration = configuration
    }

    /// Samples `diffrep` in place (its parameters end as the sample) and reports timings; the
    /// views come from `chooseViews` (nil: the diffrep's own distribution, see ``DiffrepSampler``).
    ///
    /// The run starts from the diffrep's current parameters plus noise of level `σ_0` (a fresh
    /// diffrep is zero, so this is pure noise; a diffrep that already holds content and a lower
    /// `σ_0` give an SDEdit-style variation). The loop (docs/DESIGN.md §2): noise at `σ_0`, then
    /// per level `resample` pulled-back DDIM steps with RePaint re-noising in between.
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, views chooseViews: ViewChooser<R.View>?,
                                   progress: ProgressHandler?) throws -> SamplingReport {
        let c = configuration
        try c.validate()
        let streams = NoiseStreams(seed: c.seed)
        var viewStream = streams.views(level: nil)
        func drawViews() throws -> [R.View] {
            try Sampling.drawViews(diffrep, chooser: chooseViews, count: c.viewsPerStep, stream: &viewStream)
        }
        var clock = SamplingClock()
        var report = SamplingReport()
        let steps = c.sigmas.count - 1

        // The state at σ_0: θ + σ_0·ε, the noise drawn in parameter space. A denoised state starts
        // clean and keeps the carried part of its noise, s, beside it (the same numbers).
        var initialNoise = streams.initial
        var carried: [Float]? = nil
        switch c.state {
        case .noisy:
            if c.startStep == 0 {
                try addNoise(to: diffrep, std: c.sigmas[0], noise: &initialNoise, views: try drawViews(), clock: &clock, report: &report)
            }
        case .denoised:
            if c.noiseCorrelation > 0 || c.carriedAboveSigma != nil {
                carried = initialNoise.normalValues(c.carriedNoiseImages * diffrep.renderShape.reduce(1, *))
            }
        }

        for i in c.startStep..<steps {
            let (sigma, next) = (c.sigmas[i], c.sigmas[i + 1])
            var levelNoise = streams.level(i)
            viewStream = streams.views(level: i)
            for u in 0..<c.resample {
                // One DDIM step σ_i → σ_{i+1} on K fresh views, pulled back to the parameters.
                _ = try step(diffrep, views: try drawViews(), sigma: sigma, nextSigma: next, noise: &levelNoise,
                             carried: carried, index: i, clock: &clock, report: &report)
                // RePaint: jump back to σ_i with fresh noise of variance σ_i² − σ_{i+1}², and redo the step.
                // (A denoised state holds no noise to jump back with: it redoes the step from its new estimate.)
                if u < c.resample - 1 && c.state == .noisy {
                    try addNoise(to: diffrep, std: (sigma * sigma - next * next).squareRoot(), noise: &levelNoise,
                                 views: try drawViews(), clock: &clock, report: &report)
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

    /// One pullback step `σ → σ'` on the given views, for custom loops: renders `x_k`, denoises
    /// `D_k = D(x_k; σ)`, proposes the DDIM targets `y_k = D_k + keep·(x_k − D_k)`, moves
    /// `θ += argmin_δ Σ_k ‖J_k δ − (y_k − x_k)‖²`, and for `η > 0` adds the DDIM step's fresh noise
    /// in parameter space, drawn from `noise`. `index` is the step number reported in errors.
    ///
    /// ```swift
    /// var rng = RandomGenerator(seed: 1)
    /// try sampler.step(pano, views: [0, 16, 32], sigma: 2, nextSigma: 1.5, noise: &rng)
    /// ```
    @discardableResult
    public func step<R: Diffrep>(_ diffrep: R, views: [R.View], sigma: Float, nextSigma: Float,
                                 noise: inout RandomGenerator, index: Int = 0) throws -> SolveStats {
        guard sigma > 0, sigma.isFinite, nextSigma >= 0, nextSigma < sigma, !views.isEmpty else {
            throw SamplingError.invalidConfiguration("a step needs σ > σ' ≥ 0 and at least one view (got \(sigma) → \(nextSigma))")
        }
        var clock = SamplingClock()
        var report = SamplingReport()
        return try step(diffrep, views: views, sigma: sigma, nextSigma: nextSigma, noise: &noise,
                        carried: nil, index: index, clock: &clock, report: &report)
    }

    func step<R: Diffrep>(_ diffrep: R, views: [R.View], sigma: Float, nextSigma: Float, noise: inout RandomGenerator,
                          carried: [Float]?, index: Int, clock: inout SamplingClock, report: inout SamplingReport) throws -> SolveStats {
        let c = configuration
        // Render K views and denoise them (a denoised state first gets its per-view noise σ·ε_k).
        let x = GradMode.withoutGrad { diffrep.render(views) }                                  // [K, C, H, W]
        let noisy = c.state == .noisy ? x
            : GradMode.withoutGrad { x + denoisedStateNoise(diffrep, views: views, shape: x.shape, carried: carried, sigma: sigma, fresh: &noise).scaled(by: sigma) }
        let conditions = ViewConditions.make(views: views, classLabel: c.classLabel,             // class + each view's camera
                                             withCamera: c.cameraFromSigma.map { sigma <= $0 } ?? true)
        let d = SamplingClock.time(&clock.denoiserSeconds) {
            GradMode.withoutGrad { denoiser.denoise(noisy, sigma: sigma, conditions: conditions) }
        }
        report.denoiserCalls += 1
        precondition(d.shape == x.shape, "denoiser returned \(d.shape) for renders of \(x.shape)")
        guard d.data.allSatisfy({ $0.isFinite }) else { throw SamplingError.nonFinite(step: index, sigma: sigma) }

        // The image-space DDIM step proposes the targets y_k = D_k + keep·(x_k − D_k).
        let coefficients = ddimStepCoefficients(sigma: sigma, nextSigma: nextSigma, eta: c.eta)
        let y = GradMode.withoutGrad { d + (x - d).scaled(by: coefficients.keep) }             // [K, C, H, W]

        // Pull the change y − x back to the parameters.
        let stats = SamplingClock.time(&clock.solveSeconds) {
            LeastSquares.solveAndApply(c.solver, diffrep: diffrep, views: views, renders: x, targets: y)
        }
        report.solverIterations += stats.iterations

        // η > 0: the DDIM step's fresh noise, drawn in parameter space like every re-noising.
        if coefficients.noise > 0 && c.state == .noisy {
            try addNoise(to: diffrep, std: coefficients.noise, noise: &noise, views: views, clock: &clock, report: &report)
        }
        guard diffrep.parameters.tensors.allSatisfy({ $0.data.allSatisfy { $0.isFinite } }) else {
            throw SamplingError.nonFinite(step: index, sigma: sigma)
        }
        return stats
    }

    /// The `.denoised` state's per-view noise: the diffrep's view-consistent noise when asked
    /// for and available, else ``viewNoise(shape:carried:fresh:)``.
    func denoisedStateNoise<R: Diffrep>(_ diffrep: R, views: [R.View], shape: [Int], carried: [Float]?,
                                        sigma: Float? = nil, fresh: inout RandomGenerator) -> Tensor {
        if let carried, let above = configuration.carriedAboveSigma, let sigma, sigma > above {
            return repeatedCarried(carried, shape: shape)
        }
        guard configuration.viewConsistentNoise,
              let e = diffrep.viewConsistentNoise(views, seed: configuration.seed ^ 0x5E_ED_0F_5E_ED) else {
            return viewNoise(shape: shape, carried: carried, fresh: &fresh)
        }
        precondition(e.shape == shape, "viewConsistentNoise returned \(e.shape) for renders of \(shape)")
        guard let carried else { return e }
        if configuration.shareNoiseMean {
            // Each view's noise keeps its own layout (e_k) but takes the carried image's
            // per-channel mean: the views' global choices (colour) come from one draw.
            let plane = shape.count > 2 ? shape[2...].reduce(1, *) : 1, channels = shape[1], perView = channels * plane
            var out = e.data
            for k in 0..<shape[0] { for c in 0..<channels {
                let base = k * perView + c * plane, image = carriedOffset(view: k, perView: perView)
                var me: Float = 0, ms: Float = 0
                for p in 0..<plane { me += out[base + p]; ms += carried[image + c * plane + p] }
                let shift = (ms - me) / Float(plane)
                for p in 0..<plane { out[base + p] += shift }
            } }
            return Tensor(shape, data: out)
        }
        // The carried image's share makes the views' global choices agree; e_k turns with the object.
        return mixed(carried: carried, perView: e.data, shape: shape)
    }

    /// Where view `k`'s carried image starts in `carried` (image `k mod` ``Configuration/carriedNoiseImages``).
    func carriedOffset(view k: Int, perView: Int) -> Int { (k % configuration.carriedNoiseImages) * perView }

    /// The `.denoised` state's noise for `K` views, `ε_k = √ρ·s_k + √(1−ρ)·η_k` (`s_k` = view k's
    /// carried image, `η_k` drawn from `fresh`; all fresh when there is nothing carried): `[K, C, H, W]`.
    func viewNoise(shape: [Int], carried: [Float]?, fresh: inout RandomGenerator) -> Tensor {
        guard let carried else { return fresh.normal(shape) }
        let perView = shape.dropFirst().reduce(1, *)
        precondition(carried.count == configuration.carriedNoiseImages * perView, "carried noise of \(carried.count) values for renders \(shape)")
        if configuration.noiseCorrelation >= 1 {       // nothing fresh to draw: the noise streams stay as DDIM's
            return repeatedCarried(carried, shape: shape)
        }
        return mixed(carried: carried, perView: fresh.normalValues(perView * shape[0]), shape: shape)
    }

    /// Each view's carried image: `[K, C, H, W]`.
    func repeatedCarried(_ carried: [Float], shape: [Int]) -> Tensor {
        let perView = shape.dropFirst().reduce(1, *)
        return Tensor(shape, data: (0..<shape[0]).flatMap { k in
            let start = carriedOffset(view: k, perView: perView)
            return carried[start..<(start + perView)]
        })
    }

    /// `ε_k = √ρ·s_k + √(1−ρ)·e_k` with `s_k` = view k's image of `carried` and `e_k` = `perView` (`[K, C, H, W]`), `ρ` = ``Configuration/noiseCorrelation``.
    func mixed(carried: [Float], perView e: [Float], shape: [Int]) -> Tensor {
        let rho = configuration.noiseCorrelation
        let a = rho.squareRoot(), b = (1 - rho).squareRoot(), n = shape.dropFirst().reduce(1, *)
        return Tensor(shape, data: (0..<e.count).map { a * carried[carriedOffset(view: $0 / n, perView: n) + $0 % n] + b * e[$0] })
    }

    /// Adds noise of standard deviation `std` in parameter space: exact white noise where the
    /// diffrep can show it, else the least-squares projection of white noise in `views` (only
    /// evaluated then).
    func addNoise<R: Diffrep>(to diffrep: R, std: Float, noise: inout RandomGenerator, views: @autoclosure () throws -> [R.View],
                              clock: inout SamplingClock, report: inout SamplingReport) throws {
        if let eps = diffrep.parameterNoise(using: &noise) {
            precondition(eps.map(\.count) == diffrep.parameters.tensors.map(\.count),
                         "parameterNoise returned arrays that do not match the parameters")
            ParameterVector(parts: eps).apply(to: diffrep.parameters, scaledBy: std)
            return
        }
        let views = try views()
        let x = GradMode.withoutGrad { diffrep.render(views) }                                  // [K, C, H, W]
        let perView = noise.normalValues(x.count)
        let y = Tensor(x.shape, data: zip(x.data, perView).map { $0 + std * $1 })
        let stats = SamplingClock.time(&clock.solveSeconds) {
            LeastSquares.solveAndApply(configuration.solver, diffrep: diffrep, views: views, renders: x, targets: y)
        }
        report.solverIterations += stats.iterations
    }
}
