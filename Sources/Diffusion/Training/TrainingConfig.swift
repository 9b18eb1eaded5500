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
    /// Probability that a camera-aware model is told "no camera" (zero planes) for an item, so
    /// it also samples plain images, where there is no camera.
    public var cameraDropout: Float = 0.1
    /// Multiplier of the learning rate for the class-embedding table. A camera-bins model has one
    /// row per (class, view bin), each seen in about 1/300 of the items and starting as its class's
    /// row, so at the base rate the rows barely part (measured: 0.5 % of their norm after 437
    /// steps); 20 lets them learn the views in a few thousand steps.
    public var classEmbeddingLearningRateScale: Float = 1
    /// Mirror images left–right at random (valid for data without handedness, like the toys
    /// seen by a model that is not told the camera; a mirrored view is no view of the world-lit scene).
    public var randomFlip = true
    /// Seeds every random draw; with the step number it fixes each batch exactly.
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case batchSize, learningRate, warmupSteps, weightDecay, gradientClip, emaDecay, classDropout, cameraDropout, randomFlip, seed
        case classEmbeddingLearningRateScale
    }

    /// Decodes a saved config; keys added after a checkpoint was written take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        gradientClip = try c.decode(Float.self, forKey: .gradientClip)
        emaDecay = try c.decode(Float.self, forKey: .emaDecay)
        classDropout = try c.decode(Float.self, forKey: .classDropout)
        cameraDropout = try c.decodeIfPresent(Float.self, forKey: .cameraDropout) ?? 0.1
        classEmbeddingLearningRateScale = try c.decodeIfPresent(Float.self, forKey: .classEmbeddingLearningRateScale) ?? 1
        randomFlip = try c.decode(Bool.self, forKey: .randomFlip)
        seed = try c.decode(UInt64.self, forKey: .seed)
    }
}
