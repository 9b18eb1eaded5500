import ArgumentParser
import Diffreps
import Diffusion
import Foundation
import JSON
import PNGIO
import RunSupport
import Sampling
import TensorCore

extension PanoramaCommand {
    /// `diffrep panorama --model <pipeline folder> --prompt …`: a ``LatentPanorama`` (a 360° strip
    /// of latents; the pullback sampler on it is MultiDiffusion in latent space) sampled toward the
    /// prompt, decoded by the pipeline's VAE with the width wrapping around, so the seam does not
    /// show. `--width` is in image pixels (a multiple of the VAE's factor).
    func run(_ p: LoadedPipeline, output: OutputRun) throws {
        guard representation == .grid else {
            throw ValidationError("with a Stable Diffusion pipeline, --representation grid (a strip of latents, decoded by the VAE) is the one implemented")
        }
        let sd = p.pipeline
        let f = sd.vae.downsamplingFactor
        let window = sd.latentShape(count: 1)                                             // [1, 4, h, w]
        let (c, h, w) = (window[1], window[2], window[3])
        guard width % f == 0 else {
            throw ValidationError("--width \(width): with this Stable Diffusion pipeline the width must be a multiple of the VAE's factor \(f)")
        }
        guard width / f >= w else {
            throw ValidationError("--width \(width) is out of range: allowed at least the model's image width \(w * f)")
        }
        try resources.check(p.memoryEstimate(latentShape: [1, c, h, width / f], count: 1))
        let sigmas = { try sd.ddimSigmas(steps: sampling.steps) }
        let finalSigma = sampling.sampler == .pullback ? try sigmas().last! : 0         // SDS/SJC end on clean latents
        let pano = LatentPanorama(channels: c, height: h, width: width / f, windowWidth: w)
        var manifest = try p.manifest("panorama", seed: sampling.seed, settings: sampling.settings.merging(model.settings(guidance: p.guidance)) { $1 }
            .merging(["width": .int(width), "representation": "latent-strip", "decode": "width wraps around"]) { $1 })
        manifest.settings.merge(sampling.stateSettings(for: pano)) { $1 }
        let report = try sampling.run(pano, denoiser: p.denoiser, sigmas: sigmas, classLabel: nil, seed: sampling.seed, label: "panorama")
        let picture = pano.decoded { sd.decodePanorama($0, sigma: finalSigma) }            // [3, H, width]
        try PNG.write(picture, to: try output.file("panorama.png").path)
        // Two copies side by side: the seam in the middle shows whether it tiles.
        try PNG.write(Tensor.concat([picture, picture], axis: 2), to: try output.file("panorama_tiled.png").path)
        manifest.addOutput("panorama.png")
        manifest.addOutput("panorama_tiled.png")
        let height = picture.shape[1]
        let display = PanoramaGrid(channels: 3, height: height, width: width, windowWidth: Swift.min(height, width))
        display.pixels.data = picture.data
        for k in 0..<perspectiveViews {
            let yaw = 2 * Float.pi * Float(k) / Float(perspectiveViews)
            let file = String(format: "view_%02d.png", k)
            try PNG.write(display.perspectiveView(yaw: yaw, height: height * 2, width: height * 3), to: try output.file(file).path)
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
