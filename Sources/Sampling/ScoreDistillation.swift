import Foundation
import TensorCore
import Diffusion
import Diffreps

/// The mode-seeking baselines, with the pullback sampler's interfaces and seeds
/// (docs/DESIGN.md §2 "Baselines"). Both *optimise* `θ` with Adam along `Σ_k J_kᵀ w(σ)(D̂_k − x_k)`:
///
/// - **SDS** (DreamFusion): each iteration draws a fresh `σ` (log-uniform in
///   `[sigmaMin, sigmaMax]`) and `ε`, and uses `D̂ = D(x + σε; σ)` with `w ≡ 1`.
/// - **SJC** (Score Jacobian Chaining): `σ` decreases geometrically from `sigmaMax` to
///   `sigmaMin` over the run, and the score `(D̂ − x)/σ²` (`w = 1/σ²`) is averaged over
///   `perturbations` noise draws (perturb-and-average scoring): `D̂ = mean_j D(x + σ n_j; σ)`.
///
/// The diffrep's ``Diffrep/regularizer()`` (a NeRF's smoothness and empty-space priors) is
/// added to every step, weighted as the pullback sampler weighs it, so the comparison is like for like.
///
/// Randomness follows ``NoiseStreams``: views from the view stream, iteration `i`'s `σ` and noise
/// from stream `i + 1`.
///
/// ```swift
/// let sds = ScoreDistillationSampler(denoiser: d, configuration: .init(method: .sds, seed: 7))
/// try sds.sample(image)
/// ```
public struct ScoreDistillationSampler: DiffrepSampler {
    /// Which baseline.
    public enum Method: Sendable, Equatable {
        /// Score distillation sampling (random σ per iteration, `w ≡ 1`).
        case sds
        /// Score Jacobian chaining (decreasing σ, score averaged over `perturbations` draws).
        case sjc(perturbations: Int)
    }

    /// Settings of one run (documented defaults).
    public struct Configuration: Sendable {
        public var method: Method
        /// Optimisation steps.
        public var iterations = 300
        /// Views rendered per iteration (`K`).
        public var viewsPerStep = 4
        /// Adam learning rate on the parameters.
        public var learningRate: Float = 0.05
        /// Noise-level range used for scoring.
        public var sigmaMin: Float = 0.05, sigmaMax: Float = 5
        /// Seeds every random draw.
        public var seed: UInt64 = 0
        /// Class label for a conditional denoiser (nil = unconditional).
        public var classLabel: Int? = nil

        /// A configuration; only the method is required.
        public init(method: Method, iterations: Int = 300, viewsPerStep: Int = 4, learningRate: Float = 0.05,
                    sigmaMin: Float = 0.05, sigmaMax: Float = 5, seed: UInt64 = 0, classLabel: Int? = nil) {
            self.method = method
            self.iterations = iterations
            self.viewsPerStep = viewsPerStep
            self.learningRate = learningRate
            self.sigmaMin = sigmaMin
            self.sigmaMax = sigmaMax
            self.seed = seed
            self.classLabel = classLabel
        }

        /// Throws ``SamplingError/invalidConfiguration(_:)`` unless the settings make sense.
        public func validate() throws {
            guard iterations >= 1 else { throw SamplingError.invalidConfiguration("iterations must be ≥ 1") }
            guard viewsPerStep >= 1 else { throw SamplingError.invalidConfiguration("views per step must be ≥ 1") }
            guard learningRate > 0, learningRate.isFinite else { throw SamplingError.invalidConfiguration("the learning rate must be finite and > 0") }
            guard sigmaMin > 0, sigmaMax >= sigmaMin, sigmaMax.isFinite else {
                throw SamplingError.invalidConfiguration("need 0 < sigmaMin ≤ sigmaMax < ∞ (got \(sigmaMin), \(sigmaMax))")
            }
            if case let .sjc(n) = method, n < 1 { throw SamplingError.invalidConfiguration("SJC needs ≥ 1 perturbation") }
        }
    }

    public let denoiser: any Denoiser
    public let configuration: Configuration

    public init(denoiser: any Denoiser, configuration: Configuration) {
        self.denoiser = denoiser
        self.configuration = configuration
    }

    /// The noise level for iteration `i`.
    func sigma(at i: Int, rng: inout RandomGenerator) -> Float {
        let c = configuration
        let (lo, hi) = (Foundation.log(c.sigmaMin), Foundation.log(c.sigmaMax))
        switch c.method {
        case .sds: return Foundation.exp(lo + (hi - lo) * rng.uniformValues(1)[0])
        case .sjc:
            let f = c.iterations <= 1 ? 1 : Float(i) / Float(c.iterations - 1)
            return Foundation.exp(hi + (lo - hi) * f)
        }
    }

    /// Optimises `diffrep` in place, starting from its current parameters, on the views
    /// `chooseViews` picks (nil: the diffrep's own distribution, see ``DiffrepSampler``).
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, views chooseViews: ViewChooser<R.View>?,
                                   progress: ProgressHandler?) throws -> SamplingReport {
        let c = configuration
        try c.validate()
        let streams = NoiseStreams(seed: c.seed)
        var viewStream = streams.views(level: nil)
        var clock = SamplingClock()
        var report = SamplingReport()
        var adam = Adam(parameters: diffrep.parameters, learningRate: c.learningRate * diffrep.optimizerStepScale)
        adam.learningRateScale = diffrep.optimizerStepScales
        let draws: Int
        if case let .sjc(n) = c.method { draws = n } else { draws = 1 }

        for i in 0..<c.iterations {
            var rng = streams.level(i)
            let views = try drawViews(diffrep, chooser: chooseViews, count: c.viewsPerStep, stream: &viewStream)
            let sigma = self.sigma(at: i, rng: &rng)
            diffrep.parameters.zeroGrad()
            let x = diffrep.render(views)                                     // [K, C, H, W], on the tape
            let conditions = ViewConditions.make(views: views, classLabel: c.classLabel)   // class + each view's camera
            var target = [Float](repeating: 0, count: x.count)                // D̂, averaged over draws
            for _ in 0..<draws {
                let noisy = GradMode.withoutGrad { x.detached() + rng.normal(x.shape).scaled(by: sigma) }
                let d = SamplingClock.time(&clock.denoiserSeconds) {
                    GradMode.withoutGrad { denoiser.denoise(noisy, sigma: sigma, conditions: conditions) }
                }
                report.denoiserCalls += 1
                precondition(d.shape == x.shape, "denoiser returned \(d.shape) for renders of \(x.shape)")
                guard d.data.allSatisfy({ $0.isFinite }) else { throw SamplingError.nonFinite(step: i, sigma: sigma) }
                for j in 0..<target.count { target[j] += d.data[j] / Float(draws) }
            }
            // Adam minimises, so seed the render with −w(σ)(D̂ − x)/K: the step follows Σ Jᵀ w(σ)(D̂ − x).
            let weight: Float
            if case .sjc = c.method { weight = 1 / (sigma * sigma) } else { weight = 1 }
            let scale = weight / Float(views.count)
            x.backward(seed: zip(target, x.data).map { ($1 - $0) * scale })
            // The diffrep's priors, weighted against this step's data term ½·Σ_k‖x_k − D̂_k‖²/K as the
            // pullback solve weighs them against its mean squared residual: like for like.
            if let prior = diffrep.regularizer() {
                prior.scaled(by: Float(x.count / Swift.max(views.count, 1)) / 2).backward()
            }
            SamplingClock.time(&clock.solveSeconds) { adam.step() }
            guard diffrep.parameters.tensors.allSatisfy({ $0.data.allSatisfy { $0.isFinite } }) else {
                throw SamplingError.nonFinite(step: i, sigma: sigma)
            }
            if let progress, !progress(clock.progress(step: i + 1, of: c.iterations, sigma: sigma)) {
                throw SamplingError.cancelled(afterStep: i + 1)
            }
        }
        report.denoiserSeconds = clock.denoiserSeconds
        report.solveSeconds = clock.solveSeconds
        report.totalSeconds = clock.elapsed
        return report
    }
}
