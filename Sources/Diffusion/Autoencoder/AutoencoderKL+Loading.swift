import Foundation
import SafeTensors
import TensorCore

// Loading and saving diffusers `vae/` folders, as ``UNet2DCondition`` does for `unet/`.

extension AutoencoderKL {
    /// The weights file diffusers writes.
    public static let weightsFileName = UNet2D.weightsFileName

    /// Loads a diffusers-format folder (`config.json` + `diffusion_pytorch_model.safetensors`,
    /// F32, F16 or BF16; one file or shards; a `variant` such as `"fp16"`, as for
    /// ``UNet2DCondition/init(contentsOf:variant:)``). Errors name the file and the key or tensor.
    ///
    /// ```swift
    /// let vae = try AutoencoderKL(contentsOf: URL(fileURLWithPath: "sd15/vae"))
    /// ```
    public convenience init(contentsOf folder: URL, variant: String? = nil) throws {
        let config = try AutoencoderKLConfig(contentsOf: folder.appendingPathComponent("config.json"))
        self.init(config: config, builder: .placeholders())
        let (weights, path) = try WeightsFile.read(Self.weightsFileName, in: folder, variant: variant)
        try load(weights: weights, source: path)
    }

    /// Copies named tensors into the parameters; every parameter must be present with its shape
    /// and no tensor may be left over. The mid-block attention's names from diffusers before 0.14
    /// (`query`, `key`, `value`, `proj_attn`, still in the released SD 1.x `vae/` files) are read
    /// as today's `to_q`, `to_k`, `to_v`, `to_out.0`.
    public func load(weights: [(name: String, tensor: Tensor)], source: String = "weights") throws {
        try copyWeights(weights, into: parameters, source: source, rename: currentAttentionName)
    }
}
