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

    /// The shipped toys classifier's weights (`Evaluation.ToyClassifier`; held-out accuracy in Assets/README.md).
    public static var classifierWeights: URL {
        Bundle.module.resourceURL!.appendingPathComponent("toys-classifier/classifier.safetensors")
    }

    /// Class names, by label (the last label is the null class used for guidance).
    public static let classNames = ["sphere", "box", "cylinder", "cone", "torus", "capsule"]
}
