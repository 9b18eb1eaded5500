import ArgumentParser
import Diffreps
import Diffusion
import Foundation
import JSON
import PNGIO
import RunSupport
import Sampling
import TensorCore

extension NerfCommand {
    /// `diffrep nerf --model <pipeline folder> --prompt …`: a latent NeRF (``NeRFDiffrep/latent(field:imageSize:background:colorScale:renderer:)``:
    /// colour with the pipeline's latent channels, rendered at the latent resolution, over the
    /// latents of a white image) sampled toward the prompt by pullback, SDS or SJC; the turntable
    /// frames are each view's latents decoded by the VAE (so `--display-size` does not apply: a
    /// frame is the model's image size). Writes the frames, an animated turntable, the checkpoint
    /// and a manifest with the prompt and guidance.
    func run(_ p: LoadedPipeline, output: OutputRun) throws {
        if resume || stopAfter != nil || mesh != nil || initial != .empty {
            throw ValidationError("with a Stable Diffusion pipeline, --resume, --stop-after, --mesh and --initial blobs are not implemented yet")
        }
        if (noise ?? .carried) != .carried || azimuthSteps != nil || cameraFromSigma != nil || singleGroupAboveSigma != nil {
            throw ValidationError("with a Stable Diffusion pipeline, the views' noise is the carried image (--noise carried): --noise \(noise?.rawValue ?? "carried"), --azimuth-steps, --camera-from-sigma and --single-group-above-sigma are for the toys' camera-aware models")
        }
        let sd = p.pipeline
        let shape = sd.latentShape(count: 1)                                              // [1, 4, h, w]
        guard shape[2] == shape[3] else {
            throw ValidationError("this pipeline's UNet takes \(shape[2])×\(shape[3]) latents; a NeRF's views are square")
        }
        let viewsPerStep = requestedViewsPerStep(multiView: false)
        try resources.check(p.memoryEstimate(latentShape: shape, count: viewsPerStep))
        var manifest = try p.manifest("nerf", seed: sampling.seed, settings: settings(multiView: false, guidance: p.guidance).merging([
            "representation": "latent-nerf", "grid_render": .string(gridRender.rawValue),
            "color_scale": JSONValue(NeRFDiffrep.latentColorScale)]) { $1 })
        let nerf = NeRFDiffrep.latent(field: field.make(resolution: gridResolution, seed: sampling.seed, channels: shape[1],
                                                        hashWidth: hashMLPWidth, hashFinest: hashFinestLevel),
                                      imageSize: shape[2], background: Self.whiteLatents(sd, size: shape[2]),
                                      renderer: NeRFRenderer(samplesPerRay: samplesPerRay, voxelGridPath: gridRender.path))
        nerf.smoothness = smoothness
        nerf.sparsity = sparsity
        let sigmas = { try sd.ddimSigmas(steps: sampling.steps) }

        let report: SamplingReport
        switch sampling.sampler {
        case .pullback:
            var config = PullbackSampler.Configuration(
                sigmas: try sigmas(), viewsPerStep: viewsPerStep, eta: sampling.eta, resample: sampling.resample,
                solver: sampling.solver.map { $0 == .cg ? .conjugateGradient(iterations: cgIterations) : .adam() },
                seed: sampling.seed, classLabel: nil, state: state)
            config.noiseCorrelation = noiseCorrelation(multiView: false)
            config.carriedAboveSigma = carriedAboveSigma
            let levels = config.sigmas
            config.startStep = startSigma.map { s in Swift.min(levels.firstIndex { $0 <= s } ?? 0, levels.count - 2) } ?? 0
            let bar = ProgressBar("nerf", total: sampling.steps)
            defer { bar.finish() }
            report = try PullbackSampler(denoiser: p.denoiser, configuration: config).sample(nerf) { q in
                bar.update(step: q.step, extra: ["σ": Double(q.sigma)])
                return true
            }
        case .sds, .sjc:
            report = try sampling.run(nerf, denoiser: p.denoiser, sigmas: sigmas, classLabel: nil, seed: sampling.seed,
                                      label: "nerf", views: viewsPerStep)
        }
        // The noisy state holds latents at the last level; the denoised state, SDS and SJC clean ones.
        let finalSigma = sampling.sampler == .pullback && state == .noisy ? try sigmas().last! : 0
        try NeRFCheckpoint.save(nerf, step: sampling.sampler == .pullback ? sampling.steps : sampling.iterations,
                                settings: checkpointSettings(modelFiles: manifest.modelFiles, multiView: false, guidance: p.guidance),
                                to: output.folder.appendingPathComponent("nerf.safetensors"))
        manifest.addOutput("nerf.safetensors")

        var frameImages: [PNGImage] = []
        for (k, view) in nerf.turntable(frames: frames).enumerated() {
            let picture = nerf.decodedView(view) { sd.decodeImage($0, sigma: finalSigma) }        // [3, H, H]
            let image = try PNGImage(tensor: picture)
            frameImages.append(image)
            try PNG.write(image, to: try output.file(String(format: "turntable/frame_%03d.png", k)).path)
        }
        try APNG.write(frames: frameImages, delayMs: 80, to: try output.file("turntable.png").path)
        manifest.addOutput("turntable.png")
        manifest.addOutput("turntable/")
        manifest.measurements["denoiser_seconds"] = report.denoiserSeconds
        manifest.measurements["solve_seconds"] = report.solveSeconds
        manifest.measurements["sampling_seconds"] = report.totalSeconds
        manifest.finish()
        try manifest.write(to: try output.file(OutputRun.manifestName))
        try output.commit(outputs: manifest.outputs)
        log(String(format: "wrote %@ (sampling %.0f s: denoiser %.0f s, solve %.0f s)", output.folder.path,
                   report.totalSeconds, report.denoiserSeconds, report.solveSeconds))
    }

    /// The latents `[C]` of a white image (the encoder's mean, scaled, averaged over positions):
    /// the latent NeRF's background, so empty space decodes to about white as the toys' does.
    static func whiteLatents(_ sd: StableDiffusionPipeline, size: Int) -> [Float] {
        let f = sd.vae.downsamplingFactor
        let white = Tensor([1, 3, size * f, size * f], data: [Float](repeating: 1, count: 3 * size * size * f * f))
        let z = GradMode.withoutGrad { sd.vae.scaledLatents(sd.vae.encode(white).mean) }   // [1, C, size, size]
        let c = z.shape[1], n = size * size
        return (0..<c).map { ch in z.data[ch * n..<(ch + 1) * n].reduce(0, +) / Float(n) }
    }
}
