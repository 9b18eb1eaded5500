import ArgumentParser
import Diffreps
import Foundation
import PNGIO
import RunSupport
import Sampling
import TensorCore

/// `diffrep panorama`: a seamless 360° cylindrical panorama (pixel grid or neural field), plus
/// perspective views.
struct PanoramaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "panorama",
        abstract: "Sample a seamless 360° panorama (windows of the model's size at any yaw, wrapping the seam).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplerOptions
    @OptionGroup var resources: ResourceOptions
    @Option(help: "grid (pixels that wrap the seam; pullback = MultiDiffusion exactly) or field (a SIREN on the cylinder (cos φ, sin φ, y): seamless by construction, renders at any size).")
    var representation: Representation = .grid
    @Option(parsing: .unconditional, help: "Panorama width in pixels (the height is the model's image size).")
    var width = 256
    @Option(parsing: .unconditional, help: "Number of perspective views written.")
    var perspectiveViews = 4
    @Option(help: "Output folder.")
    var out = "out/panorama"

    enum Representation: String, ExpressibleByArgument, CaseIterable { case grid, field }

    func validate() throws {
        try OptionCheck.range("--width", width, OptionLimits.panoramaWidth)
        try OptionCheck.range("--perspective-views", perspectiveViews, OptionLimits.perspectiveViews)
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: true)
        defer { output.end() }
        if let pipeline = try model.loadPipeline() { return try run(pipeline, output: output) }
        let m = try model.load()
        let (c, h, w) = (m.imageShape[0], m.imageShape[1], m.imageShape[2])
        guard width >= w else { throw ValidationError("--width \(width) is out of range: allowed at least the model's image size \(w)") }
        try resources.check(memoryEstimate(m))
        var manifest = try m.manifest("panorama", seed: sampling.seed, settings: sampling.settings.merging(model.settings(guidance: m.guidance)) { $1 }
            .merging(["width": .int(width), "representation": .string(representation.rawValue)]) { $1 })
        let report: SamplingReport, pixels: Tensor, perspectiveView: (Float) -> Tensor
        switch representation {
        case .grid:
            let pano = PanoramaGrid(channels: c, height: h, width: width, windowWidth: w)
            manifest.settings.merge(sampling.stateSettings(for: pano)) { $1 }
            report = try sampling.run(pano, model: m, seed: sampling.seed, label: "panorama")
            pixels = pano.pixels.detached()
            perspectiveView = { pano.perspectiveView(yaw: $0, height: h * 2, width: h * 3) }
        case .field:
            let pano = PanoramaField(channels: c, height: h, width: width, windowWidth: w, seed: sampling.seed)
            manifest.settings.merge(sampling.stateSettings(for: pano)) { $1 }      // the denoised state with the panorama's noise
            report = try sampling.run(pano, model: m, seed: sampling.seed, label: "panorama")
            pixels = pano.panorama()
            perspectiveView = { pano.perspectiveView(yaw: $0, height: h * 2, width: h * 3) }
        }
        try writeOutputs(pixels, perspectiveView: perspectiveView, manifest: &manifest, report: report, output: output)
    }

    /// Writes the panorama `[C, H, W]`, two copies side by side (the seam in the middle shows
    /// whether it tiles), `--perspective-views` views from `perspectiveView(yaw)`, and the
    /// manifest with the run's timings, then commits the run's outputs.
    func writeOutputs(_ pixels: Tensor, perspectiveView: (Float) -> Tensor, manifest: inout RunManifest,
                      report: SamplingReport, output: OutputRun) throws {
        try PNG.write(pixels, to: try output.file("panorama.png").path)
        try PNG.write(Tensor.concat([pixels, pixels], axis: 2), to: try output.file("panorama_tiled.png").path)
        manifest.addOutput("panorama.png")
        manifest.addOutput("panorama_tiled.png")
        for k in 0..<perspectiveViews {
            let yaw = 2 * Float.pi * Float(k) / Float(perspectiveViews)
            let file = String(format: "view_%02d.png", k)
            try PNG.write(perspectiveView(yaw), to: try output.file(file).path)
            manifest.addOutput(file)
        }
        manifest.measurements["denoiser_seconds"] = report.denoiserSeconds
        manifest.measurements["solve_seconds"] = report.solveSeconds
        manifest.measurements["total_seconds"] = report.totalSeconds
        manifest.finish()
        try manifest.write(to: try output.file(OutputRun.manifestName))
        try output.commit(outputs: manifest.outputs)
        log(String(format: "wrote %@ (%.1f s: denoiser %.1f s, solve %.1f s)", output.folder.appendingPathComponent("panorama.png").path,
                   report.totalSeconds, report.denoiserSeconds, report.solveSeconds))
    }
}

extension PanoramaCommand {
    /// The panorama with its gradient and solver vectors, the windows denoised per step (enough
    /// to cover the panorama by default), for a field the SIREN's activations over every window
    /// (a forward pass kept for the backward one, plus its tangents), and the outputs (the
    /// panorama twice, side by side).
    func memoryEstimate(_ m: LoadedModel) -> MemoryEstimate {
        var e = MemoryEstimate()
        let (c, h, w) = (Double(m.imageShape[0]), Double(m.imageShape[1]), Double(m.imageShape[2]))
        let panorama = c * h * Double(width)
        e.add("panorama and solver state", floats: 8 * panorama)
        let windows = Double(sampling.viewsPerStep ?? Int((Double(width) / w).rounded(.up)))
        e.add("window renders", floats: 4 * windows * c * h * w)
        if representation == .field {
            e.add("field activations", floats: 3 * windows * h * w * (3 + 6 * 128 + 2 * c))
        }
        e.add("denoiser activations", floats: ResourceFigures.unetActivations(m.unet.config, batch: 2 * windows, training: false))
        e.add("outputs", floats: 3 * panorama + Double(perspectiveViews) * c * 6 * h * h)
        return e
    }
}
