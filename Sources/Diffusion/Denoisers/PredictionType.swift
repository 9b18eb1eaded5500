/// What a DDPM network predicts from the noisy input `x_t = √ᾱ·x₀ + √(1−ᾱ)·ε`
/// (diffusers' `prediction_type`; the raw values are diffusers' spellings).
///
/// ```swift
/// let p = PredictionType(rawValue: "v_prediction")   // .vPrediction
/// ```
public enum PredictionType: String, Sendable, CaseIterable {
    /// The noise `ε` (DDPM, Ho et al. 2020).
    case epsilon = "epsilon"
    /// The velocity `v = √ᾱ·ε − √(1−ᾱ)·x₀` (Salimans & Ho 2022).
    case vPrediction = "v_prediction"
    /// The clean sample `x₀` itself.
    case sample = "sample"
}
