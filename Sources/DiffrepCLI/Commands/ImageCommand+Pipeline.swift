import ArgumentParser
import Diffreps
import Diffusion
import Evaluation
import Foundation
import JSON
import PNGIO
import RunSupport
import Sampling
import TensorCore

extension ImageCommand {
    /// `diffrep image --model <pipeline folder> --prompt …`: each image a ``LatentImage`` (a grid
    /// of latents; the pullback sampler on it is DDIM in latent space) sampled toward the prompt,
    /// decoded by the pipeline's VAE for the PNGs.
    func run(_ p: LoadedPipeline, output: OutputRun) throws {
        guard representation == .grid else {
            throw ValidationError("with a Stable Diffusion pipeline, --representation grid (a grid of latents, decoded by the VAE) is the one implemented")
        }
        let sd = p.pipeline
        let shape = sd.latentShape(count: 1)                                              // [1, 4, h, w]
        try resources.check(p.memoryEstimate(latentShape: shape, count: 1))
        let sigmas = { try sd.ddimSigmas(steps: sampling.steps) }
        let finalSigma = sampling.sampler == .pullback ? try sigmas().last! : 0         // SDS/SJC end on clean latents
        var manifest = try p.manifest("image", seed: sampling.seed, settings: sampling.settings.merging(model.settings(guidance: p.guidance)) { $1 }
            .merging(["representation": "latent-grid", "count": .int(count)]) { $1 })
        var images: [Tensor] = []
        var denoiserSeconds = 0.0, solveSeconds = 0.0
        for k in 0..<count {
            let latent = LatentImage(channels: shape[1], height: shape[2], width: shape[3])
            manifest.settings.merge(sampling.stateSettings(for: latent)) { $1 }
            let report = try sampling.run(latent, denoiser: p.denoiser, sigmas: sigmas, classLabel: nil,
                                          seed: sampling.seed &+ UInt64(k), label: "image \(k + 1)/\(count)")
            denoiserSeconds += report.denoiserSeconds
            solveSeconds += report.solveSeconds
            images.append(latent.decoded { sd.decodeImage($0, sigma: finalSigma) })       // [3, H, W]
            let file = String(format: "image_%02d.png", k)
            try PNG.write(images[k], to: try output.file(file).path)
            manifest.addOutput(file)
        }
        _ = try writeGrid(images, manifest: &manifest, denoiserSeconds: denoiserSeconds, solveSeconds: solveSeconds, output: output)
        log("wrote \(count) images to \(output.folder.path)")
    }
}
