import Foundation

/// The embedded default denoiser (DESIGN.md §5): a small class-conditional UNet2D trained on
/// the procedural toys, shipped as a diffusers-format folder in `Assets/toys-unet`.
///
/// ```swift
/// let unet = try UNet2D(contentsOf: DefaultModel.folder)
/// ```
public enum DefaultModel {
    /// The folder holding `config.json`, `diffusion_pytorch_model.safetensors` and
    /// `scheduler_config.json`.
    public static var folder: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-unet")
    }

    /// The embedded model for 3D work (`diffrep nerf`'s default): a **multi-view** model that
    /// denoises four views of one scene a quarter turn apart together (`QuarterTurnTiles`; each
    /// view told its own camera through view bins, the views joined in the attention layers),
    /// trained on toys in their canonical poses — so the views of a NeRF make their random
    /// choices jointly and the NeRF becomes a 3D object, not a shape that looks alike from
    /// everywhere (docs/DESIGN.md §2 "Multi-view models", §5).
    public static var nerfFolder: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-unet-mv")
    }

    /// The previous 3D default: the single-view camera-bins model it was fine-tuned from
    /// (`Assets/toys-unet-3d`), kept for comparison (`diffrep nerf --model …`).
    public static var singleViewNerfFolder: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-unet-3d")
    }

    /// The shipped toys classifier's weights (`Evaluation.ToyClassifier`; held-out accuracy in Assets/README.md).
    public static var classifierWeights: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-classifier/classifier.safetensors")
    }

    /// Class names, by label (the last label is the null class used for guidance).
    public static let classNames = ["sphere", "box", "cylinder", "cone", "torus", "capsule"]
}
