import TensorCore

/// A sampler of plain images: integrates from `σ_0·ε` down the noise levels of a ``SamplerConfig``.
///
/// ```swift
/// let sampler: any ImageSampler = HeunSampler()
/// let x = try sampler.sample(denoiser, shape: [4, 3, 32, 32], config: config, progress: nil)
/// ```
public protocol ImageSampler: Sendable {
    /// Samples a batch of `shape` `[B, C, H, W]`. Throws `CancellationError` when `progress`
    /// returns false, ``ImageSamplerError`` when the denoiser breaks down. The result is off the tape.
    func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig,
                progress: SamplerProgress?) throws -> Tensor
}

extension ImageSampler {
    /// Samples without a progress callback.
    public func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig) throws -> Tensor {
        try sample(denoiser, shape: shape, config: config, progress: nil)
    }
}

/// Reports progress after each step (`step` of `total`, starting at 1); return `false` to
/// cancel, and the sampler throws `CancellationError`.
///
/// ```swift
/// let progress: SamplerProgress = { step, total in print("\(step)/\(total)"); return true }
/// ```
public typealias SamplerProgress = (_ step: Int, _ total: Int) -> Bool

/// `D(x; σ)` with a check for NaN and infinity.
func denoiseChecked(_ denoiser: any Denoiser, _ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?, step: Int) throws -> Tensor {
    let d = denoiser.denoise(x, sigma: sigma, conditions: conditions)
    precondition(d.shape == x.shape, "denoiser returned \(d.shape) for an input of \(x.shape)")
    if !d.data.allSatisfy({ $0.isFinite }) { throw ImageSamplerError.nonFiniteDenoiserOutput(step: step, sigma: sigma) }
    return d
}
