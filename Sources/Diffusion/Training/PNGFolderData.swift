import Foundation
import PNGIO
import TensorCore

/// Every PNG in a folder (sorted by name) as unlabelled ``TrainingData``: one square size of at
/// least 8 pixels, read as RGB in `[-1, 1]`. What `diffrep train --data FOLDER` trains on.
///
/// ```swift
/// let data = try PNGFolderData(folder: URL(fileURLWithPath: "photos"))
/// let trainer = DenoiserTrainer(unet: UNet2D(config: config, seed: 0), schedule: DDPMSchedule(), data: data, config: TrainingConfig())
/// data.side                                        // the images' size in pixels
/// ```
public struct PNGFolderData: TrainingData {
    /// The images, each `[3, side, side]`, in file-name order.
    public let images: [Tensor]
    public var count: Int? { images.count }
    public var numClasses: Int? { nil }
    /// The images' side in pixels.
    public var side: Int { images[0].shape[1] }

    /// Reads every `.png` in `folder`; throws ``PNGFolderError`` when the folder cannot serve as
    /// training data (and PNGIO's errors for unreadable files).
    public init(folder: URL) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
            throw PNGFolderError.missing(folder.path)
        }
        guard isFolder.boolValue else { throw PNGFolderError.notAFolder(folder.path) }
        let all: [String]
        do { all = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw PNGFolderError.unreadable(folder.path)
        }
        let names = all.filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !names.isEmpty else { throw PNGFolderError.noImages(folder.path) }
        images = try names.map { try PNG.readTensor(folder.appendingPathComponent($0).path, channels: 3) }
        guard images.allSatisfy({ $0.shape == images[0].shape }) else { throw PNGFolderError.mixedSizes(folder.path) }
        let (h, w) = (images[0].shape[1], images[0].shape[2])
        guard h == w, h >= 8 else { throw PNGFolderError.notSquare(folder.path, width: w, height: h) }
    }

    /// Images `[B, 3, side, side]`, no labels.
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        (Tensor.concat(indices.map { images[$0].reshaped([1] + images[$0].shape) }, axis: 0), nil)
    }
}

/// A folder that cannot serve as ``PNGFolderData``; the description names the folder and what is wrong.
public enum PNGFolderError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case notAFolder(String)
    case unreadable(String)
    case noImages(String)
    case mixedSizes(String)
    case notSquare(String, width: Int, height: Int)

    public var description: String {
        switch self {
        case let .missing(f): return "the data folder '\(f)' does not exist"
        case let .notAFolder(f): return "the data path '\(f)' is a file, not a folder of PNGs"
        case let .unreadable(f): return "cannot list the data folder '\(f)' (is it readable?)"
        case let .noImages(f): return "no PNG files in '\(f)'"
        case let .mixedSizes(f): return "the PNGs in '\(f)' differ in size; all must match"
        case let .notSquare(f, w, h): return "the PNGs in '\(f)' are \(w)×\(h); the model takes square images of at least 8×8"
        }
    }
}
