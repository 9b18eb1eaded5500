// The JSON record written beside a run's outputs, so any figure can be reproduced (docs/DESIGN.md §1).

import Foundation
import JSON
import TensorCore

/// What a run did: command line, subcommand, seed, every setting, digests of the model files,
/// tool version, start and end time, outputs and free-form measurements. Written as
/// `manifest.json` beside the outputs.
///
/// ```swift
/// var manifest = RunManifest(subcommand: "panorama", version: DiffrepVersion.string, seed: 7,
///                            settings: ["steps": 50, "sampler": "pullback", "width": 256])
/// try manifest.recordModel(at: modelPath)          // SHA-256 of every file in the model folder
/// // … the run …
/// manifest.addOutput("panorama.png")
/// manifest.measurements["seconds_per_step"] = 1.42
/// manifest.finish()                                // end time and wall seconds
/// try manifest.write(to: out.appendingPathComponent("manifest.json"))
/// ```
///
/// The file looks like:
/// ```json
/// {
///   "blas_kernels" : "SkylakeX",
///   "command_line" : ["diffrep", "panorama", "--seed", "7"],
///   "end_time" : "2025-01-01T12:03:10Z",
///   "measurements" : { "seconds_per_step" : 1.42 },
///   "model_files" : { "config.json" : "5d41…", "diffusion_pytorch_model.safetensors" : "9b1f…" },
///   "model_path" : "Assets/toys-unet",
///   "outputs" : ["panorama.png"],
///   "seed" : 7,
///   "settings" : { "sampler" : "pullback", "steps" : 50, "width" : 256 },
///   "start_time" : "2025-01-01T12:00:00Z",
///   "subcommand" : "panorama",
///   "tool" : "diffrep",
///   "version" : "0.1.0",
///   "wall_seconds" : 190.2
/// }
/// ```
public struct RunManifest: Codable, Sendable, Equatable {
    /// The tool that ran (`"diffrep"`).
    public var tool: String
    /// The tool's version.
    public var version: String
    /// The subcommand (`"nerf"`, `"panorama"`, `"train"` …).
    public var subcommand: String
    /// The full command line as typed (`CommandLine.arguments`).
    public var commandLine: [String]
    /// The run's seed, if it has one.
    public var seed: UInt64?
    /// Every setting that affects the result, defaults included.
    public var settings: [String: JSONValue]
    /// The model folder (or file) used, as given.
    public var modelPath: String?
    /// SHA-256 (lowercase hex) of each model file, keyed by its path relative to ``modelPath``.
    public var modelFiles: [String: String]
    /// When the run started.
    public var startTime: Date
    /// When the run finished (nil while running).
    public var endTime: Date?
    /// Wall-clock seconds from start to finish (nil while running).
    public var wallSeconds: Double?
    /// Output files, relative to the output folder, in the order written.
    public var outputs: [String]
    /// Free-form numbers measured during the run (timings, final loss, metrics).
    public var measurements: [String: Double]
    /// The OpenBLAS kernels the run used (``BLAS/coreName``, e.g. "SkylakeX"): timings depend on
    /// them several-fold. Nil in manifests written before it was recorded.
    public var blasKernels: String?

    enum CodingKeys: String, CodingKey {
        case tool, version, subcommand, seed, settings, outputs, measurements
        case commandLine = "command_line"
        case modelPath = "model_path"
        case modelFiles = "model_files"
        case startTime = "start_time"
        case endTime = "end_time"
        case wallSeconds = "wall_seconds"
        case blasKernels = "blas_kernels"
    }

    /// A manifest for a run starting now.
    ///
    /// - Parameters:
    ///   - subcommand: `"nerf"`, `"panorama"`, …
    ///   - version: the tool's version string.
    ///   - seed: the run's seed (nil if it has none).
    ///   - settings: every setting that affects the result.
    ///   - commandLine: defaults to `CommandLine.arguments`.
    ///   - tool: defaults to `"diffrep"`.
    ///   - startTime: defaults to now.
    public init(subcommand: String, version: String, seed: UInt64? = nil,
                settings: [String: JSONValue] = [:], commandLine: [String] = CommandLine.arguments,
                tool: String = "diffrep", startTime: Date = Date()) {
        self.tool = tool
        self.version = version
        self.subcommand = subcommand
        self.commandLine = commandLine
        self.seed = seed
        self.settings = settings
        self.modelPath = nil
        self.modelFiles = [:]
        self.startTime = startTime
        self.endTime = nil
        self.wallSeconds = nil
        self.outputs = []
        self.measurements = [:]
        self.blasKernels = BLAS.coreName
    }

    /// Records the model's path and the SHA-256 of every regular file in it (or of the file
    /// itself, when `path` is a file), following ``digests(ofModelAt:)``.
    ///
    /// ```swift
    /// try manifest.recordModel(at: "Assets/toys-unet")
    /// manifest.modelFiles["config.json"]   // "3f5a…" (64 hex digits)
    /// ```
    public mutating func recordModel(at path: String) throws {
        modelPath = path
        modelFiles = try RunManifest.digests(ofModelAt: path)
    }

    /// Adds an output file (a path relative to the output folder); repeats are ignored.
    public mutating func addOutput(_ relativePath: String) {
        if !outputs.contains(relativePath) { outputs.append(relativePath) }
    }

    /// Sets the end time (default now) and the wall seconds since ``startTime``.
    public mutating func finish(at time: Date = Date()) {
        endTime = time
        wallSeconds = time.timeIntervalSince(startTime)
    }

    /// The manifest as pretty-printed JSON with sorted keys (stable diffs between runs).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Writes the manifest as JSON to `url`, atomically (temporary file + rename).
    ///
    /// ```swift
    /// try manifest.write(to: out.appendingPathComponent("manifest.json"))
    /// ```
    public func write(to url: URL) throws {
        try OutputFolder.atomicWrite(data: try jsonData(), to: url)
    }

    /// Reads a manifest written by ``write(to:)``.
    public static func read(from url: URL) throws -> RunManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(RunManifest.self, from: Data(contentsOf: url))
    }

    /// SHA-256 (hex) of every regular file under `path`, keyed by path relative to it, following
    /// symbolic links, skipping hidden files (names starting with `.`); for a single file, one
    /// entry keyed by its file name.
    ///
    /// ```swift
    /// try RunManifest.digests(ofModelAt: "Assets/toys-unet")
    /// // ["config.json": "…", "diffusion_pytorch_model.safetensors": "…"]
    /// ```
    /// - Throws: ``FileDigestError`` when the path is missing or a file cannot be read.
    public static func digests(ofModelAt path: String) throws -> [String: String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw FileDigestError(path: path, message: "No such file or directory")
        }
        guard isFolder.boolValue else {
            let name = URL(fileURLWithPath: path).lastPathComponent
            return [name: try SHA256.hash(fileAt: path).hex]
        }
        var result = [String: String]()
        try collect(folder: path, prefix: "", into: &result)
        return result
    }

    /// Recursively hashes the regular files in `folder`, keys prefixed with `prefix`.
    private static func collect(folder: String, prefix: String, into result: inout [String: String]) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw FileDigestError(path: folder, message: "cannot list the folder")
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let full = folder + "/" + name
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue {
                try collect(folder: full, prefix: prefix + name + "/", into: &result)
            } else {
                result[prefix + name] = try SHA256.hash(fileAt: full).hex
            }
        }
    }
}
