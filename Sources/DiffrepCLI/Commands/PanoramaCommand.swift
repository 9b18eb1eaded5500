import ArgumentParser
import Diffreps
import Foundation
import PNGIO
import RunSupport
import Sampling
import TensorCore

/// `diffrep panorama`: a seamless 360° cylindrical panorama, plus perspective views.
struct PanoramaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "panorama",
        abstract: "Sample a seamless 360° panorama (windows of the model's size at any yaw, wrapping the seam).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplerOptions
    @Option(help: "Panorama width in pixels (the height is the model's image size).")
    var width = 256
    @Option(help: "Number of perspective views written.")
    var perspectiveViews = 4
    @Option(help: "Output folder.")
    var out = "out/panorama"

    func validate() throws {
        guard width >= 8, perspectiveViews >= 0 else { throw ValidationError("--width must be ≥ 8 and --perspective-views ≥ 0") }
    }

    func run() throws {
        let outURL = try OutputFolder.prepare(out)
        let m = try model.load()
        let (c, h, w) = (m.imageShape[0], m.imageShape[1], m.imageShape[2])
        guard width >= w else { throw ValidationError("--width must be at least the model's image size \(w)") }
        var manifest = try m.manifest("panorama", seed: sampling.seed, settings: sampling.settings.merging(model.settings) { $1 }
            .merging(["width": .int(width)]) { $1 })
        let pano = PanoramaGrid(channels: c, height: h, width: width, windowWidth: w)
        let report = try sampling.run(pano, model: m, seed: sampling.seed, label: "panorama", views: 1)
        let pixels = pano.pixels.detached()
        try PNG.write(pixels, to: outURL.appendingPathComponent("panorama.png").path)
        // Two copies side by side: the seam in the middle shows whether it tiles.
        try PNG.write(Tensor.concat([pixels, pixels], axis: 2), to: outURL.appendingPathComponent("panorama_tiled.png").path)
        manifest.addOutput("panorama.png")
        manifest.addOutput("panorama_tiled.png")
        for k in 0..<perspectiveViews {
            let yaw = 2 * Float.pi * Float(k) / Float(perspectiveViews)
            let view = pano.perspectiveView(yaw: yaw, height: h * 2, width: h * 3)
            let file = String(format: "view_%02d.png", k)
            try PNG.write(view, to: outURL.appendingPathComponent(file).path)
            manifest.addOutput(file)
        }
        manifest.measurements["denoiser_seconds"] = report.denoiserSeconds
        manifest.measurements["solve_seconds"] = report.solveSeconds
        manifest.measurements["total_seconds"] = report.totalSeconds
        manifest.finish()
        try manifest.write(to: outURL.appendingPathComponent("manifest.json"))
        log(String(format: "wrote %@ (%.1f s: denoiser %.1f s, solve %.1f s)", outURL.appendingPathComponent("panorama.png").path,
                   report.totalSeconds, report.denoiserSeconds, report.solveSeconds))
    }
}
