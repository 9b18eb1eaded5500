import Foundation
import TensorCore

/// Trains a ``UNet2D`` with the DDPM ε-prediction objective
/// `E_{t,x₀,ε} ‖ε̂(√ᾱ_t x₀ + √(1−ᾱ_t) ε, t) − ε‖²` using AdamW, gradient clipping, a linear
/// warm-up, EMA weights and class dropout (the null class is the last label, for guidance).
///
/// Every step's randomness comes from `(seed, step)`, so a run resumed from a checkpoint
/// continues exactly as an uninterrupted one.
///
/// ```swift
/// let trainer = DenoiserTrainer(unet: UNet2D(config: cfg), schedule: DDPMSchedule(), data: toys, config: .init())
/// for _ in 0..<1000 { print(trainer.trainStep()) }
/// try trainer.saveCheckpoint(to: URL(fileURLWithPath: "ckpt"))
/// ```
public final class DenoiserTrainer {
    public let unet: UNet2D
    public let schedule: DDPMSchedule
    public let data: TrainingData
    public private(set) var config: TrainingConfig
    /// Steps completed.
    public internal(set) var step = 0
    var optimizer: Adam
    /// EMA of every parameter, by name.
    var ema: [String: [Float]]

    public init(unet: UNet2D, schedule: DDPMSchedule, data: TrainingData, config: TrainingConfig) {
        self.unet = unet
        self.schedule = schedule
        self.data = data
        self.config = config
        optimizer = Adam.adamW(parameters: unet.parameters, learningRate: config.learningRate,
                               weightDecay: config.weightDecay)
        if config.classEmbeddingLearningRateScale != 1 {
            optimizer.learningRateScale["class_embedding.weight"] = config.classEmbeddingLearningRateScale
        }
        ema = Dictionary(uniqueKeysWithValues: unet.parameters.map { ($0.0, $0.1.data) })
    }

    /// The null class used for guidance (the last class label), or nil for unconditional models.
    public var nullClass: Int? { unet.config.nullClass }

    /// Item indices of the batch for `step`: consecutive for procedural data, a seeded
    /// permutation per epoch for finite data sets.
    func indices(forStep s: Int) -> [Int] {
        let b = config.batchSize
        guard let n = data.count else { return Array((s * b)..<((s + 1) * b)) }
        return (0..<b).map { k in
            let global = s * b + k
            let epoch = global / n
            return Self.permutation(n, seed: config.seed &+ UInt64(epoch) &* 7919)[global % n]
        }
    }

    static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var rng = RandomGenerator(seed: seed)
        var p = Array(0..<n)
        let u = rng.uniformValues(n)
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Swift.min(Int(u[i] * Float(i + 1)), i)) }
        return p
    }

    /// The noisy training batch of step `s`: flips, timesteps, noise and label dropout all drawn
    /// from `RandomGenerator(seed).fork(s)`, in that order.
    /// A camera-aware model additionally gets each item's camera (dropped to "no camera" with
    /// probability `cameraDropout`, drawn after the labels), so older runs' draws are unchanged.
    func noisyBatch(step s: Int, indices: [Int]) -> (input: Tensor, noise: Tensor, timesteps: [Float], labels: [Int]?, cameras: [CameraPose?]?) {
        var rng = RandomGenerator(seed: config.seed).fork(UInt64(bitPattern: Int64(s)))
        var (x0, labels) = data.batch(indices)                       // [B, C, H, W]
        precondition(!(unet.isCameraAware && config.randomFlip), "a camera-aware model cannot train on mirrored views")
        let b = x0.shape[0], per = x0.count / b
        if config.randomFlip { x0 = Self.flipRandomly(x0, rng.uniformValues(b)) }
        let ts = rng.uniformValues(b).map { Swift.min(Int($0 * Float(schedule.numTrainTimesteps)), schedule.numTrainTimesteps - 1) }
        let eps = rng.normal(x0.shape)
        var xt = [Float](repeating: 0, count: x0.count)
        for i in 0..<b {
            let a = schedule.alphasCumprod[ts[i]]
            let (sa, sn) = (Float(a.squareRoot()), Float((1 - a).squareRoot()))
            for j in (i * per)..<((i + 1) * per) { xt[j] = sa * x0.data[j] + sn * eps.data[j] }
        }
        if let given = labels, let null = nullClass {
            let drop = rng.uniformValues(b)
            labels = zip(given, drop).map { $1 < config.classDropout ? null : $0 }
        } else if nullClass != nil {
            labels = [Int](repeating: nullClass!, count: b)
        } else {
            labels = nil
        }
        var cameras: [CameraPose?]? = nil
        if unet.isCameraAware {
            let given = data.cameras(indices)
            let drop = rng.uniformValues(b)
            cameras = (0..<b).map { i in drop[i] < config.cameraDropout ? nil : given?[i] }
        }
        return (Tensor(x0.shape, data: xt), eps, ts.map(Float.init), labels, cameras)
    }


    /// Mirrors item `i` left–right where `u[i] < 0.5`.
    static func flipRandomly(_ x: Tensor, _ u: [Float]) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = x.data
        for i in 0..<b where u[i] < 0.5 {
            for r in 0..<(c * h) {
                let base = (i * c * h + r) * w
                for j in 0..<w { out[base + j] = x.data[base + w - 1 - j] }
            }
        }
        return Tensor(x.shape, data: out)
    }

    /// Runs one optimisation step and returns its loss.
    @discardableResult
    public func trainStep() -> Float {
        let batch = noisyBatch(step: step, indices: indices(forStep: step))
        unet.parameters.zeroGrad()
        let pred = unet.predict(batch.input, timesteps: batch.timesteps, conditions: DenoiserCondition.combining(classLabels: batch.labels, cameras: batch.cameras))
        let loss = (pred - batch.noise).square().mean()
        loss.backward()
        clipGradients()
        optimizer.learningRate = config.learningRate * Swift.min(1, Float(step + 1) / Float(Swift.max(config.warmupSteps, 1)))
        optimizer.step()
        updateEMA()
        step += 1
        return loss.item
    }

    func clipGradients() {
        guard config.gradientClip > 0 else { return }
        var sq = 0.0
        for t in unet.parameters.tensors { for g in t.grad ?? [] { sq += Double(g) * Double(g) } }
        let norm = Float(sq.squareRoot())
        guard norm > config.gradientClip else { return }
        let s = config.gradientClip / norm
        for t in unet.parameters.tensors where t.grad != nil {
            t.grad = t.grad!.map { $0 * s }
        }
    }

    func updateEMA() {
        let d = Swift.min(config.emaDecay, Float(1 + step) / Float(10 + step))
        for (name, p) in unet.parameters {
            var e = ema[name]!
            p.data.withUnsafeBufferPointer { x in
                for i in 0..<e.count { e[i] = d * e[i] + (1 - d) * x[i] }
            }
            ema[name] = e
        }
    }

    /// A UNet holding the EMA weights (what gets shipped and sampled).
    public func emaUNet() -> UNet2D {
        let copy = UNet2D(config: unet.config)
        for (name, p) in copy.parameters { p.data = ema[name]! }
        return copy
    }

    /// Mean held-out ε-loss (per pixel) of `network` per band of timesteps, on fixed items and
    /// fixed noise (see ``HeldOutEvaluation``; the noise is seeded by the training seed).
    /// `items` indexes the data: use indices never seen in training, e.g. a separate range.
    ///
    /// ```swift
    /// let before = trainer.heldOutLoss(network: trainer.unet, items: Array(1_000_000..<1_000_064))
    /// ```
    public func heldOutLoss(network: UNet2D, items: [Int], bands: [Range<Int>] = HeldOutEvaluation.defaultBands) -> [Float] {
        HeldOutEvaluation(data: data, items: items, bands: bands, seed: config.seed, batchSize: config.batchSize)
            .evaluate(network: network, schedule: schedule, prediction: .epsilon, nullClass: nullClass)
            .map { Float($0.epsilonMSE) }
    }
}

extension DenoiserTrainer {
    /// Changes the peak learning rate from the next step on (e.g. lower after a NaN, when resuming
    /// a checkpoint); the warm-up still applies, and the next checkpoint records the new rate.
    /// Throws `TrainingConfigError.learningRate` unless it is a finite number > 0.
    ///
    /// ```swift
    /// let trainer = try DenoiserTrainer.resume(from: checkpoint, data: data)
    /// try trainer.setLearningRate(1e-4)
    /// ```
    public func setLearningRate(_ rate: Float) throws {
        guard rate > 0, rate.isFinite else { throw TrainingConfigError.learningRate(rate) }
        config.learningRate = rate
    }
}

/// A training setting a run cannot take.
public enum TrainingConfigError: Error, Equatable, CustomStringConvertible {
    /// The learning rate is not a finite number > 0.
    case learningRate(Float)

    public var description: String {
        switch self {
        case let .learningRate(r): return "learning rate \(r) is out of range: allowed a finite number > 0"
        }
    }
}

