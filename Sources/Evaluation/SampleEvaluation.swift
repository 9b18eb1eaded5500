import Foundation
import Diffreps
import TensorCore
import Toys

/// Recognisability: does the classifier see the requested class?
public struct Recognisability: Sendable, Equatable, Codable {
    /// Fraction of images classified as the requested class.
    public let accuracy: Double
    /// Mean probability the classifier gives the requested class.
    public let meanProbability: Double

    /// Measures `output` (from ``ToyClassifier/classify(_:)``) against `classLabel`. Images
    /// marked `blank` (nothing shown: an empty NeRF, a white image) count as not recognised with
    /// probability 0, whatever the classifier makes of an empty frame.
    public init(_ output: ToyClassifier.Output, classLabel: Int, blank: [Bool]? = nil) {
        let k = output.probabilities.shape[1], n = output.probabilities.shape[0]
        precondition(classLabel >= 0 && classLabel < k, "class \(classLabel) outside 0..<\(k)")
        let empty = blank ?? [Bool](repeating: false, count: n)
        precondition(empty.count == n, "one blank flag per image")
        accuracy = Double(zip(output.predictions, empty).filter { $0 == classLabel && !$1 }.count) / Double(Swift.max(n, 1))
        meanProbability = (0..<n).map { empty[$0] ? 0 : Double(output.probabilities.data[$0 * k + classLabel]) }
            .reduce(0, +) / Double(Swift.max(n, 1))
    }

    /// Whether each image `[B, 3, H, W]` (in `[-1, 1]`) is blank: fewer than 1 % of its pixels
    /// differ from the white background by more than 0.1 (in 0–1 units).
    public static func blankImages(_ images: Tensor) -> [Bool] {
        let (b, plane) = (images.shape[0], images.shape[2] * images.shape[3])
        return (0..<b).map { i in
            var shown = 0
            for p in 0..<plane {
                let base = i * 3 * plane + p
                let dev = (0..<3).map { Swift.abs(1 - (images.data[base + $0 * plane] + 1) / 2) }.max()!
                if dev > 0.1 { shown += 1 }
            }
            return Double(shown) < 0.01 * Double(plane)
        }
    }
}

/// Every figure of one set of samples (one sampler, one class), next to real toys of that class.
/// Ratios are sample / real (1 = as the data).
public struct SampleMetrics: Sendable, Codable {
    /// What was evaluated (a sampler's name, "real", a run folder…).
    public var name: String
    /// The requested class (`nil`: unconditional).
    public var classLabel: Int?
    /// Samples (seeds: turntables or images).
    public var samples: Int
    /// Images classified (frames × turntables, or images).
    public var images: Int
    /// Recognisability of the requested class (nil when unconditional).
    public var recognisability: Recognisability?
    /// KID against the real references, ×10³ (mean and standard error).
    public var kid: Double
    public var kidStandardError: Double
    /// Mean pairwise feature distance across samples, and the same for real toys.
    public var diversity: Double
    public var realDiversity: Double
    /// Turntables only: silhouette change and view-consistent change, with the real figures.
    public var silhouetteChange: Double?
    public var realSilhouetteChange: Double?
    public var viewChange: Double?
    public var realViewChange: Double?

    public var diversityRatio: Double { realDiversity > 0 ? diversity / realDiversity : 0 }
    public var silhouetteRatio: Double? { ratio(silhouetteChange, realSilhouetteChange) }
    public var viewChangeRatio: Double? { ratio(viewChange, realViewChange) }

    func ratio(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, b != 0 else { return nil }
        return a / b
    }
}

/// Evaluates samples against real toys with a ``ToyClassifier``: recognisability, KID in the
/// classifier's feature space, diversity next to the data's, and (for turntables) the 3D
/// consistency of ``TurntableConsistency`` as ratios to real turntables of the same class.
///
/// Real references are turntables (or random views) of toy scenes of the requested class from
/// ``ToyReferences/defaultSeed``, posed like the model's training data (`pose`); a second, disjoint set of real scenes evaluated like samples
/// (``realTurntableRow(classLabel:count:)``) shows the figures' noise floor (KID ≈ 0, ratios ≈ 1).
///
/// ```swift
/// let evaluator = SampleEvaluator(classifier: try ToyClassifier(contentsOf: url))
/// let row = evaluator.evaluate(turntables: sampled, name: "pullback", classLabel: 0)
/// print(row.recognisability!.accuracy, row.kid, row.silhouetteRatio!)
/// ```
public final class SampleEvaluator {
    public let classifier: ToyClassifier
    /// Real turntables per class in the reference set.
    public var referenceTurntables = 16
    /// Real images per class for image references.
    public var referenceImages = 512
    /// Frames per turntable (the turntable of `diffrep nerf` has 24).
    public var frames = 24
    /// Render size (the model's).
    public var size = 32
    /// KID subsets and subset size.
    public var kidSubsets = 100, kidSubsetSize = 100
    /// How the real toys are posed: the pose of the data the model was trained on
    /// (``ToyDataset/pose(ofModel:)``), so samples are compared with what the model learned.
    public let pose: ToyPose

    private var turntableCache: [Int?: (features: [[[Float]]], silhouette: Double, view: Double)] = [:]
    private var imageCache: [Int?: [[Float]]] = [:]

    public init(classifier: ToyClassifier, pose: ToyPose = .random) {
        self.classifier = classifier
        self.pose = pose
    }

    /// The classes a `nil` label stands for (all of them).
    func classes(_ label: Int?) -> [Int] { label.map { [$0] } ?? Array(0..<classifier.classCount) }

    /// Mean silhouette change and view-consistent change over turntables.
    static func meanConsistency(_ turntables: [Turntable]) -> (silhouette: Double, view: Double) {
        let n = Double(turntables.count)
        return (turntables.map(TurntableConsistency.silhouetteChange).reduce(0, +) / n,
                turntables.map { TurntableConsistency.viewConsistentChange($0).value }.reduce(0, +) / n)
    }

    /// Features per frame of each real reference turntable (reference seed), and their mean
    /// consistency figures; computed once per label.
    func turntableReferences(_ label: Int?) -> (features: [[[Float]]], silhouette: Double, view: Double) {
        if let cached = turntableCache[label] { return cached }
        let labels = classes(label)
        let per = Swift.max(1, referenceTurntables / labels.count)
        let turntables = labels.flatMap {
            ToyReferences.turntables(classLabel: $0, count: per, views: OrbitView.turntable(frames: frames),
                                     size: size, pose: pose)
        }
        let consistency = Self.meanConsistency(turntables)
        let result = (features: turntables.map { classifier.classify($0.images).featureRows },
                      silhouette: consistency.silhouette, view: consistency.view)
        turntableCache[label] = result
        return result
    }

    /// Evaluates turntables (one per seed) that were asked to show `classLabel`.
    public func evaluate(turntables: [Turntable], name: String, classLabel: Int?) -> SampleMetrics {
        precondition(!turntables.isEmpty, "nothing to evaluate")
        let outputs = turntables.map { classifier.classify($0.images) }
        let features = outputs.map(\.featureRows)
        let reference = turntableReferences(classLabel)
        let kid = KernelDistance.kid(features.flatMap { $0 }, reference.features.flatMap { $0 },
                                     subsets: kidSubsets, subsetSize: kidSubsetSize)
        var recognisability: Recognisability? = nil
        if let classLabel {
            let all = ToyClassifier.Output(
                probabilities: Tensor.concat(outputs.map(\.probabilities), axis: 0),
                features: Tensor.concat(outputs.map(\.features), axis: 0))
            recognisability = Recognisability(all, classLabel: classLabel, blank: turntables.flatMap { $0.frames.map(\.isBlank) })
        }
        let consistency = Self.meanConsistency(turntables)
        return SampleMetrics(
            name: name, classLabel: classLabel, samples: turntables.count, images: turntables.count * turntables[0].frames.count,
            recognisability: recognisability, kid: kid.mean * 1000, kidStandardError: kid.standardError * 1000,
            diversity: FeatureDiversity.meanPairwiseDistance(aligned: features),
            realDiversity: FeatureDiversity.meanPairwiseDistance(aligned: reference.features),
            silhouetteChange: consistency.silhouette, realSilhouetteChange: reference.silhouette,
            viewChange: consistency.view, realViewChange: reference.view)
    }

    /// Real turntables of `classLabel` from a seed disjoint from the references, evaluated as if
    /// they were samples: the row every sampler is compared with.
    public func realTurntableRow(classLabel: Int, count: Int) -> SampleMetrics {
        let real = ToyReferences.turntables(classLabel: classLabel, count: count, views: OrbitView.turntable(frames: frames),
                                            size: size, seed: ToyReferences.defaultSeed &+ 1, pose: pose)
        return evaluate(turntables: real, name: "real toys", classLabel: classLabel)
    }

    /// Features of real images of `label` (random views from the toys data set, reference seed).
    func imageReferences(_ label: Int?) -> [[Float]] {
        if let cached = imageCache[label] { return cached }
        let toys = ToyDataset(seed: ToyReferences.defaultSeed, size: size, pose: pose)
        let indices = toys.indices(labelledIn: Set(classes(label)), count: referenceImages)
        let features = classifier.classify(toys.batch(indices).images).featureRows
        imageCache[label] = features
        return features
    }

    /// Evaluates images `[N, 3, H, W]` (one per seed) that were asked to show `classLabel`.
    public func evaluate(images: Tensor, name: String, classLabel: Int?) -> SampleMetrics {
        let output = classifier.classify(images)
        let features = output.featureRows
        let reference = imageReferences(classLabel)
        let kid = KernelDistance.kid(features, reference, subsets: kidSubsets, subsetSize: kidSubsetSize)
        return SampleMetrics(
            name: name, classLabel: classLabel, samples: images.shape[0], images: images.shape[0],
            recognisability: classLabel.map { Recognisability(output, classLabel: $0, blank: Recognisability.blankImages(images)) },
            kid: kid.mean * 1000, kidStandardError: kid.standardError * 1000,
            diversity: FeatureDiversity.meanPairwiseDistance(features),
            realDiversity: FeatureDiversity.meanPairwiseDistance(Array(reference.prefix(Swift.max(images.shape[0], 16)))),
            silhouetteChange: nil, realSilhouetteChange: nil, viewChange: nil, realViewChange: nil)
    }

    /// Real images of `classLabel` from a seed disjoint from the references, evaluated as samples.
    public func realImageRow(classLabel: Int, count: Int) -> SampleMetrics {
        let toys = ToyDataset(seed: ToyReferences.defaultSeed &+ 1, size: size, pose: pose)
        let indices = toys.indices(labelledIn: [classLabel], count: count)
        return evaluate(images: toys.batch(indices).images, name: "real toys", classLabel: classLabel)
    }
}
