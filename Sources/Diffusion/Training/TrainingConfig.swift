/// Settings of a denoiser training run (DDPM ε-prediction, AdamW, EMA, class dropout).
///
/// ```swift
/// var config = TrainingConfig()
/// config.batchSize = 64
/// config.learningRate = 3e-4
/// ```
public struct TrainingConfig: Codable, Equatable, Sendable {
    /// Images per step.
    public var batchSize = 32
    /// Peak AdamW learning rate (reached after `warmupSteps`).
    public var learningRate: Float = 3e-4
    public var warmupSteps = 200
    /// AdamW decoupled weight decay.
    public var weightDecay: Float = 1e-4
    /// Gradients are rescaled to at most this global norm (0 = off).
    public var gradientClip: Float = 1
    /// Exponential moving average of the weights (the shipped weights are the EMA).
    public var emaDecay: Float = 0.999
    /// Probability that a label is replaced by the null class (classifier-free guidance).
    public var classDropout: Float = 0.1
    /// Mirror images left–right at random (valid for data without handedness, like the toys).
    public var randomFlip = true
    /// Seeds every random draw; with the step number it fixes each batch exactly.
    public var seed: UInt64 = 0

    public init() {}
}
