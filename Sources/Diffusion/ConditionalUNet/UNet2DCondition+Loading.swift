import Foundation
import SafeTensors
import TensorCore

// Loading and saving diffusers `unet/` folders, as ``UNet2D`` does for `UNet2DModel`.

extension UNet2DCondition {
    /// The weights file diffusers writes.
    public static let weightsFileName = UNet2D.weightsFileName

    /// Loads a diffusers-format folder (`config.json` + `diffusion_pytorch_model.safetensors`,
    /// F32, F16 or BF16; one file, or shards with a `.safetensors.index.json`; `variant` picks
    /// `diffusion_pytorch_model.<variant>.safetensors`, and a folder with only one variant uses it).
    ///
    /// ```swift
    /// let unet = try UNet2DCondition(contentsOf: URL(fileURLWithPath: "sd15/unet"))
    /// let half = try UNet2DCondition(contentsOf: URL(fileURLWithPath: "sd21/unet"), variant: "fp16")
    /// ```
    public convenience init(contentsOf folder: URL, variant: String? = nil) throws {
        let config = try UNet2DConditionConfig(contentsOf: folder.appendingPathComponent("config.json"))
        self.init(config: config, builder: .placeholders())
        let (weights, path) = try WeightsFile.read(Self.weightsFileName, in: folder, variant: variant)
        try load(weights: weights, source: path)
    }

    /// Copies named tensors into the parameters; every parameter must be present with its shape
    /// (a 1×1 convolution and a linear layer are interchangeable), and no tensor may be left over.
    public func load(weights: [(name: String, tensor: Tensor)], source: String = "weights") throws {
        try copyWeights(weights, into: parameters, source: source)
    }

    /// Writes `config.json` and the safetensors weights into `folder` (created if missing).
    public func save(to folder: URL) throws {
        try WeightsFile.write(config: config.configJSON(), parameters: parameters, as: Self.weightsFileName, in: folder)
    }
}
