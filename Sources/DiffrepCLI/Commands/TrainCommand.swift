import ArgumentParser
import Diffusion
import Toys
import Foundation
import PNGIO
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
    @Option(help: "Total optimisation steps.")
    var steps = 10_000
    @Option(help: "Images per step.")
    var batchSize = 32
    @Option(help: "Peak AdamW learning rate.")
    var learningRate: Float = 3e-4
    @Option(help: "Block output channels, comma-separated (one per resolution level).")
    var channels = "64,128,128"
    @Option(help: "Resolution levels that get self-attention (0-based, comma-separated; empty for none).")
    var attention = "1"
    @Option(help: "ResNet layers per block.")
    var layersPerBlock = 1
    @Option(help: "Image size for toys.")
    var size = 32
    @Option(help: "Checkpoint every N steps.")
    var checkpointEvery = 500
    @Option(help: "Seed for initialisation and every batch.")
    var seed: UInt64 = 0
    @Flag(help: "Continue from OUT/checkpoint (exactly where it stopped).")
    var resume = false
    @Option(help: "Start from the weights of this diffusers-format model folder (its architecture replaces --channels, --attention, --layers-per-block).")
    var initFrom: String?
    @Option(help: "How the toys are posed: 'random' (uniform 3D rotations) or 'canonical' (one upright pose per shape; with --camera the model learns what each view of a class looks like). Recorded in the model's training_data.json; --resume reads it from there.")
    var pose: ToyPose = .random
    @Flag(help: "Train a camera-aware model: each image's camera direction enters as 3 extra input planes (toys only; no mirroring). With --init-from, the new inputs start at zero, so training starts from exactly that model.")
    var camera = false
    @Flag(help: "Train a camera-aware model that is told each image's camera through its class label: 16 azimuth × 3 elevation view bins, one class-embedding row per (class, bin), started from the class's row (toys only; needs a class-conditional --init-from). The class-embedding rows learn at 20× the learning rate. Learns views far faster than --camera's input planes.")
    var cameraBins = false

    func validate() throws {
        guard steps > 0, batchSize > 0, checkpointEvery > 0, size >= 8 else {
            throw ValidationError("--steps, --batch-size, --checkpoint-every must be positive and --size ≥ 8")
        }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive") }
        _ = try parsedChannels()
        if (camera || cameraBins) && data != "toys" { throw ValidationError("--camera and --camera-bins need data with cameras: use --data toys") }
        if camera && cameraBins { throw ValidationError("--camera and --camera-bins are two routes for the same thing: pick one") }
        if cameraBins && initFrom == nil && !resume { throw ValidationError("--camera-bins starts from a trained class-conditional model: give --init-from") }
        if pose != .random && data != "toys" { throw ValidationError("--pose applies to --data toys") }
        if resume && (camera || cameraBins || initFrom != nil) {
            throw ValidationError("--resume continues the checkpoint's own model: drop --camera, --camera-bins and --init-from")
        }
    }

    func parsedChannels() throws -> [Int] {
        let c = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !c.isEmpty, c.allSatisfy({ $0 > 0 && $0 % 8 == 0 }) else {
            throw ValidationError("--channels must be positive multiples of 8, e.g. 64,128,128")
        }
        return c
    }

    func unetConfig(classes: Int?) throws -> UNet2DConfig {
        let ch = try parsedChannels()
        let attn = Set(attention.split(separator: ",").compactMap { Int($0) })
        var c = UNet2DConfig()
        c.sampleSize = size
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
        let outURL = try OutputFolder.prepare(out)
        let ckpt = outURL.appendingPathComponent("checkpoint")
        var pose = self.pose
        if resume, data == "toys" {     // the data the run started with, whatever --pose says now
            pose = try ToyDataset.pose(ofModel: ckpt.appendingPathComponent("model"))
            if pose != self.pose && self.pose != .random {
                throw ValidationError("--resume: the checkpoint was trained with --pose \(pose.rawValue), not \(self.pose.rawValue)")
            }
        }
        let source: TrainingData = data == "toys" ? ToyTrainingData(dataset: ToyDataset(seed: seed, size: size, pose: pose))
            : try PNGFolderData(folder: URL(fileURLWithPath: data))
        let trainer: DenoiserTrainer
        if resume {
            let interrupted = outURL.appendingPathComponent(".checkpoint.old")   // a save that died mid-swap
            guard FileManager.default.fileExists(atPath: ckpt.path) || FileManager.default.fileExists(atPath: interrupted.path) else {
                throw ValidationError("--resume: no checkpoint at '\(ckpt.path)'")
            }
            trainer = try DenoiserTrainer.resume(from: ckpt, data: source)
            log("resumed at step \(trainer.step) from \(ckpt.path)")
        } else {
            var tc = TrainingConfig()
            tc.batchSize = batchSize
            tc.learningRate = learningRate
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
            } else {
                unet = UNet2D(config: try unetConfig(classes: source.numClasses), seed: seed)
            }
            if camera && !unet.readsCamera { unet = UNet2D(cameraAwareFrom: unet) }
            if cameraBins && unet.config.cameraBins == nil { unet = UNet2D(cameraBinsFrom: unet, bins: CameraBins()) }
            trainer = DenoiserTrainer(unet: unet, schedule: DDPMSchedule(), data: source, config: tc)
            log("training a UNet2D with \(unet.parameters.scalarCount) parameters")
        }
        var manifest = RunManifest(subcommand: "train", version: DiffrepVersion.string, seed: seed, settings: [
            "data": .string(data), "steps": .int(steps), "batch_size": .int(trainer.config.batchSize),
            "learning_rate": JSONValue(trainer.config.learningRate), "unet": try JSONValue(encoding: trainer.unet.config.jsonSummary),
            "resumed_from_step": .int(trainer.step), "pose": data == "toys" ? .string(pose.rawValue) : .null, "camera_aware": .bool(trainer.unet.isCameraAware),
            "init_from": initFrom.map(JSONValue.string) ?? .null])
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

/// Every PNG in a folder (sorted by name), unlabelled, all of one size.
struct PNGFolderData: TrainingData {
    let images: [Tensor]
    var count: Int? { images.count }
    var numClasses: Int? { nil }

    init(folder: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !names.isEmpty else { throw ValidationError("no PNG files in '\(folder.path)'") }
        images = try names.map { try PNG.readTensor(folder.appendingPathComponent($0).path, channels: 3) }
        guard images.allSatisfy({ $0.shape == images[0].shape }) else {
            throw ValidationError("the PNGs in '\(folder.path)' differ in size; all must match")
        }
    }

    func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        (Tensor.concat(indices.map { images[$0].reshaped([1] + images[$0].shape) }, axis: 0), nil)
    }
}
extension ToyPose: ExpressibleByArgument {}
