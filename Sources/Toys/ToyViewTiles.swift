import Diffreps
import Diffusion
import Foundation
import TensorCore

/// The toys as training data for a multi-view model: item `i` is toy `i`'s scene seen from its
/// view's azimuth `a` and from `a + 90°`, `a + 180°`, `a + 270°` (same elevation), tiled 2×2 as
/// ``Diffusion/QuarterTurnTiles`` lays them out (`[3, 2·size, 2·size]`). The label is the scene's;
/// the camera is the first view's. Procedural: never repeats.
///
/// ```swift
/// let data = ToyViewTiles(dataset: ToyDataset(seed: 1, pose: .canonical))
/// let (images, labels) = data.batch([0, 1])      // [2, 3, 64, 64], 2 labels
/// ```
public struct ToyViewTiles: TrainingData, Sendable {
    public let dataset: ToyDataset

    public init(dataset: ToyDataset) { self.dataset = dataset }

    public var count: Int? { nil }
    public var numClasses: Int? { ToyDataset.classCount }
    /// The side of a tiled image (twice the data set's image size).
    public var side: Int { 2 * dataset.size }

    /// The four views of item `index`, a quarter turn apart, starting at its own view.
    public func views(_ index: Int) -> (scene: ToyScene, views: [OrbitView]) {
        let (scene, view) = dataset.scene(index)
        return (scene, (0..<QuarterTurnTiles.viewCount).map { k in
            var v = view
            v.azimuth = view.azimuth + Float(k) * QuarterTurnTiles.azimuthStep
            return v
        })
    }

    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        let size = dataset.size, per = 3 * size * size, n = QuarterTurnTiles.viewCount
        var data = [Float](repeating: 0, count: indices.count * n * per)
        var labels = [Int](repeating: 0, count: indices.count)
        data.withUnsafeMutableBufferPointer { db in
            labels.withUnsafeMutableBufferPointer { lb in
                nonisolated(unsafe) let d = db.baseAddress!
                nonisolated(unsafe) let l = lb.baseAddress!
                Parallel.forEach(indices.count * n) { j in
                    let (scene, views) = self.views(indices[j / n])
                    self.dataset.renderer.render(scene, view: views[j % n], width: size, height: size,
                                                 into: d + j * per, coverage: nil)
                    if j % n == 0 { l[j / n] = scene.label }
                }
            }
        }
        return (QuarterTurnTiles.tile(Tensor([indices.count * n, 3, size, size], data: data)), labels)
    }

    /// The first view's camera of each item: the single-view data's (``ToyTrainingData/cameras(_:)``).
    public func cameras(_ indices: [Int]) -> [CameraPose]? {
        ToyTrainingData(dataset: dataset).cameras(indices)
    }

    /// The toys' card (``ToyDataset/card``; `size` is one view's) plus the tiling.
    public var card: [String: String]? {
        var card = dataset.card
        card[QuarterTurnTiles.cardKey] = QuarterTurnTiles.cardValue
        return card
    }
}
