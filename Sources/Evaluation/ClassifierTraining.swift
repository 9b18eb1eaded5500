import Foundation
import Diffusion
import TensorCore

/// Trains a ``ToyClassifier`` with cross-entropy and Adam (cosine-decayed learning rate) on any
/// labelled ``TrainingData`` (the toys, or a folder of labelled PNGs), with augmentations that
/// make it read sampled renders, which are softer and noisier than the data: random mirroring,
/// a random 3×3 binomial blur and a little Gaussian noise. Every step's draws come from
/// `(seed, step)`, so a run is reproducible.
///
/// ```swift
/// var training = ClassifierTraining(data: toys, classCount: 6)
/// training.steps = 3000
/// let classifier = training.run { step, loss in print(step, loss); return true }
/// print(ClassifierTraining.accuracy(classifier, data: heldOut, items: Array(0..<1024)))
/// ```
public struct ClassifierTraining {
    /// Labelled images (labels `0..<classCount`).
    public var data: TrainingData
    /// Number of classes.
    public var classCount: Int
    /// Optimisation steps.
    public var steps = 3000
    /// Images per step.
    public var batchSize = 64
    /// Peak Adam learning rate (cosine decay to 5 % of it).
    public var learningRate: Float = 2e-3
    /// Seeds initialisation, batches and augmentations.
    public var seed: UInt64 = 0
    /// Apply the augmentations (mirror, blur, noise).
    public var augment = true

    public init(data: TrainingData, classCount: Int) {
        self.data = data
        self.classCount = classCount
    }

    /// Trains a fresh classifier. `progress(step, loss)` is called after every step; returning
    /// `false` stops early (the classifier so far is returned).
    public func run(progress: (_ step: Int, _ loss: Float) -> Bool = { _, _ in true }) -> ToyClassifier {
        let classifier = ToyClassifier(classCount: classCount, seed: seed)
        var adam = Adam(parameters: classifier.parameters, learningRate: learningRate)
        for step in 0..<steps {
            let indices = data.count.map { n in (0..<batchSize).map { (step * batchSize + $0) % n } }
                ?? Array((step * batchSize)..<((step + 1) * batchSize))
            var (images, labels) = data.batch(indices)
            guard let labels else { preconditionFailure("classifier training needs labelled data") }
            precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "labels must be in 0..<\(classCount)")
            if augment {
                var rng = RandomGenerator(seed: seed).fork(UInt64(step))
                images = Self.augmented(images, using: &rng)
            }
            classifier.parameters.zeroGrad()
            let loss = Self.crossEntropy(classifier.forward(images).logits, labels: labels)
            loss.backward()
            let progressFraction = Float(step) / Float(Swift.max(steps - 1, 1))
            adam.learningRate = learningRate * (0.05 + 0.95 * 0.5 * (1 + Foundation.cos(.pi * progressFraction)))
            adam.step()
            if !progress(step + 1, loss.item) { break }
        }
        return classifier
    }

    /// Mean cross-entropy of `logits` `[B, K]` against `labels`.
    static func crossEntropy(_ logits: Tensor, labels: [Int]) -> Tensor {
        let (b, k) = (logits.shape[0], logits.shape[1])
        var onehot = [Float](repeating: 0, count: b * k)
        for (i, c) in labels.enumerated() { onehot[i * k + c] = 1 }
        return (logits.logSoftmax(axis: 1) * Tensor([b, k], data: onehot)).sum().scaled(by: -1 / Float(b))
    }

    /// Mirror (½), 3×3 binomial blur (½) and Gaussian noise of σ ∈ [0, 0.04] per image.
    static func augmented(_ x: Tensor, using rng: inout RandomGenerator) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let u = rng.uniformValues(3 * b)
        let noise = rng.normalValues(x.count)
        var out = x.data
        let plane = h * w
        for i in 0..<b {
            for ch in 0..<c {
                let base = (i * c + ch) * plane
                var img = Array(out[base..<(base + plane)])
                if u[3 * i] < 0.5 { for r in 0..<h { img[(r * w)..<((r + 1) * w)].reverse() } }
                if u[3 * i + 1] < 0.5 { img = blurred(img, h, w) }
                let sigma = 0.04 * u[3 * i + 2]
                for p in 0..<plane { out[base + p] = img[p] + sigma * noise[base + p] }
            }
        }
        return Tensor(x.shape, data: out)
    }

    /// 3×3 binomial blur ([1 2 1]/4 each way), edges clamped.
    static func blurred(_ img: [Float], _ h: Int, _ w: Int) -> [Float] {
        var tmp = img, out = img
        for r in 0..<h { for q in 0..<w {
            tmp[r * w + q] = 0.25 * img[r * w + Swift.max(q - 1, 0)] + 0.5 * img[r * w + q] + 0.25 * img[r * w + Swift.min(q + 1, w - 1)]
        } }
        for r in 0..<h { for q in 0..<w {
            out[r * w + q] = 0.25 * tmp[Swift.max(r - 1, 0) * w + q] + 0.5 * tmp[r * w + q] + 0.25 * tmp[Swift.min(r + 1, h - 1) * w + q]
        } }
        return out
    }

    /// Fraction of `items` of `data` that `classifier` labels correctly.
    public static func accuracy(_ classifier: ToyClassifier, data: TrainingData, items: [Int]) -> Double {
        var correct = 0
        for start in stride(from: 0, to: items.count, by: 256) {
            let part = Array(items[start..<Swift.min(start + 256, items.count)])
            let (images, labels) = data.batch(part)
            let predicted = classifier.classify(images).predictions
            correct += zip(predicted, labels ?? []).filter { $0 == $1 }.count
        }
        return Double(correct) / Double(Swift.max(items.count, 1))
    }
}
