import ArgumentParser
import DefaultModel
import Diffusion
import Diffreps
import Evaluation
import Foundation
import JSON
import PNGIO
import RunSupport
import TensorCore
import Toys

/// `diffrep eval`: measure samples against real toys (`nerf`, `images`, `panorama`), or a
/// model's held-out denoising loss (`loss`, the default).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate sampled NeRFs, images or panoramas against real toys, or a model's held-out loss.",
        subcommands: [EvalLossCommand.self, EvalNerfCommand.self, EvalImagesCommand.self, EvalPanoramaCommand.self],
        defaultSubcommand: EvalLossCommand.self)
}

/// What every sample evaluation takes.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Toys classifier weights (default: the shipped one).")
    var classifier: String?
    @Option(parsing: .unconditional, help: "Real reference turntables per class.")
    var references = 16
    @Flag(help: "Skip the real-toys row per class.")
    var noRealRow = false
    @Option(help: "Output folder: eval.json and eval.md.")
    var out = "out/eval"
    @Option(help: "Pose of the real toys compared with: random or canonical (default: the pose the runs' model was trained on, from its training_data.json).")
    var pose: ToyPose?

    func validate() throws {
        try OptionCheck.range("--references", references, 2...OptionLimits.heldOut.upperBound)
    }

    /// The evaluator for `runs`, with real toys posed like their model's data (all runs must agree).
    func evaluator(for runs: [RunFolder]) throws -> SampleEvaluator {
        let url = classifier.map { URL(fileURLWithPath: $0) } ?? DefaultModel.classifierWeights
        let pose = try self.pose ?? Self.commonPose(runs)
        let e = SampleEvaluator(classifier: try ToyClassifier(contentsOf: url), pose: pose)
        e.referenceTurntables = references
        return e
    }

    /// The training pose of the runs' models (random for models without a card, or gone).
    static func commonPose(_ runs: [RunFolder]) throws -> ToyPose {
        let poses = try Set(runs.map { run -> ToyPose in
            guard let path = run.modelPath, FileManager.default.fileExists(atPath: path) else { return .random }
            return try ToyDataset.pose(ofModel: URL(fileURLWithPath: path))
        })
        guard poses.count <= 1 else {
            throw ValidationError("the runs come from models trained on differently posed toys (\(poses.map(\.rawValue).sorted().joined(separator: ", "))); evaluate them separately or pass --pose")
        }
        return poses.first ?? .random
    }
}

/// One run folder of `diffrep nerf`, `image` or `panorama`: its manifest's settings.
struct RunFolder {
    let url: URL
    let settings: JSONValue
    let seed: Int
    /// The model folder the run sampled with, as its manifest recorded it.
    let modelPath: String?

    init(_ path: String, expecting subcommand: String) throws {
        url = URL(fileURLWithPath: path)
        let manifestURL = url.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: manifestURL), let json = try? JSONValue.parse(data), case .object = json else {
            throw ValidationError("'\(path)' has no readable manifest.json (is it an output folder of diffrep \(subcommand)?)")
        }
        guard json["subcommand"]?.stringValue == subcommand else {
            throw ValidationError("'\(path)' holds a diffrep \(json["subcommand"]?.stringValue ?? "?") run, not \(subcommand)")
        }
        settings = json["settings"] ?? [:]
        seed = json["seed"]?.nonNegativeInt ?? 0
        modelPath = json["model_path"]?.stringValue
    }

    /// The requested class: nil for unconditional runs.
    var classLabel: Int? {
        guard let text = settings["class"]?.stringValue, text != "none" else { return nil }
        return Int(text) ?? DefaultModel.classNames.firstIndex(of: text)
    }

    var sampler: String { settings["sampler"]?.stringValue ?? "pullback" }

    /// A whole-number setting (written `32` or `32.0`), or `d` when it is missing.
    func int(_ key: String, default d: Int) -> Int { settings[key]?.doubleValue.flatMap { Int(exactly: $0) } ?? d }
}

/// Groups runs by (sampler, class), evaluates each group, adds the real row per class, and
/// prints and writes the table.
func evaluateGroups(_ runs: [RunFolder], options: EvaluationOptions, kind: String,
                    evaluate: ([RunFolder], String, Int?) throws -> SampleMetrics,
                    realRow: (Int, Int) -> SampleMetrics) throws {
    let output = try OutputRun.begin(options.out, staged: false)
    defer { output.end() }
    let outURL = output.folder
    var groups: [String: [RunFolder]] = [:]
    var order: [String] = []
    for run in runs {
        let key = "\(run.sampler)|\(run.classLabel.map(String.init) ?? "none")"
        if groups[key] == nil { order.append(key) }
        groups[key, default: []].append(run)
    }
    var rows: [SampleMetrics] = []
    var classesSeen: [Int] = []
    let bar = ProgressBar("eval \(kind)", total: order.count)
    for (k, key) in order.enumerated() {
        let group = groups[key]!
        rows.append(try evaluate(group, group[0].sampler, group[0].classLabel))
        if let c = group[0].classLabel, !classesSeen.contains(c) { classesSeen.append(c) }
        bar.update(step: k + 1)
    }
    bar.finish()
    if !options.noRealRow {
        for c in classesSeen.sorted() {
            let n = rows.filter { $0.classLabel == c }.map(\.samples).max() ?? 4
            rows.append(realRow(c, Swift.max(n, 2)))
        }
    }
    rows.sort { ($0.classLabel ?? -1, $0.name == "real toys" ? 1 : 0, $0.name) < ($1.classLabel ?? -1, $1.name == "real toys" ? 1 : 0, $1.name) }
    let table = EvaluationTable(rows: rows, classNames: DefaultModel.classNames)
    print(table.text)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let runsJSON = runs.map { $0.url.path }
    struct Report: Encodable { let kind: String; let runs: [String]; let rows: [SampleMetrics] }
    try OutputFolder.atomicWrite(data: try encoder.encode(Report(kind: kind, runs: runsJSON, rows: rows)),
                                 to: outURL.appendingPathComponent("eval.json"))
    try OutputFolder.atomicWrite(data: Data(table.markdown.utf8), to: outURL.appendingPathComponent("eval.md"))
    let broken = rows.compactMap { row -> String? in
        let figures: [(String, Double?)] = [("KID", row.kid), ("diversity", row.diversity), ("silhouette change", row.silhouetteChange),
                                            ("view-consistent change", row.viewChange), ("recognised", row.recognisability?.accuracy),
                                            ("class probability", row.recognisability?.meanProbability)]
        let bad = figures.filter { $0.1.map { !$0.isFinite } ?? false }.map { "\($0.0) \($0.1!)" }
        return bad.isEmpty ? nil : "\(row.name) (class \(row.classLabel.map(String.init) ?? "none")): " + bad.joined(separator: ", ")
    }
    if !broken.isEmpty {     // written for inspection, but no success
        throw ValidationError("the evaluation gave figures that are not numbers — \(broken.joined(separator: "; ")); the runs' renders hold NaN or infinite values (eval.json and eval.md were written for inspection)")
    }
    log("wrote eval.json and eval.md to \(outURL.path)")
}

/// `diffrep eval nerf RUN…`
struct EvalNerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nerf",
        abstract: "Evaluate NeRF runs (output folders of diffrep nerf) against real toy turntables.",
        discussion: """
            Runs are grouped by sampler and class. Each NeRF is rendered at the model's size from its \
            turntable views (24 around, 20° up); real toys of the class are rendered exactly from the same \
            views. Columns: recognisability (classifier accuracy and mean probability of the class), KID×10³ \
            against real turntable frames, diversity across seeds (feature distance, real in brackets), and \
            the 3D figures as ratios to real toys: silhouette change under a quarter turn and the \
            view-consistent change (how much of the change between views the geometry explains).
            """)

    @Argument(help: "Output folders of diffrep nerf.")
    var runs: [String]
    @OptionGroup var options: EvaluationOptions
    @Option(parsing: .unconditional, help: "Turntable frames.")
    var frames = 24

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run folder") }
        try OptionCheck.range("--frames", frames, 4...OptionLimits.frames.upperBound)
    }

    func run() throws {
        let folders = try runs.map { try RunFolder($0, expecting: "nerf") }
        let evaluator = try options.evaluator(for: folders)
        evaluator.frames = frames
        try evaluateGroups(folders, options: options, kind: "nerf", evaluate: { group, name, label in
            let turntables = try group.map { run in
                Turntable(nerf: try loadNeRF(run), frames: frames, size: evaluator.size)
            }
            return evaluator.evaluate(turntables: turntables, name: name, classLabel: label)
        }, realRow: { evaluator.realTurntableRow(classLabel: $0, count: $1) })
    }

    /// The NeRF of a run folder, rebuilt from its settings and `nerf.safetensors`.
    func loadNeRF(_ run: RunFolder) throws -> NeRFDiffrep {
        guard let kind = RadianceFieldKind(rawValue: run.settings["field"]?.stringValue ?? RadianceFieldKind.grid.rawValue) else {
            throw ValidationError("'\(run.url.path)': unknown field \(run.settings["field"]?.brief ?? "")")
        }
        let nerf = NeRFDiffrep(field: kind.make(resolution: run.int("resolution", default: RadianceFieldKind.defaultGridResolution), seed: UInt64(run.seed),
                                                   hashWidth: run.int("hash_width", default: RadianceFieldKind.legacyHashWidth),
                                                   hashFinest: run.int("hash_finest", default: RadianceFieldKind.legacyHashFinestResolution)),
                               imageSize: 32, renderer: NeRFRenderer(samplesPerRay: run.int("samples_per_ray", default: 48)))
        _ = try NerfRunCheckpoint.parameters(run.url.appendingPathComponent("nerf.safetensors"), into: nerf)
        return nerf
    }
}

/// `diffrep eval images RUN…`
struct EvalImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Evaluate image runs (output folders of diffrep image) against real toy images.",
        discussion: "Every image_NN.png of a run is one sample (resized to the model's size by box filtering when larger).")

    @Argument(help: "Output folders of diffrep image.")
    var runs: [String]
    @OptionGroup var options: EvaluationOptions

    func run() throws {
        let folders = try runs.map { try RunFolder($0, expecting: "image") }
        let evaluator = try options.evaluator(for: folders)
        try evaluateGroups(folders, options: options, kind: "images", evaluate: { group, name, label in
            let images = try group.flatMap { run in try imageFiles(in: run.url, prefix: "image_") }
            let batch = Tensor.concat(try images.map { try resizedForEvaluation($0, size: evaluator.size) }, axis: 0)
            return evaluator.evaluate(images: batch, name: name, classLabel: label)
        }, realRow: { evaluator.realImageRow(classLabel: $0, count: Swift.max($1, 16)) })
    }
}

/// `diffrep eval panorama RUN…`
struct EvalPanoramaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "panorama",
        abstract: "Evaluate panorama runs (output folders of diffrep panorama): windows against real toy images.",
        discussion: "Each panorama.png is cut into square windows of its height, evenly spaced around the wrap; the windows are evaluated as images.")

    @Argument(help: "Output folders of diffrep panorama.")
    var runs: [String]
    @OptionGroup var options: EvaluationOptions
    @Option(parsing: .unconditional, help: "Windows per panorama.")
    var windows = 8

    func validate() throws {
        try OptionCheck.range("--windows", windows, 1...1000)
    }

    func run() throws {
        let folders = try runs.map { try RunFolder($0, expecting: "panorama") }
        let evaluator = try options.evaluator(for: folders)
        try evaluateGroups(folders, options: options, kind: "panorama", evaluate: { group, name, label in
            let crops = try group.flatMap { run -> [Tensor] in
                let pano = try PNG.readTensor(run.url.appendingPathComponent("panorama.png").path, channels: 3)   // [3, H, W]
                return PanoramaWindows.cut(pano, count: windows)
            }
            let batch = Tensor.concat(try crops.map { try resizedForEvaluation($0, size: evaluator.size) }, axis: 0)
            return evaluator.evaluate(images: batch, name: name, classLabel: label)
        }, realRow: { evaluator.realImageRow(classLabel: $0, count: Swift.max($1 * windows, 16)) })
    }
}

/// The PNGs of a folder whose names start with `prefix`, sorted, as `[3, H, W]` tensors.
func imageFiles(in folder: URL, prefix: String) throws -> [Tensor] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".png") }.sorted()
    guard !names.isEmpty else { throw ValidationError("'\(folder.path)' has no \(prefix)*.png files") }
    return try names.map { try PNG.readTensor(folder.appendingPathComponent($0).path, channels: 3) }
}

/// `[1, 3, size, size]`: `image` `[3, H, W]` box-filtered down by an integer factor.
func resizedForEvaluation(_ image: Tensor, size: Int) throws -> Tensor {
    let (h, w) = (image.shape[1], image.shape[2])
    guard h == w, h % size == 0 else {
        throw ValidationError("images must be square multiples of \(size) pixels to evaluate, got \(h)×\(w)")
    }
    let f = h / size
    var out = [Float](repeating: 0, count: 3 * size * size)
    for c in 0..<3 { for i in 0..<size { for j in 0..<size {
        var s: Float = 0
        for a in 0..<f { for b in 0..<f { s += image.data[(c * h + i * f + a) * w + j * f + b] } }
        out[(c * size + i) * size + j] = s / Float(f * f)
    } } }
    return Tensor([1, 3, size, size], data: out)
}

/// Square windows of a 360° panorama, evenly spaced and wrapping.
enum PanoramaWindows {
    static func cut(_ pano: Tensor, count: Int) -> [Tensor] {
        let (h, w) = (pano.shape[1], pano.shape[2])
        return (0..<count).map { k in
            let x0 = k * w / count
            var out = [Float](repeating: 0, count: 3 * h * h)
            for c in 0..<3 { for i in 0..<h { for j in 0..<h { out[(c * h + i) * h + j] = pano.data[(c * h + i) * w + (x0 + j) % w] } } }
            return Tensor([3, h, h], data: out)
        }
    }
}
