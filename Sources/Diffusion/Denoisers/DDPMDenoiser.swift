import Foundation
import TensorCore

/// Turns a DDPM network (ε-, v- or x₀-prediction on the VP input) into a ``Denoiser`` in the
/// variance-exploding convention `x = x₀ + σ·ε` of docs/DESIGN.md §1.
///
/// With `ᾱ = 1/(1+σ²)` (so that `σ = √((1−ᾱ)/ᾱ)`), the VP input is
/// `x_t = √ᾱ·x = x/√(1+σ²)` at the timestep `t(σ)` of ``DDPMSchedule/timestep(forSigma:)``,
/// and the network's output `f` gives `D(x; σ) = E[x₀ | x]`:
/// - **epsilon**: `x = x₀ + σ·ε` ⇒ `D = x − σ·ε̂`.
/// - **v-prediction**: `v = √ᾱ·ε − √(1−ᾱ)·x₀` and `x_t = √ᾱ·x₀ + √(1−ᾱ)·ε` give
///   `x₀ = √ᾱ·x_t − √(1−ᾱ)·v` (diffusers' `pred_original_sample`). With `√ᾱ = 1/√(1+σ²)`,
///   `√(1−ᾱ) = σ/√(1+σ²)` and `x_t = x/√(1+σ²)`: `D = x/(1+σ²) − σ/√(1+σ²)·v̂`.
/// - **sample**: `D = x̂₀` (the output itself).
/// All three are linear in the prediction, so an exact `E[ε|x]`, `E[v|x]` or `E[x₀|x]` gives
/// the exact posterior mean. Ops are tensor ops: a network on the tape keeps `D` on the tape.
///
/// ```swift
/// let denoiser = DDPMDenoiser(network: unet, schedule: try DDPMSchedule(contentsOf: configURL))
/// let x0 = denoiser.denoise(x, sigma: 2.5, condition: nil)   // [B, C, H, W]
/// ```
public struct DDPMDenoiser: Denoiser {
    /// The wrapped network.
    public let network: any NoisePredictionNetwork
    /// The schedule it was trained with (maps σ to its timestep).
    public let schedule: DDPMSchedule
    /// What the network predicts.
    public let prediction: PredictionType

    /// Wraps `network`; `prediction` defaults to the schedule's `prediction_type`.
    public init(network: any NoisePredictionNetwork, schedule: DDPMSchedule, prediction: PredictionType? = nil) {
        self.network = network
        self.schedule = schedule
        self.prediction = prediction ?? schedule.predictionType
    }

    /// `D(x; σ)` for `x` of shape `[B, C, H, W]`; `condition` is passed as class labels.
    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        denoise(x, sigma: sigma, conditions: DenoiserCondition.classes(condition))
    }

    /// `D(x; σ)` for `x` of shape `[B, C, H, W]` with a class and camera per item (a network
    /// that reads no camera ignores it).
    public func denoise(_ x: Tensor, sigma: Float, conditions condition: [DenoiserCondition]?) -> Tensor {
        precondition(x.rank >= 1, "DDPMDenoiser needs a batch [B, C, H, W], got \(x.shape)")
        precondition(sigma >= 0, "noise level must be non-negative, got \(sigma)")
        let b = x.shape[0]
        if let c = condition { precondition(c.count == b, "\(c.count) conditions for a batch of \(b)") }
        let s = Double(sigma)
        let inScale = 1 / (1 + s * s).squareRoot()                       // √ᾱ
        let t = schedule.timestep(forSigma: sigma)
        let f = network.predict(x.scaled(by: Float(inScale)),             // x_t = √ᾱ·x   [B, C, H, W]
                                timesteps: [Float](repeating: t, count: b), conditions: condition)
        precondition(f.shape == x.shape, "network returned \(f.shape) for an input of \(x.shape)")
        switch prediction {
        case .epsilon:
            return x - f.scaled(by: sigma)                                // x − σ·ε̂
        case .vPrediction:
            return x.scaled(by: Float(1 / (1 + s * s))) - f.scaled(by: Float(s * inScale))
        case .sample:
            return f
        }
    }
}
