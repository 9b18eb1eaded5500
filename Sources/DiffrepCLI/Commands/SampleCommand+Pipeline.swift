import ArgumentParser
import Diffusion
import Foundation
import PNGIO
import RunSupport
import TensorCore

extension SampleCommand {
    /// `diffrep sample --model <pipeline folder> --prompt …`: DDIM in latent space from seeded
    /// noise or `--initial-noise`, started as diffusers starts (`x = √(1+σ₀²)·z`), on the levels
    /// diffusers' DDIMScheduler takes, decoded by the VAE. With η = 0 and `--initial-noise` this is
    /// diffusers' `StableDiffusionPipeline(prompt, negative_prompt, latents=z, num_inference_steps,
    /// guidance_scale, eta=0)` (DDIMScheduler); with `--count 1` samples.png is that image.
    func run(_ p: LoadedPipeline, output: OutputRun) throws {
        if perClass || views != nil {
            throw ValidationError("--per-class and --views are for class- and camera-aware models, not a Stable Diffusion pipeline")
        }
        let sd = p.pipeline
        let noise = try initialNoise.map { try InitialNoiseFile.read($0, channels: sd.unet.config.inChannels, count: countOption) }
        let shape = noise?.shape ?? sd.latentShape(count: count)                       // [B, 4, h, w]
        try resources.check(p.memoryEstimate(latentShape: shape, count: shape[0]))
        let sigmas = try sd.ddimSigmas(steps: steps)
        var config = SamplerConfig(sigmas: sigmas, seed: seed)
        config.startsLikeDiffusers = true
        config.givenInitialNoise = noise?.data
        let latents = try sample(p.denoiser, shape: shape, config: config)
        let images = Tensor.concat((0..<shape[0]).map { b in                              // decoded one at a time: [B, 3, H, W]
            GradMode.withoutGrad { sd.decodeImage(latents.slice(axis: 0, b..<b + 1), sigma: sigmas.last!) }
        }, axis: 0)
        let file = try output.file("samples.png")
        try PNG.write(try ImageGrid.tile(images, columns: Int(Double(shape[0]).squareRoot().rounded(.up))), to: file.path)
        log("wrote \(file.path)")
    }
}
