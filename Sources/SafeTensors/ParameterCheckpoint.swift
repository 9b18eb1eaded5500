import Foundation
import TensorCore

/// A checkpoint of named parameters in one safetensors file, with the step they were saved at
/// and the settings (a JSON string) of the run they belong to, both in its `__metadata__`.
/// `diffrep nerf` saves its field this way (`nerf.safetensors`) and resumes from it.
///
/// ```swift
/// try ParameterCheckpoint.save(nerf.parameters, step: 12, settings: json, to: url)
/// let (step, settings) = try ParameterCheckpoint.restore(contentsOf: url, into: nerf.parameters)
/// ```
public enum ParameterCheckpoint {
    /// The largest step a checkpoint may record (far beyond any run; keeps arithmetic on it safe).
    public static let maxStep = 1 << 40

    /// The checkpoint bytes of `parameters` (each detached, in order) at `step`.
    public static func serialize(_ parameters: Parameters, step: Int, settings: String) throws -> Data {
        try SafeTensors.serialize(tensors(parameters), metadata: metadata(step: step, settings: settings))
    }

    /// Writes ``serialize(_:step:settings:)`` to `url` atomically (see ``SafeTensors/save(_:metadata:dtype:dtypes:to:)``).
    public static func save(_ parameters: Parameters, step: Int, settings: String, to url: URL) throws {
        try SafeTensors.save(tensors(parameters), metadata: metadata(step: step, settings: settings), to: url)
    }

    private static func tensors(_ parameters: Parameters) -> [(name: String, tensor: Tensor)] {
        parameters.map { (name: $0.0, tensor: $0.1.detached()) }
    }

    private static func metadata(step: Int, settings: String) -> [String: String] {
        ["step": "\(step)", "settings": settings]
    }

    /// Reads the file at `url` and restores it (see ``restore(_:source:into:)``).
    public static func restore(contentsOf url: URL, into parameters: Parameters) throws -> (step: Int, settings: String?) {
        try restore(read(url), source: url.path, into: parameters)
    }

    /// The settings text a checkpoint was saved with (nil if it has none), read without touching
    /// any parameters: a resume compares settings first, so that a run made with other settings
    /// is refused by the setting's name rather than by a parameter's shape.
    public static func settings(contentsOf url: URL) throws -> String? {
        try parse(read(url), source: url.path).metadata?["settings"]
    }

    /// The bytes of the file at `url` (mapped where safe), or ``ParameterCheckpointError/unreadable(path:reason:)``.
    private static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ParameterCheckpointError.unreadable(path: url.path, reason: FileReadFailure.reason(url, error))
        }
    }

    /// `data` parsed as safetensors, or ``ParameterCheckpointError/invalidFile(path:_:)`` naming `source`.
    private static func parse(_ data: Data, source: String) throws -> SafeTensors.Contents {
        do { return try SafeTensors.parseContents(data) } catch let e as SafeTensorsError {
            throw ParameterCheckpointError.invalidFile(path: source, e)
        }
    }

    /// Copies the checkpoint's tensors into `parameters` and returns its step and settings.
    /// Every parameter must be present with its shape, and the step must lie in `0…maxStep`;
    /// otherwise nothing is copied and the error names `source` and the problem.
    ///
    /// ```swift
    /// let (step, _) = try ParameterCheckpoint.restore(bytes, source: "run/nerf.safetensors", into: field.parameters)
    /// ```
    public static func restore(_ data: Data, source: String, into parameters: Parameters) throws -> (step: Int, settings: String?) {
        let contents = try parse(data, source: source)
        guard let stepText = contents.metadata?["step"] else { throw ParameterCheckpointError.missingStep(path: source) }
        guard let step = Int(stepText), (0...maxStep).contains(step) else {
            throw ParameterCheckpointError.invalidStep(path: source, value: stepText)
        }
        let byName = contents.dictionary
        for (name, p) in parameters {
            guard let t = byName[name] else { throw ParameterCheckpointError.missingParameter(path: source, name: name) }
            guard t.shape == p.shape else {
                throw ParameterCheckpointError.shapeMismatch(path: source, name: name, expected: p.shape, found: t.shape)
            }
        }
        for (name, p) in parameters { p.data = byName[name]!.data }
        return (step, contents.metadata?["settings"])
    }
}

/// Why a ``ParameterCheckpoint`` could not be restored; each case names the file.
public enum ParameterCheckpointError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not a valid safetensors file.
    case invalidFile(path: String, SafeTensorsError)
    /// The metadata has no `step`.
    case missingStep(path: String)
    /// The metadata's `step` is not an integer in `0…ParameterCheckpoint.maxStep`.
    case invalidStep(path: String, value: String)
    /// A parameter the model has is not in the file.
    case missingParameter(path: String, name: String)
    /// A parameter's tensor has another shape than the model's.
    case shapeMismatch(path: String, name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .unreadable(p, why): return "cannot read checkpoint '\(p)': \(why)"
        case let .invalidFile(p, e): return "checkpoint '\(p)': \(e)"
        case let .missingStep(p): return "checkpoint '\(p)' has no step in its metadata (not a checkpoint of this tool?)"
        case let .invalidStep(p, v):
            return "checkpoint '\(p)': step '\(v)' is not an integer in 0…\(ParameterCheckpoint.maxStep)"
        case let .missingParameter(p, n): return "checkpoint '\(p)' lacks the parameter '\(n)' (made with another field or resolution?)"
        case let .shapeMismatch(p, n, want, got):
            return "checkpoint '\(p)': parameter '\(n)' has shape \(got), the model's is \(want) (made with another field or resolution?)"
        }
    }

    public var errorDescription: String? { description }
}
