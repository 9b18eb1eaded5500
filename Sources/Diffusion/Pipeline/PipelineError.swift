import Foundation

/// Why a diffusers pipeline folder could not be loaded as a ``StableDiffusionPipeline``. Every
/// message names the file and the key (errors inside a part's own files are that part's errors:
/// ``UNetConfigError``, ``AutoencoderKLConfigError``, ``CLIPTextConfigError``, ``UNetLoadError``,
/// ``WeightsFileError``, ``ScheduleConfigError``, and the tokenizer's).
///
/// ```swift
/// do { _ = try StableDiffusionPipeline(contentsOf: folder) }
/// catch let e as PipelineError { print(e) }   // e.g. "pipeline 'sd/model_index.json': no 'vae' entry …"
/// ```
public enum PipelineError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The folder has no `model_index.json`.
    case notAPipeline(folder: String)
    /// `model_index.json` is not a JSON object or a value has the wrong form.
    case invalidIndex(file: String, reason: String)
    /// A part the pipeline needs is not listed (or is `[null, null]`).
    case missingPart(file: String, key: String)
    /// A part (or the pipeline class) this package does not implement.
    case unsupported(file: String, key: String, value: String, supported: String)
    /// The part's folder (or the scheduler's config file) is missing.
    case missingFolder(file: String, key: String, path: String)
    /// Two parts' configs disagree.
    case mismatch(file: String, key: String, value: String, otherFile: String, otherKey: String, otherValue: String)
    /// A scheduler key the pipeline reads is malformed.
    case invalidScheduler(file: String, key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .notAPipeline(folder):
            return "'\(folder)' is not a diffusers pipeline folder: no model_index.json (HINT: point --model at the folder StableDiffusionPipeline.save_pretrained wrote, the one holding model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/)"
        case let .invalidIndex(file, reason): return "pipeline '\(file)': \(reason)"
        case let .missingPart(file, key): return "pipeline '\(file)': no '\(key)' entry; a Stable Diffusion pipeline needs tokenizer, text_encoder, unet, vae and scheduler"
        case let .unsupported(file, key, value, supported): return "pipeline '\(file)': \(key) = \(value) is not supported (\(supported))"
        case let .missingFolder(file, key, path): return "pipeline '\(file)' lists '\(key)', but '\(path)' is missing"
        case let .mismatch(file, key, value, otherFile, otherKey, otherValue):
            return "pipeline parts disagree: '\(file)' has \(key) = \(value), but '\(otherFile)' has \(otherKey) = \(otherValue)"
        case let .invalidScheduler(file, key, value, expected): return "scheduler config '\(file)': '\(key)' is \(value), expected \(expected)"
        }
    }

    public var errorDescription: String? { description }
}
