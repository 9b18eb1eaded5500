import ArgumentParser
import Diffusion
import JSON
import Toys
import Foundation
import RunSupport
import TensorCore

/// `diffrep train`: train a class-conditional UNet2D on the procedural toys (generated on the
/// fly) or on a folder of PNGs; checkpoints atomically and resumes exactly.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a denoiser (DDPM ε-prediction) on the toys or on a folder of PNGs.",
        discussion: "The checkpoint's model/ folder is a diffusers-format model usable with --model.")

    @Option(help: "Training data: 'toys' (procedural, generated on the fly) or a folder of PNG images.")
    var data = "toys"
    @Option(help: "Output folder: checkpoint/, loss.csv, loss.png, manifest.json.")
    var out = "out/train"
    @Option(parsing: .unconditional, help: "Total optimisation steps.")
    var steps = 10_000
    @Option(parsing: .unconditional, help: "Images per step.")
    var batchSize = 32
    @Option(parsing: .unconditional, help: "Peak AdamW learning rate (default 3e-4; with --resume, the checkpoint's unless given — lower it after a NaN).")
    var learningRate: Float?
    /// The learning rate of a new run.
    static let defaultLearningRate: Float = 3e-4
    @Option(help: "Block output channels, comma-separated (one per resolution level, 1 to 8 levels): multiples of 32 from 32 to 8192 (8 GroupNorm groups, 32-wide attention heads). --size must be a multiple of 2^(levels − 1).")
    var channels = "64,128,128"
    @Option(help: "Resolution levels that get self-attention (0-based, below the number of --channels entries, comma-separated; empty for none).")
    var attention = "1"
    @Option(parsing: .unconditional, help: "ResNet layers per block.")
    var layersPerBlock = 1
    @Option(parsing: .unconditional, help: "Image size for toys (8 to 1024, a multiple of 2^(levels − 1)); a PNG folder's images set their own size.")
    var size = 32
    @Option(parsing: .unconditional, help: "Checkpoint every N steps.")
    var checkpointEvery = 500
    @Option(parsing: .unconditional, help: "Seed for initialisation and every batch.")
    var seed: UInt64 = 0
    @Flag(help: "Continue from OUT/checkpoint (exactly where it stopped).")
    var resume = false
    @Option(help: "Start from the weights of this diffusers-format model folder (its architecture replaces --channels, --attention, --layers-per-block).")
    var initFrom: String?
    @Option(help: "How the toys are posed: 'random' (uniform 3D rotations) or 'canonical' (one upright pose per shape; with --camera the model learns what each view of a class looks like). Recorded in the model's training_data.json; --resume reads it from there.")
    var pose: ToyPose = .random
    @Flag(help: "Train a camera-aware model: each image's camera direction enters as 3 extra input planes (toys only; no mirroring). With --init-from, the new inputs start at zero, so training starts from exactly that model.")
    var camera = false
    @OptionGroup var resources: ResourceOptions
    @Flag(help: "Train a camera-aware model that is told each image's camera through its class label: 16 azimuth × 3 elevation view bins, one class-embedding row per (class, bin), started from the class's row (toys only; needs a class-conditional --init-from). The class-embedding rows learn at 20× the learning rate. Learns views far faster than --camera's input planes.")
    var cameraBins = false
    @Flag(help: "Train a multi-view model: each image is four views of one toy scene a quarter turn apart, tiled 2×2 (twice --size). The network runs each tile as its own view, told that view's camera through its view bins, and lets the four views attend to each other (MVDream-style). Use with --camera-bins and an --init-from model trained on single views. Recorded in training_data.json; diffrep nerf then denoises its views four at a time.")
    var viewTiles = false
    @Option(parsing: .unconditional, help: "Widen the --init-from model before training: 2 doubles every channel space (block_out_channels 32,64,64 → 64,128,128, four times the weights), each new channel a copy of an old one, so the wider network starts from exactly the --init-from model's function (Net2Net). Needs block widths that are multiples of 4 × norm_num_groups and freq_shift 0.")
    var widen: Int?
    @Option(parsing: .unconditional, help: "With --widen: relative noise added to the widened weights (each tensor's std × this × N(0, 1), seeded by --seed) so the copies of a channel can learn apart.")
    var widenNoise: Float = 1e-3

    func validate() throws {
        try OptionCheck.range("--steps", steps, OptionLimits.iterations)
        try OptionCheck.range("--batch-size", batchSize, OptionLimits.batchSize)
        try OptionCheck.range("--checkpoint-every", checkpointEvery, 1...Int.max)
        try OptionCheck.range("--size", size, OptionLimits.trainSize)
        try OptionCheck.range("--layers-per-block", layersPerBlock, OptionLimits.layersPerBlock)
        try OptionCheck.positive("--learning-rate", learningRate)
        let levels = try parsedChannels().count
        _ = try parsedAttention()
        if data == "toys" && initFrom == nil && !resume {
            try Self.checkDivisible("--size \(size)", side: size, levels: levels)
        }
        if (camera || cameraBins) && data != "toys" { throw ValidationError("--camera and --camera-bins need data with cameras: use --data toys") }
        if camera && cameraBins { throw ValidationError("--camera and --camera-bins are two routes for the same thing: pick one") }
        if cameraBins && initFrom == nil && !resume { throw ValidationError("--camera-bins starts from a trained class-conditional model: give --init-from") }
        if viewTiles && (data != "toys" || !cameraBins) && !resume { throw ValidationError("--view-tiles needs --data toys and --camera-bins") }
        if pose != .random && data != "toys" { throw ValidationError("--pose applies to --data toys") }
        if resume && (camera || cameraBins || viewTiles || initFrom != nil || widen != nil) {
            throw ValidationError("--resume continues the checkpoint's own model: drop --camera, --camera-bins, --view-tiles, --init-from and --widen")
        }
        if let widen {
            if widen != 2 { throw ValidationError("--widen \(widen): only 2 is supported (every channel space doubled)") }
            if initFrom == nil { throw ValidationError("--widen widens a trained model: give --init-from") }
        }
        if !(widenNoise.isFinite && widenNoise >= 0) { throw ValidationError("--widen-noise must be a finite number ≥ 0, got \(widenNoise)") }
    }

    /// `--channels` as numbers: 1 to 8 entries, each a multiple of 32 in 32…8192.
    func parsedChannels() throws -> [Int] {
        let c = try OptionCheck.integers("--channels", channels, allowed: OptionLimits.channels)
        guard OptionLimits.levels.contains(c.count) else {
            throw ValidationError("--channels '\(channels)' has \(c.count) entries: allowed \(OptionLimits.levels.lowerBound)…\(OptionLimits.levels.upperBound) (one per resolution level)")
        }
        if let (i, n) = c.enumerated().first(where: { $0.element % 32 != 0 }) {
            throw ValidationError("--channels '\(channels)': entry \(i + 1), \(n), is not a multiple of 32 (8 GroupNorm groups and 32-wide attention heads), e.g. 64,128,128")
        }
        return c
    }

    /// `--attention` as levels, each below the number of `--channels` entries.
    func parsedAttention() throws -> Set<Int> {
        let levels = try parsedChannels().count
        return Set(try OptionCheck.integers("--attention", attention, allowed: 0...(levels - 1), allowEmpty: true))
    }

    /// Throws unless `side` (of `what`) is divisible by 2^(levels − 1), which the UNet's
    /// downsampling needs.
    static func checkDivisible(_ what: String, side: Int, levels: Int) throws {
        let factor = 1 << (levels - 1)
        guard side >= 8, side % factor == 0 else {
            throw ValidationError("\(what) cannot be used: the UNet's \(levels) levels need a side of at least 8 that is a multiple of \(factor) (2^(levels − 1))")
        }
    }

    func unetConfig(classes: Int?, sampleSize: Int) throws -> UNet2DConfig {
        let ch = try parsedChannels()
        let attn = try parsedAttention()
        var c = UNet2DConfig()
        c.sampleSize = sampleSize
        c.blockOutChannels = ch
        c.layersPerBlock = layersPerBlock
        c.downBlockTypes = ch.indices.map { attn.contains($0) ? "AttnDownBlock2D" : "DownBlock2D" }
        c.upBlockTypes = ch.indices.reversed().map { attn.contains($0) ? "AttnUpBlock2D" : "UpBlock2D" }
        c.normNumGroups = 8
        c.attentionHeadDim = 32
        c.numClassEmbeds = classes.map { $0 + 1 }          // + the null class for guidance
        c.flipSinToCos = true
        try c.validate()
        return c
    }

    func run() throws {
        let output = try OutputRun.begin(out, staged: false)    // locked; a killed run's temporaries removed
        defer { output.end() }
        let outURL = output.folder
        let ckpt = outURL.appendingPathComponent("checkpoint")
        var pose = self.pose
        var viewTiles = self.viewTiles
        if resume, data == "toys" {     // the data the run started with, whatever --pose says now
            pose = try ToyDataset.pose(ofModel: ckpt.appendingPathComponent("model"))
            viewTiles = QuarterTurnTiles.marks(try TrainingDataCard.read(modelFolder: ckpt.appendingPathComponent("model")))
            if pose != self.pose && self.pose != .random {
                throw ValidationError("--resume: the checkpoint was trained with --pose \(pose.rawValue), not \(self.pose.rawValue)")
            }
        }
        let toys = ToyDataset(seed: seed, size: size, pose: pose)
        let source: TrainingData = data != "toys" ? try PNGFolderData(folder: URL(fileURLWithPath: data))
            : viewTiles ? ToyViewTiles(dataset: toys) as TrainingData : ToyTrainingData(dataset: toys)
        let dataSide = (source as? PNGFolderData)?.side ?? (viewTiles ? 2 * size : size)
        let trainer: DenoiserTrainer
        if resume {
            let interrupted = outURL.appendingPathComponent(".checkpoint.old")   // a save that died mid-swap
            guard FileManager.default.fileExists(atPath: ckpt.path) || FileManager.default.fileExists(atPath: interrupted.path) else {
                throw ValidationError("--resume: no checkpoint at '\(ckpt.path)'")
            }
            let savedConfig = ckpt.appendingPathComponent("model/config.json")
            if FileManager.default.fileExists(atPath: savedConfig.path) {      // before the weights are allocated
                try resources.check(memoryEstimate(try UNet2DConfig(contentsOf: savedConfig), batchSize: 1))
            }
            trainer = try DenoiserTrainer.resume(from: ckpt, data: source)
            if source is PNGFolderData { try Self.checkDivisible("the PNGs in '\(data)' (\(dataSide)×\(dataSide))", side: dataSide, levels: trainer.unet.config.blockOutChannels.count) }
            try resources.check(memoryEstimate(trainer.unet.config, batchSize: trainer.config.batchSize))
            log("resumed at step \(trainer.step) from \(ckpt.path)")
            if let learningRate, learningRate != trainer.config.learningRate {
                log("learning rate \(trainer.config.learningRate) → \(learningRate) (--learning-rate)")
                try trainer.setLearningRate(learningRate)
            }
        } else {
            var tc = TrainingConfig()
            tc.batchSize = batchSize
            tc.learningRate = learningRate ?? Self.defaultLearningRate
            tc.seed = seed
            tc.randomFlip = data == "toys" && !camera && !cameraBins
            if cameraBins { tc.classEmbeddingLearningRateScale = 20 }
            var unet: UNet2D
            if let initFrom {
                unet = try UNet2D(contentsOf: URL(fileURLWithPath: initFrom))
                guard unet.config.classCount == source.numClasses.map({ $0 + 1 }) else {
                    throw ValidationError("--init-from '\(initFrom)' takes \(unet.config.classCount.map(String.init) ?? "no") class labels; the data needs \(source.numClasses.map { String($0 + 1) } ?? "none")")
                }
                log("starting from the weights of \(initFrom)")
                if let widen {
                    let before = unet.config.blockOutChannels
                    try resources.check(memoryEstimate(unet.config.widened(by: widen), batchSize: batchSize))
                    do { unet = try unet.widened(by: widen, noise: widenNoise, seed: seed) } catch let e as UNetWidenError {
                        throw ValidationError("--widen \(widen): '\(initFrom)': \(e)")
                    }
                    log("widened ×\(widen): block_out_channels \(before.map(String.init).joined(separator: ",")) → \(unet.config.blockOutChannels.map(String.init).joined(separator: ",")) (noise \(widenNoise))")
                }
            } else {
                if source is PNGFolderData { try Self.checkDivisible("the PNGs in '\(data)' (\(dataSide)×\(dataSide))", side: dataSide, levels: try parsedChannels().count) }
                let config = try unetConfig(classes: source.numClasses, sampleSize: dataSide)
                try resources.check(memoryEstimate(config, batchSize: batchSize))      // before the weights are allocated
                unet = UNet2D(config: config, seed: seed)
            }
            if source is PNGFolderData { try Self.checkDivisible("the PNGs in '\(data)' (\(dataSide)×\(dataSide))", side: dataSide, levels: unet.config.blockOutChannels.count) }
            try resources.check(memoryEstimate(unet.config, batchSize: batchSize))
            if camera && !unet.readsCamera { unet = UNet2D(cameraAwareFrom: unet) }
            if cameraBins && unet.config.cameraBins == nil { unet = UNet2D(cameraBinsFrom: unet, bins: CameraBins()) }
            if (unet.config.sampleSize != dataSide || viewTiles) && data == "toys" {
                try Self.checkDivisible("--size \(size)", side: size, levels: unet.config.blockOutChannels.count)
                unet = UNet2D(copying: unet, sampleSize: dataSide, viewTiles: viewTiles)
            }
            trainer = DenoiserTrainer(unet: unet, schedule: DDPMSchedule(), data: source, config: tc)
            log("training a UNet2D with \(unet.parameters.scalarCount) parameters")
        }
        var manifest = RunManifest(subcommand: "train", version: DiffrepVersion.string, seed: seed, settings: [
            "data": .string(data), "steps": .int(steps), "batch_size": .int(trainer.config.batchSize),
            "learning_rate": JSONValue(trainer.config.learningRate), "unet": try JSONValue(encoding: trainer.unet.config.jsonSummary),
            "resumed_from_step": .int(trainer.step), "pose": data == "toys" ? .string(pose.rawValue) : .null, "camera_aware": .bool(trainer.unet.isCameraAware), "view_tiles": .bool(viewTiles),
            "init_from": initFrom.map(JSONValue.string) ?? .null,
            "widen": widen.map(JSONValue.int) ?? .null, "widen_noise": widen != nil ? JSONValue(widenNoise) : .null])
        let csvURL = outURL.appendingPathComponent("loss.csv")
        let csv = try CSVLog(url: csvURL, columns: ["loss"], resumingAfter: resume ? trainer.step : nil)
        let bar = ProgressBar("train", total: steps, initialStep: trainer.step)
        var recent: [Float] = []
        while trainer.step < steps {
            let loss = trainer.trainStep()
            guard loss.isFinite else {
                throw ValidationError("loss became \(loss) at step \(trainer.step); the last checkpoint is intact — lower --learning-rate and --resume")
            }
            recent.append(loss)
            if recent.count > 50 { recent.removeFirst() }
            try csv.append(step: trainer.step, values: [loss])
            bar.update(step: trainer.step, extra: ["loss": Double(recent.reduce(0, +) / Float(recent.count))])
            if trainer.step % checkpointEvery == 0 || trainer.step == steps {
                try trainer.saveCheckpoint(to: ckpt)
                try writeLossPlot(csvURL, to: outURL.appendingPathComponent("loss.png"))
            }
        }
        bar.finish()
        manifest.addOutput("checkpoint/model")
        manifest.addOutput("loss.csv")
        manifest.addOutput("loss.png")
        manifest.measurements["final_loss_mean50"] = Double(recent.reduce(0, +) / Float(Swift.max(recent.count, 1)))
        manifest.finish()
        try manifest.write(to: outURL.appendingPathComponent("manifest.json"))
        log("done: \(ckpt.appendingPathComponent("model").path)")
    }

    /// The weights with their gradients, AdamW moments and EMA, and the training activations of
    /// a batch (kept for the backward pass).
    func memoryEstimate(_ config: UNet2DConfig, batchSize: Int) -> MemoryEstimate {
        var e = MemoryEstimate()
        e.add("weights, gradients, AdamW moments and EMA", floats: 5 * ResourceFigures.unetParameters(config))
        e.add("training activations", floats: ResourceFigures.unetActivations(config, batch: Double(batchSize), training: true))
        return e
    }

    /// The loss curve (raw and a 100-step moving average), log scale.
    func writeLossPlot(_ csv: URL, to url: URL) throws {
        let (_, rows) = try CSVLog.read(csv)
        guard rows.count > 1 else { return }
        var plot = LinePlot(title: "training loss", xLabel: "step", yLabel: "loss", logY: true)
        let x = rows.map { $0[0] }, y = rows.map { $0[1] }
        plot.add("loss", x: x, y: y, color: LinePlot.Color(190, 190, 220))
        plot.add("mean of 100", x: x, y: LinePlot.movingAverage(y, window: 100))
        try plot.write(to: url)
    }
}

extension ToyPose: ExpressibleByArgument {}
