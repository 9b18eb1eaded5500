import Diffusion
import TensorCore

/// The toys as ``Diffusion/TrainingData``: images rendered on the fly, labels = the main
/// primitive's class, and each image's camera (for camera-aware models). Procedural: never repeats.
///
/// ```swift
/// let data = ToyTrainingData(dataset: ToyDataset(seed: 1))
/// let (images, labels) = data.batch([0, 1, 2])      // [3, 3, 32, 32], 3 labels
/// let cameras = data.cameras([0, 1, 2])!            // where each image was seen from
/// ```
public struct ToyTrainingData: TrainingData, Sendable {
    public let dataset: ToyDataset

    public init(dataset: ToyDataset) { self.dataset = dataset }

    public var count: Int? { nil }
    public var numClasses: Int? { ToyDataset.classCount }

    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        let b = dataset.batch(indices)
        return (b.images, b.labels)
    }

    /// `data: toys`, the pose, image size and elevation range (degrees): what ``ToyDataset/pose(ofModel:)`` reads back.
    public var card: [String: String]? { dataset.card }

    public func cameras(_ indices: [Int]) -> [CameraPose]? {
        indices.map { i in
            let view = dataset.scene(i).view
            return CameraPose(azimuth: view.azimuth, elevation: view.elevation)
        }
    }
}
