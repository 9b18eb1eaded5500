import Foundation
import JSON
import SafeTensors
import Tokenizers

// Loading a pipeline folder as diffusers' `StableDiffusionPipeline.save_pretrained` writes it.

extension StableDiffusionPipeline {
    /// The pipeline classes whose folders this loads (the parts are the same).
    public static let pipelineClasses: Set<String> = ["StableDiffusionPipeline"]
    /// The parts a pipeline needs and the classes each may name in `model_index.json`.
    static let partClasses: [(key: String, classes: Set<String>)] = [
        ("tokenizer", ["CLIPTokenizer", "CLIPTokenizerFast"]), ("text_encoder", ["CLIPTextModel"]),
        ("unet", ["UNet2DConditionModel"]), ("vae", ["AutoencoderKL"]), ("scheduler", [])]
    /// Parts a pipeline may list that sampling never uses.
    static let ignoredParts: Set<String> = ["safety_checker", "feature_extractor", "image_encoder"]

    /// Loads a diffusers pipeline folder: `model_index.json`, `tokenizer/` (vocab.json + merges.txt,
    /// or tokenizer.json), `text_encoder/`, `unet/`, `vae/` (each `config.json` and safetensors
    /// weights in F32, F16 or BF16, one file or shards with an `.index.json`, or a `variant` such
    /// as `"fp16"`: without one, plain weights win and a folder with only one variant uses it) and
    /// `scheduler/scheduler_config.json` (any scheduler class: its betas, prediction type and
    /// timestep spacing are what count). Parts that sampling does not use (safety checker,
    /// feature extractor) are ignored.
    ///
    /// Checked before any weight is read: the parts are listed and present, their configs are
    /// supported, and they fit together (the UNet's channels are the VAE's latent channels, its
    /// `cross_attention_dim` the text encoder's width, the tokenizer's ids and length fit the text
    /// encoder). Errors name the file and the key (``PipelineError`` and each part's own errors).
    ///
    /// ```swift
    /// let sd = try StableDiffusionPipeline(contentsOf: URL(fileURLWithPath: "stable-diffusion-2-1"), variant: "fp16")
    /// ```
    public convenience init(contentsOf folder: URL, variant: String? = nil) throws {
        let index = folder.appendingPathComponent("model_index.json")
        let parts = try Self.readIndex(index)
        func part(_ key: String) -> URL { parts[key]! }
        let schedulerFile = part("scheduler").appendingPathComponent("scheduler_config.json")
        guard FileManager.default.fileExists(atPath: schedulerFile.path) else {
            throw PipelineError.missingFolder(file: index.path, key: "scheduler", path: schedulerFile.path)
        }
        let schedule = try DDPMSchedule(contentsOf: schedulerFile)
        let setAlphaToOne = try Self.checkedSetAlphaToOne(schedulerFile)

        let unetConfigFile = part("unet").appendingPathComponent("config.json")
        let vaeConfigFile = part("vae").appendingPathComponent("config.json")
        let textConfigFile = part("text_encoder").appendingPathComponent("config.json")
        let unetConfig = try UNet2DConditionConfig(contentsOf: unetConfigFile)
        let vaeConfig = try AutoencoderKLConfig(contentsOf: vaeConfigFile)
        let textConfig = try CLIPTextConfig(contentsOf: textConfigFile)
        let tokenizer = try CLIPTokenizer(folder: part("tokenizer"), variant: .fast)

        func agree(_ a: Int, _ fileA: URL, _ keyA: String, _ b: Int, _ fileB: URL, _ keyB: String, _ ok: Bool? = nil) throws {
            guard ok ?? (a == b) else {
                throw PipelineError.mismatch(file: fileA.path, key: keyA, value: "\(a)", otherFile: fileB.path, otherKey: keyB, otherValue: "\(b)")
            }
        }
        try agree(unetConfig.inChannels, unetConfigFile, "in_channels", vaeConfig.latentChannels, vaeConfigFile, "latent_channels")
        try agree(unetConfig.outChannels, unetConfigFile, "out_channels", vaeConfig.latentChannels, vaeConfigFile, "latent_channels")
        for d in Set(unetConfig.crossAttentionDim).sorted() {
            try agree(d, unetConfigFile, "cross_attention_dim", textConfig.hiddenSize, textConfigFile, "hidden_size")
        }
        let tokenizerFolder = part("tokenizer")
        let largestID = ([tokenizer.startID, tokenizer.endID, tokenizer.padID, tokenizer.unknownID] + tokenizer.vocabulary.values).max()!
        try agree(largestID + 1, tokenizerFolder, "vocabulary size (largest id + 1)", textConfig.vocabSize, textConfigFile, "vocab_size",
                  largestID < textConfig.vocabSize)
        try agree(tokenizer.maxLength, tokenizerFolder, "model_max_length", textConfig.maxPositionEmbeddings, textConfigFile,
                  "max_position_embeddings", tokenizer.maxLength <= textConfig.maxPositionEmbeddings)

        self.init(folder: folder, tokenizer: tokenizer,
                  textEncoder: try CLIPTextModel(contentsOf: part("text_encoder"), variant: variant),
                  unet: try UNet2DCondition(contentsOf: part("unet"), variant: variant),
                  vae: try AutoencoderKL(contentsOf: part("vae"), variant: variant),
                  schedule: schedule, setAlphaToOne: setAlphaToOne)
    }

    /// Whether `folder` looks like a pipeline (holds a `model_index.json`): what a command's
    /// `--model` uses to tell a pipeline from a single-model folder.
    public static func isPipelineFolder(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("model_index.json").path)
    }

    /// Each needed part's folder from `model_index.json`, after checking the pipeline class and
    /// every part's `[library, class]` entry.
    static func readIndex(_ index: URL) throws -> [String: URL] {
        let folder = index.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: index.path) else { throw PipelineError.notAPipeline(folder: folder.path) }
        let data: Data
        do { data = try Data(contentsOf: index) } catch {
            throw PipelineError.invalidIndex(file: index.path, reason: "cannot read: \(FileReadFailure.reason(index, error))")
        }
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch { throw PipelineError.invalidIndex(file: index.path, reason: "not JSON: \(error.message)") }
        guard case .object(let members) = root else { throw PipelineError.invalidIndex(file: index.path, reason: "the top level is not an object") }
        var seen: Set<String> = []
        for m in members where !seen.insert(m.key).inserted {
            throw PipelineError.invalidIndex(file: index.path, reason: "key '\(m.key)' appears more than once")
        }
        if let name = root["_class_name"], !(name.stringValue.map(pipelineClasses.contains) ?? false) {
            throw PipelineError.unsupported(file: index.path, key: "_class_name", value: name.brief,
                                            supported: "diffreps loads \(pipelineClasses.sorted().joined(separator: ", ")) folders")
        }
        /// `[library, class]`, or nil for an absent or `[null, null]` entry.
        func entry(_ key: String) throws -> String? {
            guard let v = root[key], v != .null else { return nil }
            guard case .array(let pair) = v, pair.count == 2 else {
                throw PipelineError.invalidIndex(file: index.path, reason: "'\(key)' is \(v.brief), expected [library, class]")
            }
            if pair == [.null, .null] { return nil }
            guard let cls = pair[1].stringValue, pair[0].stringValue != nil else {
                throw PipelineError.invalidIndex(file: index.path, reason: "'\(key)' is \(v.brief), expected [library, class] as two strings")
            }
            return cls
        }
        var parts: [String: URL] = [:]
        for (key, classes) in partClasses {
            guard let cls = try entry(key) else { throw PipelineError.missingPart(file: index.path, key: key) }
            if !classes.isEmpty, !classes.contains(cls) {
                throw PipelineError.unsupported(file: index.path, key: key, value: "\"\(cls)\"",
                                                supported: "expected \(classes.sorted().joined(separator: " or "))")
            }
            let url = folder.appendingPathComponent(key)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw PipelineError.missingFolder(file: index.path, key: key, path: url.path)
            }
            parts[key] = url
        }
        let known = Set(partClasses.map(\.key)).union(ignoredParts)
        for (key, _) in members where !key.hasPrefix("_") && !known.contains(key) {
            if case .array = root[key]!, let cls = try entry(key) {
                throw PipelineError.unsupported(file: index.path, key: key, value: "\"\(cls)\"",
                                                supported: "a Stable Diffusion 1.x/2.x pipeline has no '\(key)' (SDXL-style pipelines are not implemented)")
            }
        }
        return parts
    }

    /// `set_alpha_to_one` from the scheduler config (DDIM's default, true, when absent), after
    /// checking that the config asks for no clipping or thresholding of the denoised latents
    /// (`clip_sample`, `thresholding`: diffreps never clips; released SD configs say false).
    static func checkedSetAlphaToOne(_ file: URL) throws -> Bool {
        let root = try? JSONValue.parse(Data(contentsOf: file))        // DDPMSchedule has read it already
        func flag(_ key: String) throws -> Bool? {
            guard let v = root?[key], v != .null else { return nil }
            guard case .bool(let b) = v else {
                throw PipelineError.invalidScheduler(file: file.path, key: key, value: v.brief, expected: "true or false")
            }
            return b
        }
        for key in ["clip_sample", "thresholding"] where try flag(key) == true {
            throw PipelineError.invalidScheduler(file: file.path, key: key, value: "true",
                                                 expected: "false (diffreps does not clip the denoised latents)")
        }
        return try flag("set_alpha_to_one") ?? true
    }
}
