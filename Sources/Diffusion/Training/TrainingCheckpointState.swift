import Foundation
import SafeTensors
import TensorCore

/// The exact training state a checkpoint's `state.safetensors` holds: the step, the AdamW step,
/// the ``TrainingConfig`` (all three in its metadata) and, by name, each parameter's weights
/// (`param.`), EMA (`ema.`) and AdamW moments (`adam_m.`, `adam_v.`).
///
/// Parsing validates every value a tampered or corrupt file could make a later training step
/// trap on, and throws a ``CheckpointError`` naming the file, the key and the value.
///
/// ```swift
/// let state = try TrainingCheckpointState(Data(contentsOf: url), source: url.path)
/// let trainer = DenoiserTrainer(unet: unet, schedule: schedule, data: toys, config: state.config)
/// try state.restore(into: trainer)
/// ```
public struct TrainingCheckpointState {
    /// Steps completed.
    public let step: Int
    /// AdamW's own step count (its bias correction).
    public let adamStep: Int
    /// The run's settings.
    public let config: TrainingConfig
    /// The file the state came from (for errors).
    public let source: String
    let tensors: [String: Tensor]

    /// The largest `step`/`adam_step` accepted (far beyond any run; keeps `step · batchSize` in range).
    public static let maxStep = 1 << 40
    /// The largest `batchSize` accepted.
    public static let maxBatchSize = 1 << 16

    /// Parses `state.safetensors` bytes (`source` names the file in errors).
    public init(_ data: Data, source: String) throws {
        let contents: SafeTensors.Contents
        do { contents = try SafeTensors.parseContents(data) } catch let e as SafeTensorsError {
            throw CheckpointError.invalidFile(source, e)
        }
        let metadata = contents.metadata ?? [:]
        guard let stepText = metadata["step"], let adamText = metadata["adam_step"],
              let configText = metadata["training_config"] else {
            throw CheckpointError.badMetadata(source)
        }
        func count(_ key: String, _ text: String) throws -> Int {
            guard let v = Int(text), (0...Self.maxStep).contains(v) else {
                throw CheckpointError.invalidValue(source, key: key, value: text, allowed: "an integer in 0…\(Self.maxStep)")
            }
            return v
        }
        step = try count("step", stepText)
        adamStep = try count("adam_step", adamText)
        do { config = try JSONDecoder().decode(TrainingConfig.self, from: Data(configText.utf8)) } catch {
            throw CheckpointError.invalidValue(source, key: "training_config", value: configText,
                                               allowed: "a TrainingConfig as JSON (\(error))")
        }
        try Self.validate(config, source: source)
        self.source = source
        var byName: [String: Tensor] = [:]
        for (n, t) in contents.tensors { byName[n] = t }
        tensors = byName
    }

    /// Throws ``CheckpointError/invalidValue(_:key:value:allowed:)`` for the first setting of
    /// `config` a training step cannot run with.
    static func validate(_ c: TrainingConfig, source: String) throws {
        func check(_ key: String, _ ok: Bool, _ value: String, _ allowed: String) throws {
            if !ok { throw CheckpointError.invalidValue(source, key: "training_config.\(key)", value: value, allowed: allowed) }
        }
        func probability(_ key: String, _ v: Float) throws {
            try check(key, v >= 0 && v <= 1, "\(v)", "a number in [0, 1]")
        }
        try check("batchSize", (1...maxBatchSize).contains(c.batchSize), "\(c.batchSize)", "an integer in 1…\(maxBatchSize)")
        try check("warmupSteps", (0...maxStep).contains(c.warmupSteps), "\(c.warmupSteps)", "an integer in 0…\(maxStep)")
        try check("learningRate", c.learningRate.isFinite && c.learningRate > 0, "\(c.learningRate)", "a finite number > 0")
        try check("weightDecay", c.weightDecay.isFinite && c.weightDecay >= 0, "\(c.weightDecay)", "a finite number ≥ 0")
        try check("gradientClip", c.gradientClip.isFinite && c.gradientClip >= 0, "\(c.gradientClip)", "a finite number ≥ 0 (0 = off)")
        try probability("emaDecay", c.emaDecay)
        try probability("classDropout", c.classDropout)
        try probability("cameraDropout", c.cameraDropout)
        try check("classEmbeddingLearningRateScale", c.classEmbeddingLearningRateScale.isFinite && c.classEmbeddingLearningRateScale > 0,
                  "\(c.classEmbeddingLearningRateScale)", "a finite number > 0")
    }

    /// Copies the weights, EMA and AdamW state into `trainer` (made with ``config``) and sets its
    /// steps. Every parameter needs its `param.` and `ema.` tensors with the parameter's shape;
    /// the AdamW moments, when present, need it too. Nothing is copied when a check fails.
    public func restore(into trainer: DenoiserTrainer) throws {
        if trainer.unet.isCameraAware && config.randomFlip {
            throw CheckpointError.invalidValue(source, key: "training_config.randomFlip", value: "true",
                                               allowed: "false for a camera-aware model (a mirrored view is no view of the scene)")
        }
        for (name, p) in trainer.unet.parameters {
            for prefix in ["param.", "ema."] {
                guard let t = tensors[prefix + name] else { throw CheckpointError.missingTensor(source, prefix + name) }
                guard t.shape == p.shape else {
                    throw CheckpointError.shapeMismatch(source, prefix + name, expected: p.shape, found: t.shape)
                }
            }
            for prefix in ["adam_m.", "adam_v."] {
                if let t = tensors[prefix + name], t.shape != p.shape {
                    throw CheckpointError.shapeMismatch(source, prefix + name, expected: p.shape, found: t.shape)
                }
            }
        }
        for (name, p) in trainer.unet.parameters {
            p.data = tensors["param." + name]!.data
            trainer.ema[name] = tensors["ema." + name]!.data
            if let m = tensors["adam_m." + name], let v = tensors["adam_v." + name] {
                trainer.optimizer.m[name] = m.data
                trainer.optimizer.v[name] = v.data
            }
        }
        trainer.optimizer.restore(stepCount: adamStep)
        trainer.step = step
    }
}
