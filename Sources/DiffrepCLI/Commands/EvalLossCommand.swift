import ArgumentParser
import DefaultModel
import Diffusion
import Toys
import Foundation
import RunSupport
import TensorCore

/// `diffrep eval loss` (also plain `diffrep eval`): held-out denoising loss of a model per band of noise levels (timesteps), on
/// fixed items and fixed noise, so checkpoints and models compare exactly.
struct EvalLossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Held-out denoising loss (ε-MSE and x₀-MSE) of a model per band of timesteps.",
        discussion: """
            Toys are drawn from indices ≥ 2^40 of the toys data set, which no training run reaches. \
            Prints a table and writes heldout.csv and manifest.json into --out. x₀-MSE grows like σ² \
            at high noise; the clipped column clips x̂₀ to [-1, 1] first, as DDPM samplers usually do.
            """)

    @Option(help: "A diffusers-format model folder. Default: the embedded toys model.")
    var model: String?
    @Option(help: "Held-out data: 'toys' (procedural) or a folder of PNG images (not used in training).")
    var data = "toys"
    @Option(parsing: .unconditional, help: "Number of held-out images (a PNG folder supplies at most its own count).")
    var count = 256
    @Option(help: "Timestep bands, as comma-separated boundaries (default: 0,100,300,600,1000).")
    var bands = "0,100,300,600,1000"
    @Option(parsing: .unconditional, help: "Seed of the noise (and of the toys data set).")
    var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Images per network call.")
    var batchSize = 32
    @Flag(help: "Evaluate a class-conditional model with the null class instead of the true labels.")
    var unconditional = false
    @Flag(help: "Evaluate a camera-aware model without telling it the cameras (the difference is what the camera is worth).")
    var hideCamera = false
    @Option(help: "Output folder: heldout.csv, manifest.json.")
    var out = "out/eval"

    /// The first toys index used for held-out items.
    static let heldOutToysStart = 1 << 40

    func validate() throws {
        try OptionCheck.range("--count", count, OptionLimits.heldOut)
        try OptionCheck.range("--batch-size", batchSize, OptionLimits.batchSize)
        _ = try parsedBands()
    }

    func parsedBands() throws -> [Range<Int>] {
        let edges = bands.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard edges.count >= 2, edges.allSatisfy({ $0 != nil }), let e = Optional(edges.map { $0! }),
              e[0] >= 0, zip(e, e.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("--bands must be increasing timesteps ≥ 0, e.g. 0,100,300,600,1000")
        }
        return zip(e, e.dropFirst()).map { $0..<$1 }
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: false)
        defer { output.end() }
        let outURL = output.folder
        let folder = model.map { URL(fileURLWithPath: $0) } ?? DefaultModel.folder
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            throw ValidationError("no model at '\(folder.path)' (expected config.json inside)")
        }
        let config = try UNet2DConfig(contentsOf: folder.appendingPathComponent("config.json"))
        let schedulerURL = folder.appendingPathComponent("scheduler_config.json")
        let numTimesteps = FileManager.default.fileExists(atPath: schedulerURL.path)
            ? try DDPMSchedule(contentsOf: schedulerURL).numTrainTimesteps : DDPMSchedule().numTrainTimesteps
        let bandRanges = try parsedBands()
        guard bandRanges.last!.upperBound <= numTimesteps else {
            throw ValidationError("--bands must end at most at the model's \(numTimesteps) timesteps")
        }

        let source: TrainingData
        let items: [Int]
        let pose = try ToyDataset.pose(ofModel: folder)        // held-out toys posed like the model's data
        if data == "toys" {
            if config.viewTiles {      // a multi-view model: held-out toys as four quarter-turn views, tiled
                source = ToyViewTiles(dataset: ToyDataset(seed: seed, size: config.sampleSize / 2, pose: pose))
            } else {
                source = ToyTrainingData(dataset: ToyDataset(seed: seed, size: config.sampleSize, pose: pose))
            }
            items = Array(Self.heldOutToysStart..<(Self.heldOutToysStart + count))
        } else {
            let folderData = try PNGFolderData(folder: URL(fileURLWithPath: data))
            guard folderData.images[0].shape == [config.outChannels, config.sampleSize, config.sampleSize] else {
                throw ValidationError("the PNGs in '\(data)' are \(folderData.images[0].shape), the model takes "
                                      + "\([config.outChannels, config.sampleSize, config.sampleSize])")
            }
            source = folderData
            items = Array(0..<Swift.min(count, folderData.images.count))
        }

        var manifest = RunManifest(subcommand: "eval", version: DiffrepVersion.string, seed: seed, settings: [
            "data": .string(data), "pose": data == "toys" ? .string(pose.rawValue) : .null, "count": .int(items.count), "bands": .string(bands),
            "batch_size": .int(batchSize), "unconditional": .bool(unconditional), "hide_camera": .bool(hideCamera)])
        try manifest.recordModel(at: folder.path)

        let evaluation = HeldOutEvaluation(data: source, items: items, bands: bandRanges, seed: seed,
                                           batchSize: batchSize, conditional: !unconditional, cameras: !hideCamera)
        let bar = ProgressBar("eval", total: items.count * bandRanges.count)
        let results = try evaluation.evaluate(modelFolder: folder) { done, _ in bar.update(step: done) }
        bar.finish()
        let failed = results.filter { !($0.epsilonMSE.isFinite && $0.x0MSE.isFinite && $0.clippedX0MSE.isFinite) }

        print(Self.table(results, title: "held-out denoising loss of \(folder.path) on \(items.count) "
                         + (data == "toys" ? "toys" : "images from \(data)") + (unconditional ? " (null class)" : "") + (hideCamera ? " (no camera)" : "")))
        var csv = "t_min,t_max,sigma_min,sigma_max,eps_mse,x0_mse,x0_clipped_mse,count\n"
        for r in results {
            csv += "\(r.timesteps.lowerBound),\(r.timesteps.upperBound),\(r.sigmaRange.lowerBound),\(r.sigmaRange.upperBound),"
                + "\(r.epsilonMSE),\(r.x0MSE),\(r.clippedX0MSE),\(r.count)\n"
            let key = "t\(r.timesteps.lowerBound)_\(r.timesteps.upperBound)"
            manifest.measurements["eps_mse_\(key)"] = r.epsilonMSE
            manifest.measurements["x0_mse_\(key)"] = r.x0MSE
            manifest.measurements["x0_clipped_mse_\(key)"] = r.clippedX0MSE
        }
        try OutputFolder.atomicWrite(data: Data(csv.utf8), to: outURL.appendingPathComponent("heldout.csv"))
        manifest.addOutput("heldout.csv")
        manifest.finish()
        try manifest.write(to: outURL.appendingPathComponent("manifest.json"))
        if let first = failed.first {     // written for inspection, but no success
            throw EvalFiguresError(bands: failed.map { "[\($0.timesteps.lowerBound), \($0.timesteps.upperBound))" },
                                   example: first.epsilonMSE.isFinite ? first.x0MSE : first.epsilonMSE, model: folder.path)
        }
        log("wrote heldout.csv and manifest.json to \(outURL.path)")
    }

    /// The results as an aligned text table.
    static func table(_ results: [HeldOutEvaluation.BandResult], title: String) -> String {
        func col(_ s: String, _ n: Int) -> String { String(repeating: " ", count: Swift.max(0, n - s.count)) + s }
        var lines = [title, col("band t", 12) + col("σ range", 18) + col("ε-MSE", 10) + col("x₀-MSE", 11)
                     + col("x₀-MSE clipped", 16)]
        for r in results {
            let band = "[\(r.timesteps.lowerBound), \(r.timesteps.upperBound))"
            let sigma = String(format: "%.3g – %.3g", r.sigmaRange.lowerBound, r.sigmaRange.upperBound)
            lines.append(col(band, 12) + col(sigma, 18) + col(String(format: "%.4f", r.epsilonMSE), 10)
                         + col(String(format: "%.4g", r.x0MSE), 11) + col(String(format: "%.4f", r.clippedX0MSE), 16))
        }
        return lines.joined(separator: "\n")
    }
}

/// The evaluation produced figures that are not numbers (NaN or infinite): the model's weights
/// or the data are broken, and the command fails instead of reporting them as a result.
struct EvalFiguresError: Error, CustomStringConvertible {
    /// The timestep bands with a non-finite figure.
    let bands: [String]
    /// One of the figures.
    let example: Double
    /// The model evaluated.
    let model: String

    var description: String {
        "the held-out loss of '\(model)' is \(example) in band\(bands.count == 1 ? "" : "s") \(bands.joined(separator: ", ")): its weights or the data hold NaN or infinite values (heldout.csv was written for inspection)"
    }
}
