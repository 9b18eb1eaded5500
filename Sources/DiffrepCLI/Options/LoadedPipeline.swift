import ArgumentParser
import Diffusion
import Foundation
import JSON
import RunSupport
import SafeTensors
import TensorCore

/// A Stable Diffusion pipeline ready to sample a prompt with (`--model` a pipeline folder):
/// the prompt and negative prompt encoded once, guidance `--guidance` (default 7.5, diffusers').
struct LoadedPipeline {
    let folder: URL
    let pipeline: StableDiffusionPipeline
    /// The classifier-free guidance weight of ``denoiser``.
    let guidance: Float
    /// Latents `[B, 4, h, w]` → their denoised estimate, guided toward the prompt.
    let denoiser: any Denoiser

    /// A manifest for a run with this pipeline: settings plus the folder's path and file digests.
    func manifest(_ subcommand: String, seed: UInt64, settings: [String: JSONValue]) throws -> RunManifest {
        var manifest = RunManifest(subcommand: subcommand, version: DiffrepVersion.string, seed: seed, settings: settings)
        try manifest.recordModel(at: folder.path)
        return manifest
    }

    /// A rough peak for sampling `count` images of `latentShape` `[…, 4, h, w]` and decoding them:
    /// the weights, the guided UNet batch's activations, the decoder's activations at full size.
    func memoryEstimate(latentShape: [Int], count: Int) -> MemoryEstimate {
        var e = MemoryEstimate()
        let (h, w) = (Double(latentShape[2]), Double(latentShape[3]))
        let f = Double(pipeline.vae.downsamplingFactor)
        let weights = [pipeline.unet.parameters, pipeline.vae.parameters, pipeline.textEncoder.parameters].map { Double($0.scalarCount) }.reduce(0, +)
        e.add("pipeline weights", floats: weights)
        // off the tape: about 12 feature maps per level alive at once (skips, resnet and attention
        // temporaries), level l at (h/2^l)·(w/2^l); two items per image (guidance)
        let levels = pipeline.unet.config.blockOutChannels.enumerated().map { l, c in Double(c) * h * w / Double(1 << (2 * l)) }
        e.add("UNet activations", floats: 2 * Double(count) * 12 * levels.reduce(0, +))
        // one image at a time: the widest full-size feature maps and a 3×3 im2col buffer of them
        let vaeWidth = Double(pipeline.vae.config.blockOutChannels.first ?? 0)
        e.add("VAE decoder activations", floats: (4 + 9) * vaeWidth * h * w * f * f)
        e.add("latents and images", floats: Double(count) * (8 * 4 + 6 * f * f) * h * w)
        return e
    }
}

extension ModelOptions {
    /// The pipeline `--model` names, or nil when it is not a pipeline folder (then `--prompt`
    /// and `--negative-prompt` are refused by ``load(defaultFolder:views:)``). `--class` has no
    /// meaning for a text model.
    func loadPipeline() throws -> LoadedPipeline? {
        guard isPipeline, let model else { return nil }
        if classLabel != nil { throw ValidationError("--class is for class-conditional models; a Stable Diffusion pipeline takes --prompt") }
        let folder = URL(fileURLWithPath: model)
        let pipeline = try StableDiffusionPipeline(contentsOf: folder)
        let guidance = self.guidance ?? Self.pipelineGuidance
        let denoiser = pipeline.denoiser(prompt: prompt ?? "", negativePrompt: negativePrompt, guidance: guidance)
        return LoadedPipeline(folder: folder, pipeline: pipeline, guidance: guidance, denoiser: denoiser)
    }
}

/// `diffrep sample --initial-noise FILE`: the tensor `latents` `[B, C, h, w]` of a safetensors file.
enum InitialNoiseFile {
    static func read(_ path: String, channels: Int, count: Int?) throws -> Tensor {
        let tensors = try SafeTensors.loadDictionary(contentsOf: URL(fileURLWithPath: path))
        guard let latents = tensors["latents"] else {
            let names = tensors.keys.sorted()
            throw ValidationError("--initial-noise '\(path)' has no tensor 'latents' (found: \(names.prefix(4).joined(separator: ", "))\(names.count > 4 ? ", … \(names.count) in all" : ""))")
        }
        guard latents.rank == 4, latents.shape[1] == channels, latents.shape[0] >= 1 else {
            throw ValidationError("--initial-noise '\(path)': tensor 'latents' has shape \(latents.shape), expected [B, \(channels), h, w]")
        }
        if let count, count != latents.shape[0] {
            throw ValidationError("--initial-noise '\(path)' holds \(latents.shape[0]) latents, but --count is \(count)")
        }
        guard latents.data.allSatisfy(\.isFinite) else { throw ValidationError("--initial-noise '\(path)': tensor 'latents' has values that are not finite") }
        return latents
    }
}
