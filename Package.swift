// swift-tools-version:6.0
import PackageDescription

/// Diffreps: sample differentiable representations (images, panoramas, NeRFs)
/// with a pretrained image diffusion model. See README.md and docs/DESIGN.md §2 for the layers:
/// JSON (the one JSON value type; Foundation only); TensorCore;
/// TensorCore + JSON ← SafeTensors; TensorCore ← PNGIO;
/// TensorCore + JSON + SafeTensors + PNGIO + Tokenizers ← Diffusion; TensorCore + JSON + SafeTensors ← Diffreps;
/// Diffreps + Diffusion ← Toys, Sampling; Diffusion + Diffreps + Toys + PNGIO + SafeTensors ← Evaluation;
/// TensorCore + PNGIO + JSON ← RunSupport;
/// TensorCore ← TestSupport (Tests/TestSupport: assertions the test targets share);
/// Tokenizers (CLIP's tokenizer; Foundation only, no other module);
/// DefaultModel (Assets/: the embedded model and classifier); all of them ← diffrep (CLI).
let package = Package(
    name: "Diffreps",
    products: [
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "PNGIO", targets: ["PNGIO"]),
        .library(name: "Diffusion", targets: ["Diffusion"]),
        .library(name: "Diffreps", targets: ["Diffreps"]),
        .library(name: "Sampling", targets: ["Sampling"]),
        .library(name: "Toys", targets: ["Toys"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "DefaultModel", targets: ["DefaultModel"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .executable(name: "diffrep", targets: ["DiffrepCLI"]),
        .executable(name: "diffrep-bench", targets: ["DiffrepBench"]),
        .executable(name: "seed-sweep", targets: ["SeedSweep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // System libraries (installed by .ci/run: libopenblas-dev libpng-dev pkg-config).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng"),

        // The one JSON value: a strict reader for configs and safetensors headers, Codable for manifests.
        .target(name: "JSON"),
        // Autodiff tensors on OpenBLAS: the module everything else runs on.
        .target(
            name: "TensorCore",
            dependencies: ["COpenBLAS", .product(name: "Numerics", package: "swift-numerics")]),
        // PNG read/write through libpng's simplified API.
        .target(name: "PNGIO", dependencies: ["CPNG", "TensorCore"]),
        // Safetensors files and parameter checkpoints: weights for Diffusion, NeRF checkpoints for Diffreps.
        .target(name: "SafeTensors", dependencies: ["TensorCore", "JSON"]),
        // Denoisers, noise schedules, samplers, UNet2D, Stable Diffusion's UNet2DCondition, CLIPTextModel, AutoencoderKL and pipeline folders (Tokenizers: the prompt), training (PNGIO: PNG folders as training data; COpenBLAS: LAPACK for SymmetricEigen).
        .target(name: "Diffusion", dependencies: ["TensorCore", "JSON", "SafeTensors", "PNGIO", "Tokenizers", "COpenBLAS"]),
        // The embedded default model (Assets/toys-unet) and toys classifier (Assets/toys-classifier), found at run time through Bundle.module.
        .target(name: "DefaultModel", path: "Assets", exclude: ["README.md"], resources: [.copy("toys-unet"), .copy("toys-unet-3d"), .copy("toys-unet-mv"), .copy("toys-classifier")]),
        // Differentiable representations: image grids and fields, panoramas, NeRFs (and their checkpoints).
        .target(name: "Diffreps", dependencies: ["TensorCore", "JSON", "SafeTensors"]),
        // The pullback sampler and the SDS / SJC baselines.
        .target(name: "Sampling", dependencies: ["TensorCore", "Diffusion", "Diffreps"]),
        // The procedural toys data set the default model trains on (docs/DESIGN.md §5).
        .target(name: "Toys", dependencies: ["TensorCore", "Diffreps", "Diffusion"]),
        // Judging samples against real toys: a toys classifier, KID, diversity, turntable 3D consistency.
        .target(name: "Evaluation", dependencies: ["TensorCore", "PNGIO", "SafeTensors", "Diffusion", "Diffreps", "Toys"]),
        // CLIP's byte-level BPE tokenizer for Stable Diffusion text prompts (Foundation only).
        .target(name: "Tokenizers"),
        // What every `diffrep` subcommand needs: progress bar, run manifest, output folder, plots, CSV logs.
        .target(name: "RunSupport", dependencies: ["TensorCore", "PNGIO", "JSON"]),

        .executableTarget(
            name: "DiffrepCLI",
            dependencies: ["JSON", "TensorCore", "PNGIO", "Diffusion", "Diffreps", "Sampling", "RunSupport", "DefaultModel", "Toys", "Evaluation",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // An example research script on the public API only (CI builds it).
        .executableTarget(name: "SeedSweep", dependencies: ["TensorCore", "PNGIO", "Diffusion", "Diffreps", "Sampling", "DefaultModel"],
                          path: "Examples/SeedSweep"),
        .executableTarget(name: "DiffrepBench", dependencies: ["TensorCore", "Diffusion", "Diffreps", "Sampling", "RunSupport", "COpenBLAS"]),

        // What the test targets share: assertClose, checkDerivatives, randomParameter.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TensorCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "PNGIOTests", dependencies: ["PNGIO", "TensorCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RunSupportTests", dependencies: ["RunSupport", "PNGIO", "JSON", "TensorCore"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "SafeTensors", "TensorCore", "DefaultModel", "Toys", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling", "Diffreps", "Diffusion", "TensorCore"]),
        .testTarget(name: "DiffrepCLITests", dependencies: ["DiffrepCLI", "RunSupport", "Diffusion", "SafeTensors", "PNGIO", "TensorCore", "DefaultModel"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Toys", "Diffreps", "Diffusion", "SafeTensors", "TensorCore", "DefaultModel"]),
        .testTarget(name: "ToysTests", dependencies: ["Toys", "Diffreps", "Diffusion", "TensorCore"]),
        .testTarget(name: "DiffrepsTests", dependencies: ["Diffreps", "JSON", "SafeTensors", "TensorCore", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], resources: [.copy("Fixtures")]),
    ]
)
