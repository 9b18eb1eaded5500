import Foundation
import SafeTensors
import TensorCore

/// Reads a model folder's safetensors weights file, the one step every diffusers/transformers
/// loader here shares (`UNet2D`, `UNet2DCondition`, `AutoencoderKL`, `CLIPTextModel`).
enum WeightsFile {
    /// The named tensors of `folder/name` and the file's path (for error messages); a missing
    /// file is ``UNetLoadError/missingWeights(_:)``.
    ///
    /// ```swift
    /// let (weights, path) = try WeightsFile.read("diffusion_pytorch_model.safetensors", in: folder)
    /// ```
    static func read(_ name: String, in folder: URL) throws -> (weights: [(name: String, tensor: Tensor)], path: String) {
        let file = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: file.path) else { throw UNetLoadError.missingWeights(file.path) }
        return (try SafeTensors.load(contentsOf: file), file.path)
    }
}
