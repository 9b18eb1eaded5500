import TensorCore

/// A denoiser `D(x; σ, condition) ≈ E[x₀ | x_σ = x]` in the variance-exploding convention
/// `x_σ = x₀ + σ·ε` (docs/DESIGN.md §1). The score is `(D − x)/σ²`.
///
/// ```swift
/// let d: any Denoiser = GaussianDenoiser(mean: mu, variance: 1)
/// let x0hat = d.denoise(x, sigma: 2.0, condition: nil)
/// ```
public protocol Denoiser {
    /// Denoises a batch `x` of shape `[B, C, H, W]` at noise level `sigma`.
    /// `condition` is an optional class label per batch item (`nil` = unconditional).
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor

    /// Denoises with a full ``DenoiserCondition`` per batch item (class label and the view's
    /// camera). Samplers call this one. The default passes the class labels to
    /// ``denoise(_:sigma:condition:)`` and ignores cameras, so a class-only denoiser keeps
    /// working unchanged; camera-aware denoisers implement it.
    func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor
}

extension Denoiser {
    public func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor {
        denoise(x, sigma: sigma, condition: DenoiserCondition.classLabels(of: conditions))
    }
}
