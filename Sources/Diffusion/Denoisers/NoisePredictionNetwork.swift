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

    /// The same with a full ``DenoiserCondition`` per item (class and camera). The default
    /// passes the class labels on and ignores cameras (right for networks that do not read
    /// one); camera-aware networks such as ``UNet2D`` with camera planes implement it.
    func predict(_ x: Tensor, timesteps: [Float], conditions: [DenoiserCondition]?) -> Tensor
}

extension NoisePredictionNetwork {
    public func predict(_ x: Tensor, timesteps: [Float], conditions: [DenoiserCondition]?) -> Tensor {
        predict(x, timesteps: timesteps, classLabels: DenoiserCondition.classLabels(of: conditions))
    }
}
