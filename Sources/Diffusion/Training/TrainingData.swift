import Foundation
import JSON
import SafeTensors
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
    /// Throws ``TrainingDataCardError`` when the file cannot be read or is not a JSON object of
    /// strings (each key once).
    public static func read(modelFolder: URL) throws -> [String: String]? {
        let url = modelFolder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingDataCardError.unreadable(path: url.path, reason: FileReadFailure.reason(url, error))
        }
        func invalid(_ why: String) -> TrainingDataCardError { .notAnObjectOfStrings(path: url.path, reason: why) }
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch { throw invalid(error.message) }
        guard case .object(let members) = value else { throw invalid("it is \(value.kind)") }
        var card: [String: String] = [:]
        for (key, v) in members {
            guard case .string(let text) = v else { throw invalid("'\(key)' is \(v.kind)") }
            guard card.updateValue(text, forKey: key) == nil else { throw invalid("'\(key)' appears twice") }
        }
        return card
    }

    /// Writes `card` into `modelFolder` (sorted keys, so identical cards are identical files).
    public static func write(_ card: [String: String], modelFolder: URL) throws {
        try JSONValue(object: card.mapValues(JSONValue.string)).encoded([.prettyPrinted, .sortedKeys])
            .write(to: modelFolder.appendingPathComponent(fileName), options: .atomic)
    }
}

/// Why a model's `training_data.json` could not be read.
///
/// ```swift
/// do { _ = try TrainingDataCard.read(modelFolder: url) }
/// catch let e as TrainingDataCardError { print(e) }   // "'m/training_data.json' is not a JSON object of strings: 'size' is a number"
/// ```
public enum TrainingDataCardError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be read: path, reason.
    case unreadable(path: String, reason: String)
    /// The file is not a JSON object of strings: path, what is wrong.
    case notAnObjectOfStrings(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, why): return "cannot read '\(path)': \(why)"
        case let .notAnObjectOfStrings(path, why): return "'\(path)' is not a JSON object of strings: \(why)"
        }
    }

    public var errorDescription: String? { description }
}

extension TrainingData {
    /// The camera each item was seen from, for training a camera-aware model (``UNet2D/readsCamera``),
    /// or `nil` when the data has no cameras (the default). Sources that know their views
    /// (the toys) implement ``cameras(_:)``.
    public func cameras(_ indices: [Int]) -> [CameraPose]? { nil }

    /// No description (the default).
    public var card: [String: String]? { nil }
}
