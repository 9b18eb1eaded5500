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
        let height = picture.shape[1]
        let display = PanoramaGrid(channels: 3, height: height, width: width, windowWidth: Swift.min(height, width))
        display.pixels.data = picture.data
        try writeOutputs(picture, perspectiveView: { display.perspectiveView(yaw: $0, height: height * 2, width: height * 3) },
                         manifest: &manifest, report: report, output: output)
    }
}
