import Foundation
import TensorCore
import Diffusion
import Diffreps

/// The mode-seeking baselines, with the pullback sampler's interfaces and seeds
/// (DESIGN.md §2 "Baselines"). Both *optimise* `θ` with Adam along `Σ_k J_kᵀ (D̂_k − x_k)`:
///
/// - **SDS** (DreamFusion): each iteration draws a fresh `σ` (log-uniform in
///   `[sigmaMin, sigmaMax]`) and `ε`, and uses `D̂ = w(σ)·D(x + σε; σ)` with `w ≡ 1`.
/// - **SJC** (Score Jacobian Chaining): `σ` decreases geometrically from `sigmaMax` to
///   `sigmaMin` over the run, and the score is averaged over `perturbations` noise draws
///   (perturb-and-average scoring): `D̂ = mean_j D(x + σ n_j; σ)`.
///
/// ```swift
/// let sds = ScoreDistillationSampler(denoiser: d, configuration: .init(method: .sds, seed: 7))
/// try sds.sample(image)
/// ```
public struct ScoreDistillationSampler {
    public enum Method: Sendable, Equatable {
        case sds
        case sjc(perturbations: Int)
    }

    public struct Configuration: Sendable {
        public var method: Method
        /// Optimisation steps.
        public var iterations = 300
        public var viewsPerStep = 4
        /// Adam learning rate on the parameters.
        public var learningRate: Float = 0.05
        /// Noise-level range used for scoring.
        public var sigmaMin: Float = 0.05, sigmaMax: Float = 5
        public var seed: UInt64 = 0
        public var classLabel: Int? = nil

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

    /// Optimises `diffrep` in place.
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, progress: ProgressHandler? = nil) throws -> SamplingReport {
        let c = configuration
        guard c.iterations >= 1, c.viewsPerStep >= 1, c.sigmaMin > 0, c.sigmaMax >= c.sigmaMin else {
            throw SamplingError.invalidConfiguration("iterations, views and 0 < sigmaMin ≤ sigmaMax are required")
        }
        var rng = RandomGenerator(seed: c.seed)
        var clock = SamplingClock()
        var report = SamplingReport()
        var adam = Adam(parameters: diffrep.parameters, learningRate: c.learningRate)
        let draws: Int
        if case let .sjc(n) = c.method { draws = Swift.max(n, 1) } else { draws = 1 }

        for i in 0..<c.iterations {
            let views = diffrep.sampleViews(count: c.viewsPerStep, using: &rng)
            let sigma = self.sigma(at: i, rng: &rng)
            diffrep.parameters.zeroGrad()
            let x = diffrep.render(views)                                     // [K, C, H, W], on the tape
            let labels = c.classLabel.map { [Int](repeating: $0, count: views.count) }
            var target = [Float](repeating: 0, count: x.count)                // D̂, averaged over draws
            for _ in 0..<draws {
                let noisy = x.detached() + rng.normal(x.shape).scaled(by: sigma)
                let d = SamplingClock.time(&clock.denoiserSeconds) {
                    GradMode.withoutGrad { denoiser.denoise(noisy, sigma: sigma, condition: labels) }
                }
                report.denoiserCalls += 1
                for j in 0..<target.count { target[j] += d.data[j] / Float(draws) }
            }
            // Adam minimises, so seed the render with −(D̂ − x)/K: the step follows Σ Jᵀ(D̂ − x).
            let scale = 1 / Float(views.count)
            x.backward(seed: zip(target, x.data).map { ($1 - $0) * scale })
            SamplingClock.time(&clock.solveSeconds) { adam.step() }
            guard ParameterVector(parts: diffrep.parameters.tensors.map(\.data)).isFinite else {
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
