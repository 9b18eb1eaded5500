import Foundation
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
    /// A JSON description of the data, saved beside the trained model as
    /// ``TrainingDataCard/fileName`` so that whoever uses the model knows what it learned
    /// (see the default in the extension: none).
    var card: [String: String]? { get }
}

/// The description of a model's training data, kept in its folder (diffusers ignores the file).
///
/// ```swift
/// let card = try TrainingDataCard.read(modelFolder: url)   // ["data": "toys", "pose": "canonical", …] or nil
/// ```
public enum TrainingDataCard {
    /// The file's name inside a model folder.
    public static let fileName = "training_data.json"

    /// The card in `modelFolder`, or `nil` when it has none (models from elsewhere, or trained
    /// before cards existed).
    public static func read(modelFolder: URL) throws -> [String: String]? {
        let url = modelFolder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url))
        } catch {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: url.path,
                NSLocalizedDescriptionKey: "'\(url.path)' is not a JSON object of strings: \(error)"])
        }
    }

    /// Writes `card` into `modelFolder` (sorted keys, so identical cards are identical files).
    public static func write(_ card: [String: String], modelFolder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(card).write(to: modelFolder.appendingPathComponent(fileName), options: .atomic)
    }
}

extension TrainingData {
    /// The camera each item was seen from, for training a camera-aware model (``UNet2D/readsCamera``),
    /// or `nil` when the data has no cameras (the default). Sources that know their views
    /// (the toys) implement ``cameras(_:)``.
    public func cameras(_ indices: [Int]) -> [CameraPose]? { nil }

    /// No description (the default).
    public var card: [String: String]? { nil }
}
