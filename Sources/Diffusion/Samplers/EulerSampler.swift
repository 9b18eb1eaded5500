import TensorCore

/// Euler's method on the probability-flow ODE `dx/dσ = (x − D(x; σ))/σ` (Karras et al. 2022,
/// Algorithm 1 without the Heun correction): `x' = x + (σ_{i+1} − σ_i)·(x − D)/σ_i`.
/// In this variance-exploding form it equals DDIM with `η = 0` up to rounding.
///
/// ```swift
/// let x = try EulerSampler().sample(denoiser, shape: [1, 3, 32, 32],
///                                   config: SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: 40, sigmaMin: 0.002, sigmaMax: 80), seed: 0))
/// ```
public struct EulerSampler: ImageSampler {
    /// An Euler sampler (it has no settings).
    public init() {}

    public func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig,
                       progress: ProgressHandler?) throws -> Tensor {
        try integrate(config, shape: shape, progress: progress) { x, i, sigma, next in
            let d = try denoiseChecked(denoiser, x, sigma: sigma, conditions: config.conditions, step: i)
            let slope = (x - d).scaled(by: 1 / sigma)                                 // dx/dσ
            return x + slope.scaled(by: next - sigma)
        }
    }
}
