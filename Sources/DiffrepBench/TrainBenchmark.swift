// diffrep-bench train: `diffrep train`'s step (DenoiserTrainer.trainStep: flips, noise, class
// dropout, UNet forward, MSE, backward, gradient clipping, AdamW with warm-up, EMA) against the
// same training loop written with PyTorch + diffusers (Benchmarks/train_bench.py --serve), step by
// step in one run: each Swift step is followed by one PyTorch step. With one thread both sides
// are timed in their thread's CPU time, which stays comparable on a machine shared with other work.
//
//   swift run -c release diffrep-bench train [--compare-torch] [--steps N] [--batch B] [--threads T] [--config FILE]
//
// The model is the shipped default's architecture (Assets/toys-unet/config.json) with random
// weights unless --config names another diffusers config; the data are random images held in
// memory (the step's cost, not the toys renderer's: `diffrep train` renders toys on the fly).
import Diffusion
import Foundation
import TensorCore

/// Runs `diffrep-bench train` with the arguments after `train`; prints the table.
func runTrainBenchmark(arguments: [String]) {
    guard let options = TrainBenchmark.Options(parsing: arguments) else { return }
    TrainBenchmark.run(options)
}

/// The training-step benchmark (namespaced so its helpers never clash with other benchmarks').
enum TrainBenchmark {
    static let usage = """
        usage: diffrep-bench train [--compare-torch] [--steps N] [--batch B] [--threads T] [--config FILE] [--wall-clock]
          one `diffrep train` step (DenoiserTrainer.trainStep) on random in-memory images, milliseconds per step
          (median); the model: Assets/toys-unet/config.json's architecture, random weights
          --compare-torch  also run Benchmarks/train_bench.py (PyTorch + diffusers: the same step, AdamW, EMAModel),
                           each Swift step followed by one PyTorch step
          --steps N        timed steps per side (default 5; 2 untimed warm-up steps first)
          --batch B        images per step (default 32, `diffrep train`'s default)
          --threads T      threads on both sides (default 2; with 1, each side's thread CPU time)
          --config FILE    another diffusers UNet2DModel config.json (not a multi-view or camera-aware one)
          --wall-clock     time the wall clock with one thread too
        """

    struct Options {
        var compareTorch = false, wallClock = false, steps = 5, batch = 32, threads = 2
        var config: String? = nil

        init?(parsing arguments: [String]) {
            var args = arguments[...]
            while let a = args.popFirst() {
                switch a {
                case "--compare-torch": compareTorch = true
                case "--wall-clock": wallClock = true
                case "--config":
                    guard let v = args.popFirst() else { print("--config needs a file\n\n\(TrainBenchmark.usage)"); return nil }
                    config = v
                case "--steps", "--batch", "--threads":
                    guard let v = args.popFirst().flatMap(Int.init), v > 0 else {
                        print("\(a) needs a positive number\n\n\(TrainBenchmark.usage)")
                        return nil
                    }
                    switch a { case "--steps": steps = v; case "--batch": batch = v; default: threads = v }
                case "-h", "--help": print(TrainBenchmark.usage); return nil
                default: print("unknown option \(a)\n\n\(TrainBenchmark.usage)"); return nil
                }
            }
        }
    }

    /// A fixed set of random images in `[-1, 1]` with random labels, held in memory.
    struct RandomImages: TrainingData {
        let images: Tensor                                     // [count, C, S, S]
        let labels: [Int]?
        var count: Int? { images.shape[0] }
        let numClasses: Int?

        init(count: Int, channels: Int, size: Int, classes: Int?, seed: UInt64) {
            var rng = RandomGenerator(seed: seed)
            images = Tensor([count, channels, size, size], data: rng.uniformValues(count * channels * size * size).map { 2 * $0 - 1 })
            numClasses = classes
            labels = classes.map { n in rng.uniformValues(count).map { Swift.min(Int($0 * Float(n)), n - 1) } }
        }

        func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
            let per = images.count / images.shape[0]
            var out = [Float]()
            out.reserveCapacity(indices.count * per)
            for i in indices { out.append(contentsOf: images.data[(i * per)..<((i + 1) * per)]) }
            return (Tensor([indices.count] + Array(images.shape.dropFirst()), data: out), labels.map { l in indices.map { l[$0] } })
        }
    }

    static func run(_ options: Options) {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        let threadClock = options.threads == 1 && !options.wallClock
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let configPath = options.config ?? root.appendingPathComponent("Assets/toys-unet/config.json").path
        let config: UNet2DConfig
        do { config = try UNet2DConfig(contentsOf: URL(fileURLWithPath: configPath)) } catch {
            print("cannot read \(configPath): \(error)")
            return
        }
        guard !config.viewTiles, config.cameraBins == nil, config.inChannels == config.outChannels else {
            print("\(configPath): a multi-view or camera-aware model needs its own data; give a plain config")
            return
        }
        let unet = UNet2D(config: config, seed: 0)
        let data = RandomImages(count: 256, channels: config.inChannels, size: config.sampleSize,
                                classes: config.nullClass, seed: 1)
        var training = TrainingConfig()
        training.batchSize = options.batch
        let trainer = DenoiserTrainer(unet: unet, schedule: DDPMSchedule(), data: data, config: training)

        var torch: TorchServer? = nil
        var torchNote: String? = nil
        if options.compareTorch {
            do {
                torch = try TorchServer(script: "train_bench.py", arguments: [
                    "--config", configPath, "--batch", "\(options.batch)", "--threads", "\(options.threads)"])
            } catch { torchNote = "PyTorch column skipped: \(error)" }
        }
        let clockName = threadClock ? "thread CPU time" : "wall clock"
        print("diffrep-bench train — \(URL(fileURLWithPath: configPath).deletingLastPathComponent().lastPathComponent) "
              + "architecture (\(String(format: "%.2fM", Double(unet.parameters.scalarCount) / 1e6)) params, random weights), "
              + "batch \(options.batch), \(config.sampleSize)×\(config.sampleSize); \(ProcessInfo.processInfo.activeProcessorCount) cores, "
              + "\(options.threads) threads, OpenBLAS \(BLAS.coreName) kernels, \(clockName); median ms of \(options.steps) steps"
              + (torch != nil ? ", each Swift step followed by one PyTorch step\n" : "\n"))
        for _ in 0..<2 { trainer.trainStep() }                   // warm-up (train_bench.py warms up twice too)
        var ours: [Double] = [], theirs: [Double] = []
        var lastLoss: Float = .nan
        for _ in 0..<options.steps {
            ours.append(UNetBenchmark.timed(threadClock) { lastLoss = trainer.trainStep() })
            theirs += torch?.milliseconds(["steps": 1, "clock": threadClock ? "thread" : "wall"]) ?? []
        }
        let mine = UNetBenchmark.median(ours)
        print(UNetBenchmark.col("", 10, left: true) + UNetBenchmark.col("ms/step", 10) + UNetBenchmark.col("steps/s", 10))
        print(UNetBenchmark.col("Swift", 10, left: true) + UNetBenchmark.col(UNetBenchmark.fmt(mine, 1), 10)
              + UNetBenchmark.col(UNetBenchmark.fmt(1000 / mine), 10))
        if let torch {
            let ref = UNetBenchmark.median(theirs)
            print(UNetBenchmark.col("PyTorch", 10, left: true) + UNetBenchmark.col(UNetBenchmark.fmt(ref, 1), 10)
                  + UNetBenchmark.col(UNetBenchmark.fmt(1000 / ref), 10))
            print("\nSwift / PyTorch step time: \(UNetBenchmark.fmt(mine / ref)) (PyTorch \(torch.ready["torch"] ?? "?"), diffusers "
                  + "\(torch.ready["diffusers"] ?? "?"), \(torch.ready["threads"] ?? "?") threads, \(torch.ready["params"] ?? "?") params)")
            torch.close()
        }
        print("(last Swift loss \(lastLoss))")
        if let torchNote { print("\n\(torchNote)") }
    }
}
