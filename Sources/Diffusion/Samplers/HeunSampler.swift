import TensorCore

/// Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Algorithm 1):
/// an Euler step to `σ_{i+1}`, then the average of the slopes at both ends; the last step to
/// `σ = 0` is a plain Euler step. Two denoiser calls per step except the last.
///
/// ```swift
/// let config = SamplerConfig(sigmas: KarrasSchedule.sigmas(steps: 18, sigmaMin: 0.002, sigmaMax: 80), seed: 3)
/// let x = try HeunSampler().sample(denoiser, shape: [2, 3, 32, 32], config: config)
/// ```
public struct HeunSampler: ImageSampler {
    /// A Heun sampler (it has no settings).
    public init() {}

    public func sample(_ denoiser: any Denoiser, shape: [Int], config: SamplerConfig,
                       progress: ProgressHandler?) throws -> Tensor {
        try integrate(config, shape: shape, progress: progress) { x, i, sigma, next in
            let d = try denoiseChecked(denoiser, x, sigma: sigma, conditions: config.conditions, step: i)
            let slope = (x - d).scaled(by: 1 / sigma)                                 // dx/dσ at σ_i
            let euler = x + slope.scaled(by: next - sigma)
            guard next > 0 else { return euler }
            let d2 = try denoiseChecked(denoiser, euler, sigma: next, conditions: config.conditions, step: i)
            let slope2 = (euler - d2).scaled(by: 1 / next)                            // dx/dσ at σ_{i+1}
            return x + (slope + slope2).scaled(by: 0.5 * (next - sigma))
        }
    }
}
