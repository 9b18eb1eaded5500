import Foundation
import Diffusion
import PNGIO
import TensorCore

/// A folder of labelled PNGs as ``Diffusion/TrainingData``: `labels.csv` with a header and the
/// columns `file,label[,…]` (what `diffrep dataset` writes), every image of one size.
///
/// ```swift
/// let data = try LabelledPNGFolder(folder: URL(fileURLWithPath: "out/toys"))
/// let (images, labels) = data.batch([0, 1])        // [2, 3, H, W], labels
/// ```
public struct LabelledPNGFolder: TrainingData {
    /// The images `[3, H, W]` in `[-1, 1]`, in `labels.csv` order.
    public let images: [Tensor]
    /// Their labels.
    public let labels: [Int]
    /// `max(label) + 1`.
    public var classCount: Int { (labels.max() ?? 0) + 1 }

    public var count: Int? { images.count }
    public var numClasses: Int? { classCount }

    public init(folder: URL) throws {
        let csvURL = folder.appendingPathComponent("labels.csv")
        guard let text = try? String(contentsOf: csvURL, encoding: .utf8) else {
            throw LabelledFolderError.missingLabels(csvURL.path)
        }
        var images: [Tensor] = [], labels: [Int] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated().dropFirst() {
            let cols = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cols.count >= 2, let label = Int(cols[1]), label >= 0 else {
                throw LabelledFolderError.badLine(csvURL.path, n + 1, String(line))
            }
            let image = try PNG.readTensor(folder.appendingPathComponent(cols[0]).path, channels: 3)
            guard images.isEmpty || image.shape == images[0].shape else {
                throw LabelledFolderError.sizeMismatch(cols[0], image.shape, images[0].shape)
            }
            images.append(image)
            labels.append(label)
        }
        guard !images.isEmpty else { throw LabelledFolderError.empty(csvURL.path) }
        self.images = images
        self.labels = labels
    }

    init(images: [Tensor], labels: [Int]) {
        self.images = images
        self.labels = labels
    }

    /// The items in `range` as a data set of their own.
    public func subset(_ range: Range<Int>) -> LabelledPNGFolder {
        LabelledPNGFolder(images: Array(images[range]), labels: Array(labels[range]))
    }

    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        (Tensor.concat(indices.map { images[$0].reshaped([1] + images[$0].shape) }, axis: 0), indices.map { labels[$0] })
    }
}

/// A labelled folder that cannot be read.
public enum LabelledFolderError: Error, CustomStringConvertible {
    case missingLabels(String)
    case badLine(String, Int, String)
    case sizeMismatch(String, [Int], [Int])
    case empty(String)

    public var description: String {
        switch self {
        case let .missingLabels(f): return "no readable labels file at '\(f)' (expected a CSV with columns file,label)"
        case let .badLine(f, n, line): return "'\(f)' line \(n): expected 'file,label' with a label ≥ 0, got '\(line)'"
        case let .sizeMismatch(file, a, b): return "'\(file)' is \(a), the other images are \(b); all must match"
        case let .empty(f): return "'\(f)' lists no images"
        }
    }
}
