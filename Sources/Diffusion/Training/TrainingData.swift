import TensorCore

/// A source of training images for ``DenoiserTrainer``: deterministic by index, so a resumed
/// run sees exactly the batches an uninterrupted run would.
///
/// ```swift
/// struct Stripes: TrainingData {
///     let count: Int? = 100
///     let numClasses: Int? = nil
///     func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) { … }   // [B, C, H, W]
/// }
/// ```
public protocol TrainingData {
    /// Number of distinct items, or `nil` for a procedural source that never repeats.
    var count: Int? { get }
    /// Number of class labels (labels are `0..<numClasses`), or `nil` when unlabelled.
    var numClasses: Int? { get }
    /// Images `[B, C, H, W]` in `[-1, 1]` and their labels, for the given item indices.
    func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?)
    /// The camera of each item (see the default in the extension: none).
    func cameras(_ indices: [Int]) -> [CameraPose]?
}

extension TrainingData {
    /// The camera each item was seen from, for training a camera-aware model (``UNet2D/readsCamera``),
    /// or `nil` when the data has no cameras (the default). Sources that know their views
    /// (the toys) implement ``cameras(_:)``.
    public func cameras(_ indices: [Int]) -> [CameraPose]? { nil }
}
