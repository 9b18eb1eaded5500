import TensorCore

/// A network trained with a DDPM objective on the variance-preserving input
/// `x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε` (diffusers' `UNet2DModel` is one). What it predicts —
/// `ε`, `v` or `x₀` — is a ``PredictionType`` chosen where it is wrapped, by ``DDPMDenoiser``.
///
/// ```swift
/// struct Zero: NoisePredictionNetwork {
///     func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor { Tensor.zeros(x.shape) }
/// }
/// let d = DDPMDenoiser(network: Zero(), schedule: DDPMSchedule())
/// ```
public protocol NoisePredictionNetwork {
    /// The prediction for a batch `x` of shape `[B, C, H, W]` (VP scaling) at one (possibly
    /// fractional) timestep per batch item; `classLabels` has one label per item, or is `nil`.
    /// Returns `[B, C, H, W]`.
    func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor
}
