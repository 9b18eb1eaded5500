import TensorCore

/// A denoiser `D(x; σ, condition) ≈ E[x₀ | x_σ = x]` in the variance-exploding convention
/// `x_σ = x₀ + σ·ε` (DESIGN.md §1). The score is `(D − x)/σ²`.
///
/// ```swift
/// let d: any Denoiser = GaussianDenoiser(mean: mu, variance: 1)
/// let x0hat = d.denoise(x, sigma: 2.0, condition: nil)
/// ```
public protocol Denoiser {
    /// Denoises a batch `x` of shape `[B, C, H, W]` at noise level `sigma`.
    /// `condition` is an optional class label per batch item (`nil` = unconditional).
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor
}
