import ArgumentParser
import DefaultModel
import Diffusion
import Foundation
import JSON
import RunSupport
import TensorCore

/// `--model`, `--class`, `--guidance`, `--prompt`, `--negative-prompt`: which denoiser a command samples with.
struct ModelOptions: ParsableArguments {
    @Option(help: "A diffusers-format model folder (config.json, diffusion_pytorch_model.safetensors, scheduler_config.json), or a Stable Diffusion pipeline folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/; sample, image, panorama and nerf). Default: the embedded toys model (for nerf: the embedded camera-aware one).")
    var model: String?

    @Option(help: "Text prompt for a Stable Diffusion pipeline --model.")
    var prompt: String?

    @Option(help: "Negative prompt for a Stable Diffusion pipeline --model (the unconditional half of guidance; default: the empty prompt).")
    var negativePrompt: String?

    @Option(name: .customLong("class"), parsing: .unconditional, help: "Class label or name for a class-conditional model (toys: sphere, box, cylinder, cone, torus, capsule).")
    var classLabel: String?

    @Option(parsing: .unconditional, help: "Classifier-free guidance weight w (D = D_uncond + w·(D_cond − D_uncond)); 1 = plain conditional. (default: 3; for NeRFs with a multi-view model 2 for pullback, 5 for sds; 7.5 for a Stable Diffusion pipeline)")
    var guidance: Float?

    /// The guidance weight without `--guidance`.
    static let defaultGuidance: Float = 3
    /// The guidance weight of a Stable Diffusion pipeline without `--guidance` (diffusers'
    /// `StableDiffusionPipeline` default `guidance_scale`).
    static let pipelineGuidance: Float = 7.5

    func validate() throws {
        if let guidance, !(guidance.isFinite && guidance >= 0) {
            throw ValidationError("--guidance \(guidance) is out of range: allowed a finite number ≥ 0")
        }
    }

    /// `--model`, or `defaultFolder` without it.
    func folder(default defaultFolder: URL = DefaultModel.folder) -> URL {
        model.map { URL(fileURLWithPath: $0) } ?? defaultFolder
    }

    /// The model settings every sampling command records in its manifest, with the guidance
    /// weight the run used.
    func settings(guidance: Float) -> [String: JSONValue] {
        var s: [String: JSONValue] = ["guidance": JSONValue(guidance), "class": .string(classLabel ?? "none")]
        if let prompt { s["prompt"] = .string(prompt) }
        if let negativePrompt { s["negative_prompt"] = .string(negativePrompt) }
        return s
    }

    /// Whether `--model` is a Stable Diffusion pipeline folder (it holds `model_index.json`).
    var isPipeline: Bool { model.map { StableDiffusionPipeline.isPipelineFolder(URL(fileURLWithPath: $0)) } ?? false }

    /// The loaded network, its schedule, and the denoiser to sample with (guided when a class is
    /// given); `defaultFolder` is the model used without `--model`. With `views: true` (a
    /// command whose images are views of one scene), a multi-view model (its config or its
    /// training-data card marks ``QuarterTurnTiles``) becomes a per-view denoiser of groups of four views
    /// (``QuarterTurnTiledDenoiser``); elsewhere it is a plain model of its tiled images.
    /// `defaultGuidance` gives the guidance weight without `--guidance`, from whether the model
    /// was loaded as a multi-view one.
    func load(defaultFolder: URL = DefaultModel.folder, views: Bool = false,
              defaultGuidance: (_ multiView: Bool) -> Float = { _ in ModelOptions.defaultGuidance }) throws -> LoadedModel {
        let folder = self.folder(default: defaultFolder)
        if StableDiffusionPipeline.isPipelineFolder(folder) {
            throw ValidationError("'\(folder.path)' is a Stable Diffusion pipeline folder, which this command does not take (sample, image, panorama and nerf do)")
        }
        if prompt != nil || negativePrompt != nil {
            throw ValidationError("--prompt and --negative-prompt need a Stable Diffusion pipeline folder as --model (one with model_index.json)")
        }
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            throw ValidationError("no model at '\(folder.path)' (expected config.json inside)")
        }
        let unet = try UNet2D(contentsOf: folder)
        let schedulerURL = folder.appendingPathComponent("scheduler_config.json")
        let schedule = FileManager.default.fileExists(atPath: schedulerURL.path)
            ? try DDPMSchedule(contentsOf: schedulerURL) : DDPMSchedule()
        let base = DDPMDenoiser(network: unet, schedule: schedule)
        let label = try resolveClass(unet.config, names: Self.classNames(of: folder, classCount: unet.config.classCount.map { $0 - 1 }))
        let nullClass = unet.config.nullClass
        let tiled = try views && (unet.config.viewTiles || QuarterTurnTiles.marks(TrainingDataCard.read(modelFolder: folder)))
        let guidance = self.guidance ?? defaultGuidance(tiled)
        var denoiser: any Denoiser = label == nil ? base : GuidedDenoiser(base: base, guidance: guidance, nullClass: nullClass)
        if tiled { denoiser = QuarterTurnTiledDenoiser(base: denoiser) }
        return LoadedModel(folder: folder, unet: unet, schedule: schedule, denoiser: denoiser, classLabel: label,
                           nullClass: nullClass, guidance: guidance, viewTiles: tiled)
    }

    /// The names `--class` accepts for the model in `folder`: the toys' class names for a model
    /// trained on the toys (an embedded default, or one whose `training_data.json` says
    /// `"data": "toys"`) with as many classes; none for any other model, whose classes are numbers.
    static func classNames(of folder: URL, classCount: Int?) -> [String] {
        guard classCount == DefaultModel.classNames.count else { return [] }
        let path = folder.standardizedFileURL.path
        let embedded = [DefaultModel.folder, DefaultModel.nerfFolder, DefaultModel.singleViewNerfFolder].contains { $0.standardizedFileURL.path == path }
        let card = (try? TrainingDataCard.read(modelFolder: folder)) ?? nil
        return embedded || card?["data"] == "toys" ? DefaultModel.classNames : []
    }

    /// `--class` as a label of `config`'s classes, by number or by one of `names`.
    func resolveClass(_ config: UNet2DConfig, names: [String]) throws -> Int? {
        guard let text = classLabel else { return nil }
        guard let n = config.classCount else {
            throw ValidationError("--class given, but the model is unconditional")
        }
        if let i = Int(text) ?? names.firstIndex(of: text.lowercased()), i >= 0, i < n - 1 { return i }
        throw ValidationError("unknown class '\(text)'; use 0..<\(n - 1)" + (names.isEmpty ? "" : " or one of \(names.joined(separator: ", "))"))
    }
}

/// A denoiser ready to sample with.
struct LoadedModel {
    let folder: URL
    let unet: UNet2D
    let schedule: DDPMSchedule
    /// Unconditional (null class) when no class was asked for, else guided toward `classLabel`.
    let denoiser: any Denoiser
    let classLabel: Int?
    let nullClass: Int?
    /// The classifier-free guidance weight of ``denoiser`` (`--guidance`, or the command's default).
    let guidance: Float
    /// Whether ``denoiser`` takes views in groups of four a quarter turn apart (a multi-view model).
    var viewTiles = false

    /// The condition to pass per batch item: the class, the null class, or nothing.
    func condition(count: Int) -> [Int]? {
        if let c = classLabel { return [Int](repeating: c, count: count) }
        return nullClass.map { [Int](repeating: $0, count: count) }
    }

    /// A manifest for a run with this model: its settings plus the model's path and file digests.
    func manifest(_ subcommand: String, seed: UInt64, settings: [String: JSONValue]) throws -> RunManifest {
        var manifest = RunManifest(subcommand: subcommand, version: DiffrepVersion.string, seed: seed, settings: settings)
        try manifest.recordModel(at: folder.path)
        return manifest
    }

    /// `[C, H, W]` the model denoises.
    var imageShape: [Int] {       // the image, or one view of a multi-view model's tiles (a camera-aware model takes 3 more input planes)
        let side = viewTiles ? unet.config.sampleSize / 2 : unet.config.sampleSize
        return [unet.config.outChannels, side, side]
    }
}
