import ArgumentParser
import Diffreps
import Evaluation
import Foundation
import PNGIO
import RunSupport
import Sampling
import TensorCore

/// `diffrep image`: images through an image diffrep (pixel grid, Fourier-feature field or SIREN).
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Sample images through an image diffrep (pixel grid or a neural field: Fourier features or SIREN).")

    enum Representation: String, ExpressibleByArgument, CaseIterable { case grid, field, siren }

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplerOptions
    @OptionGroup var resources: ResourceOptions
    @Option(help: "grid (pixels; pullback = DDIM exactly), field (MLP on random Fourier features) or siren (MLP with sine activations, the paper's image diffrep); the fields render at any size.")
    var representation: Representation = .grid
    @Option(parsing: .unconditional, help: "Number of images (seeds seed, seed+1, …).")
    var count = 4
    @Option(parsing: .unconditional, help: "Size of the field renders written (field and siren only).")
    var displaySize = 96
    @Option(help: "Output folder.")
    var out = "out/image"

    func validate() throws {
        try OptionCheck.range("--count", count, OptionLimits.sampleCount)
        try OptionCheck.range("--display-size", displaySize, OptionLimits.displaySize)
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: true)
        defer { output.end() }
        if let pipeline = try model.loadPipeline() { return try run(pipeline, output: output) }
        let m = try model.load()
        try resources.check(memoryEstimate(m))
        var manifest = try m.manifest("image", seed: sampling.seed, settings: sampling.settings.merging(model.settings(guidance: m.guidance)) { $1 }
            .merging(["representation": .string(representation.rawValue), "count": .int(count)]) { $1 })
        let (c, h, w) = (m.imageShape[0], m.imageShape[1], m.imageShape[2])
        var images: [Tensor] = [], shown: [Tensor] = []
        var denoiserSeconds = 0.0, solveSeconds = 0.0
        for k in 0..<count {
            let seed = sampling.seed &+ UInt64(k)
            let report: SamplingReport
            switch representation {
            case .grid:
                let image = PixelImage(channels: c, height: h, width: w)
                manifest.settings.merge(sampling.stateSettings(for: image)) { $1 }
                report = try sampling.run(image, model: m, seed: seed, label: "image \(k + 1)/\(count)")
                images.append(image.pixels.detached())
                shown.append(image.pixels.detached())
            case .field:
                let field = FourierFieldImage(channels: c, height: h, width: w, seed: seed)
                manifest.settings.merge(sampling.stateSettings(for: field)) { $1 }
                report = try sampling.run(field, model: m, seed: seed, label: "image \(k + 1)/\(count)")
                images.append(field.render([()]).reshaped([c, h, w]).detached())
                shown.append(field.render(height: displaySize, width: displaySize))
            case .siren:
                let siren = SirenImage(channels: c, height: h, width: w, seed: seed)
                manifest.settings.merge(sampling.stateSettings(for: siren)) { $1 }      // the denoised state: docs/DESIGN.md §2
                report = try sampling.run(siren, model: m, seed: seed, label: "image \(k + 1)/\(count)")
                images.append(siren.render([()]).reshaped([c, h, w]).detached())
                shown.append(siren.render(height: displaySize, width: displaySize))
            }
            denoiserSeconds += report.denoiserSeconds
            solveSeconds += report.solveSeconds
            let file = String(format: "image_%02d.png", k)
            try PNG.write(shown[k], to: try output.file(file).path)
            manifest.addOutput(file)
        }
        let distance = try writeGrid(images, manifest: &manifest, denoiserSeconds: denoiserSeconds,
                                     solveSeconds: solveSeconds, output: output)
        log("wrote \(count) images to \(output.folder.path) (mean pairwise RMS distance \(String(format: "%.3f", distance)))")
    }

    /// Writes `images.png` (the images `[C, H, W]` in a grid) and the manifest with the run's
    /// timings and the images' mean pairwise RMS distance, then commits the run's outputs;
    /// returns that distance.
    func writeGrid(_ images: [Tensor], manifest: inout RunManifest, denoiserSeconds: Double, solveSeconds: Double,
                   output: OutputRun) throws -> Double {
        let grid = Tensor.concat(images.map { $0.reshaped([1] + $0.shape) }, axis: 0)
        try PNG.write(try ImageGrid.tile(grid), to: try output.file("images.png").path)
        manifest.addOutput("images.png")
        let distance = FeatureDiversity.meanPairwiseRMS(images)
        manifest.measurements["denoiser_seconds"] = denoiserSeconds
        manifest.measurements["solve_seconds"] = solveSeconds
        manifest.measurements["pairwise_rms_distance"] = distance
        manifest.finish()
        try manifest.write(to: try output.file(OutputRun.manifestName))
        try output.commit(outputs: manifest.outputs)
        return distance
    }
}

extension ImageCommand {
    /// The images kept, the denoiser's batch and, for fields, the display renders (every pixel's
    /// Fourier features or coordinates and MLP activations at once).
    func memoryEstimate(_ m: LoadedModel) -> MemoryEstimate {
        var e = MemoryEstimate()
        let pixels = Double(m.imageShape.reduce(1, *)), display = Double(displaySize)
        e.add("images", floats: 2 * Double(count) * pixels)
        e.add("denoiser activations", floats: ResourceFigures.unetActivations(m.unet.config, batch: 2 * Double(sampling.viewsPerStep ?? 1), training: false))
        if representation == .field {
            e.add("field display renders", floats: Double(count) * display * display * (2 * 64 + 4 * 64 + 8))
        }
        if representation == .siren {
            e.add("SIREN display renders", floats: Double(count) * display * display * (2 + 6 * 64 + 8))
        }
        return e
    }
}
