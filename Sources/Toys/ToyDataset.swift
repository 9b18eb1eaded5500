import Foundation
import Diffreps
import Diffusion
import TensorCore

/// The procedural "toys" data set (docs/DESIGN.md §5): image `i` is a random ``ToyScene`` seen from
/// a random ``OrbitView``, rendered on the fly, with the class label of its largest primitive.
///
/// Image `i` depends only on `(seed, i)`: it draws from `RandomGenerator(seed: seed).fork(i)`
/// (first the scene, ``ToyScene/random(using:)``, then the view,
/// ``OrbitView/random(using:elevationRange:)``), so any subset renders in any order, on any
/// number of threads, bit-identically.
///
/// ```swift
/// let toys = ToyDataset(seed: 1)                       // 32×32
/// let (image, label) = toys.sample(0)                  // [3, 32, 32] in [-1, 1], 0..<6
/// let batch = toys.batch(Array(0..<64))                // images [64, 3, 32, 32], labels [Int]
/// print(ToyShape(rawValue: label)!.name)
/// ```
public struct ToyDataset: Sendable {
    /// Number of classes (one per ``ToyShape``).
    public static let classCount = ToyShape.allCases.count

    /// The seed all images derive from.
    public let seed: UInt64
    /// Image height and width in pixels.
    public let size: Int
    /// The renderer (3×3 supersampling by default).
    public var renderer: ToyRenderer
    /// The range views' elevations are drawn from (default `[−10°, 45°]`).
    public var elevationRange: ClosedRange<Float>
    /// How the primitives are turned (``ToyPose/random`` by default).
    public var pose: ToyPose

    public init(seed: UInt64, size: Int = 32, supersampling: Int = 3,
                elevationRange: ClosedRange<Float> = OrbitView.defaultElevationRange,
                pose: ToyPose = .random) {
        precondition(size > 0, "image size must be positive, got \(size)")
        self.seed = seed
        self.size = size
        self.renderer = ToyRenderer(supersampling: supersampling)
        self.elevationRange = elevationRange
        self.pose = pose
    }

    /// The scene and view of image `index` (what ``sample(_:)`` renders).
    public func scene(_ index: Int) -> (scene: ToyScene, view: OrbitView) {
        var rng = RandomGenerator(seed: seed).fork(UInt64(index))
        let scene = ToyScene.random(using: &rng, pose: pose)
        let view = OrbitView.random(using: &rng, elevationRange: elevationRange)
        return (scene, view)
    }

    /// The first `count` indices whose scene's label is in `labels`, in index order (scenes are
    /// drawn without rendering, so this is cheap).
    ///
    /// ```swift
    /// let boxes = ToyDataset(seed: 1).indices(labelledIn: [1], count: 8)
    /// ```
    public func indices(labelledIn labels: Set<Int>, count: Int) -> [Int] {
        precondition(labels.contains { $0 >= 0 && $0 < Self.classCount }, "no toys carry the labels \(labels)")
        var out: [Int] = []
        var i = 0
        while out.count < count {
            if labels.contains(scene(i).scene.label) { out.append(i) }
            i += 1
        }
        return out
    }

    /// Image `index` (`[3, size, size]`, in `[-1, 1]`) and its class label.
    public func sample(_ index: Int) -> (image: Tensor, label: Int) {
        let (scene, view) = scene(index)
        return (renderer.render(scene, view: view, width: size, height: size), scene.label)
    }

    /// Images `indices` as one `[B, 3, size, size]` tensor plus their labels, rendered in
    /// parallel across images (bit-identical to calling ``sample(_:)`` on each).
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        let per = 3 * size * size
        var data = [Float](repeating: 0, count: indices.count * per)
        var labels = [Int](repeating: 0, count: indices.count)
        data.withUnsafeMutableBufferPointer { db in
            labels.withUnsafeMutableBufferPointer { lb in
                nonisolated(unsafe) let d = db.baseAddress!
                nonisolated(unsafe) let l = lb.baseAddress!
                Parallel.forEach(indices.count) { b in
                    let (scene, view) = self.scene(indices[b])
                    self.renderer.render(scene, view: view, width: size, height: size,
                                         into: d + b * per, coverage: nil)
                    l[b] = scene.label
                }
            }
        }
        return (Tensor([indices.count, 3, size, size], data: data), labels)
    }
}

extension ToyDataset {
    /// What a model trained on this data set learned from, as its ``Diffusion/TrainingDataCard``
    /// (the seed is left out: it only picks which toys, not what toys look like).
    public var card: [String: String] {
        ["data": "toys", "pose": pose.rawValue, "size": "\(size)",
         "elevation_min_degrees": String(format: "%.4g", elevationRange.lowerBound * 180 / .pi),
         "elevation_max_degrees": String(format: "%.4g", elevationRange.upperBound * 180 / .pi)]
    }

    /// The pose recorded in a model's training-data card: ``ToyPose/random`` for models without a
    /// card (every model before cards existed was trained on random poses) or trained on other data.
    /// Throws ``UnknownToyPose`` for a pose this version does not know, and
    /// ``TrainingDataCardError`` for a card it cannot read.
    ///
    /// ```swift
    /// let pose = try ToyDataset.pose(ofModel: URL(fileURLWithPath: "Assets/toys-unet"))   // .random
    /// ```
    public static func pose(ofModel modelFolder: URL) throws -> ToyPose {
        guard let card = try TrainingDataCard.read(modelFolder: modelFolder), card["data"] == "toys",
              let text = card["pose"] else { return .random }
        guard let pose = ToyPose(rawValue: text) else { throw UnknownToyPose(modelPath: modelFolder.path, pose: text) }
        return pose
    }
}

/// A model's training-data card names a toy pose this version does not know.
public struct UnknownToyPose: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The model folder and the pose its card names.
    public let modelPath: String, pose: String

    public init(modelPath: String, pose: String) {
        self.modelPath = modelPath
        self.pose = pose
    }

    public var description: String {
        "the model at '\(modelPath)' was trained on toys with pose '\(pose)', which this version does not know (known: \(ToyPose.allCases.map(\.rawValue).joined(separator: ", ")))"
    }

    public var errorDescription: String? { description }
}
