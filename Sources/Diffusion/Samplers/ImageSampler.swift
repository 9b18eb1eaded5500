import TensorCore

/// A sampler of plain images: integrates from `σ_0·ε` down the noise levels of a ``SamplerConfig``.
///
/// ```swift
/// let sampler: any ImageSampler = HeunSampler()
/// let x = try sampler.sample(denoiser, shape: [4, 3, 32, 32], config: config, progress: nil)
/// ```
public protocol ImageSampler: Sendable {
    /// Samples a batch of `shape` `[B, C, H, W]`; `progress` is called after every step.
    /// Throws ``SamplingError``: `invalidConfiguration` for settings it cannot sample with,
    /// `nonFinite` when the denoiser breaks down, `cancelled` when `progress` returns false.
    /// The result is off the tape.
    func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig,
                progress: ProgressHandler?) throws -> Tensor
}

extension ImageSampler {
    /// Samples without a progress callback.
    public func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig) throws -> Tensor {
        try sample(denoiser, shape: shape, config: config, progress: nil)
    }
}

/// `D(x; σ)` with a check for NaN and infinity.
func denoiseChecked(_ denoiser: any Denoiser, _ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?, step: Int) throws -> Tensor {
    let d = denoiser.denoise(x, sigma: sigma, conditions: conditions)
    precondition(d.shape == x.shape, "denoiser returned \(d.shape) for an input of \(x.shape)")
    if !d.data.allSatisfy({ $0.isFinite }) { throw SamplingError.nonFinite(step: step, sigma: sigma) }
    return d
}

/// The loop every image sampler runs: checks `config` against `shape`, starts from `σ_0·ε`,
/// replaces `x` by `step(x, i, σ_i, σ_{i+1})` for each step `i`, and reports each step to
/// `progress` (cancelling when it returns false). Off the tape.
func integrate(_ config: SamplerConfig, shape: [Int], progress: ProgressHandler?,
               step: (_ x: Tensor, _ index: Int, _ sigma: Float, _ nextSigma: Float) throws -> Tensor) throws -> Tensor {
    try config.validate(shape: shape)
    let clock = SamplingClock()
    return try GradMode.withoutGrad {
        var x = config.initialNoise(shape: shape)                                      // [B, C, H, W]
        for i in 0..<config.steps {
            x = try step(x, i, config.sigmas[i], config.sigmas[i + 1])
            if let progress, !progress(clock.progress(step: i + 1, of: config.steps, sigma: config.sigmas[i + 1])) {
                throw SamplingError.cancelled(afterStep: i + 1)
            }
        }
        return x
    }
}
