import ArgumentParser
import Diffreps
import Evaluation
import Foundation
import PNGIO
import RunSupport
import Sampling
import TensorCore

/// `diffrep image`: images through an image diffrep (pixel grid or Fourier-feature field).
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Sample images through an image diffrep (pixel grid or neural field).")

    enum Representation: String, ExpressibleByArgument, CaseIterable { case grid, field }

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplerOptions
    @Option(help: "grid (pixels; pullback = DDIM exactly) or field (Fourier-feature MLP, renders at any size).")
    var representation: Representation = .grid
    @Option(help: "Number of images (seeds seed, seed+1, …).")
    var count = 4
    @Option(help: "Size of the field renders written (field only).")
    var displaySize = 96
    @Option(help: "Output folder.")
    var out = "out/image"

    func validate() throws {
        guard count >= 1, displaySize >= 8 else { throw ValidationError("--count must be ≥ 1 and --display-size ≥ 8") }
    }

    func run() throws {
        let outURL = try OutputFolder.prepare(out)
        let m = try model.load()
        var manifest = try m.manifest("image", seed: sampling.seed, settings: sampling.settings.merging(model.settings) { $1 }
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
                report = try sampling.run(image, model: m, seed: seed, label: "image \(k + 1)/\(count)", views: 1)
                images.append(image.pixels.detached())
                shown.append(image.pixels.detached())
            case .field:
                let field = FourierFieldImage(channels: c, height: h, width: w, seed: seed)
                report = try sampling.run(field, model: m, seed: seed, label: "image \(k + 1)/\(count)", views: 1)
                images.append(field.render([()]).reshaped([c, h, w]).detached())
                shown.append(field.render(height: displaySize, width: displaySize))
            }
            denoiserSeconds += report.denoiserSeconds
            solveSeconds += report.solveSeconds
            let file = String(format: "image_%02d.png", k)
            try PNG.write(shown[k], to: outURL.appendingPathComponent(file).path)
            manifest.addOutput(file)
        }
        let grid = Tensor.concat(images.map { $0.reshaped([1, c, h, w]) }, axis: 0)
        try PNG.write(try ImageGrid.tile(grid), to: outURL.appendingPathComponent("images.png").path)
        manifest.addOutput("images.png")
        manifest.measurements["denoiser_seconds"] = denoiserSeconds
        manifest.measurements["solve_seconds"] = solveSeconds
        manifest.measurements["pairwise_rms_distance"] = FeatureDiversity.meanPairwiseRMS(images)
        manifest.finish()
        try manifest.write(to: outURL.appendingPathComponent("manifest.json"))
        log("wrote \(count) images to \(outURL.path) (mean pairwise RMS distance \(String(format: "%.3f", FeatureDiversity.meanPairwiseRMS(images))))")
    }
}

/// Sample diversity: the mean RMS pixel distance over all pairs.
