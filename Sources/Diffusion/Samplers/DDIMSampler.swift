import TensorCore

/// DDIM (Song et al. 2021) on the noise levels of a ``SamplerConfig``: at each level `σ_i`,
/// `D = D(x; σ_i)` and ``ddimStep(x:denoised:sigma:nextSigma:eta:noise:)`` moves to `σ_{i+1}`.
/// `η = 0` integrates the probability-flow ODE deterministically (the same seed gives the same
/// image); `η = 1` is DDPM-like ancestral sampling, with fresh noise from ``SamplerConfig/stepNoise(step:shape:)``.
///
/// ```swift
/// let config = SamplerConfig(sigmas: schedule.ddimSigmas(steps: 50), seed: 1)
/// let x = try DDIMSampler(eta: 0).sample(denoiser, shape: [4, 3, 32, 32], config: config) { p in
///     print("\(p.step)/\(p.totalSteps)"); return true
/// }
/// ```
public struct DDIMSampler: ImageSampler {
    /// The stochasticity `η ≥ 0`.
    public var eta: Float

    /// A DDIM sampler with stochasticity `eta` (0 = deterministic; a negative or non-finite
    /// `eta` makes ``sample(_:shape:config:progress:)`` throw).
    public init(eta: Float = 0) {
        self.eta = eta
    }

    public func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig,
                       progress: ProgressHandler?) throws -> Tensor {
        guard eta >= 0, eta.isFinite else { throw SamplingError.invalidConfiguration("eta must be finite and non-negative, got \(eta)") }
        return try integrate(config, shape: shape, progress: progress) { x, i, sigma, next in
            let d = try denoiseChecked(denoiser, x, sigma: sigma, conditions: config.conditions, step: i)
            let noise = eta > 0 && next > 0 ? config.stepNoise(step: i, shape: shape) : nil
            return ddimStep(x: x, denoised: d, sigma: sigma, nextSigma: next, eta: eta, noise: noise)
        }
    }
}
