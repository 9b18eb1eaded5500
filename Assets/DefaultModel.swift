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

    /// The embedded model for 3D work (`diffrep nerf`'s default): camera-aware through view bins
    /// folded into the class label (`CameraBins`), trained on toys in their canonical poses, so
    /// that what it draws depends on where the camera is — the NeRF sampler needs that to make a
    /// 3D object rather than a shape that looks alike from everywhere (docs/DESIGN.md §5).
    public static var nerfFolder: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-unet-3d")
    }

    /// The shipped toys classifier's weights (`Evaluation.ToyClassifier`; held-out accuracy in Assets/README.md).
    public static var classifierWeights: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-classifier/classifier.safetensors")
    }

    /// Class names, by label (the last label is the null class used for guidance).
    public static let classNames = ["sphere", "box", "cylinder", "cone", "torus", "capsule"]
}
