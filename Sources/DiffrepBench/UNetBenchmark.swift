// diffrep-bench unet: UNet2D forward and forward+backward at batch 8, 3×32×32, in three
// configurations, optionally against diffusers' UNet2DModel in PyTorch on the CPU
// (Benchmarks/unet_bench.py --serve) measured in the same run, repetition by repetition: each
// Swift repetition is followed by the same PyTorch one. With one thread both sides are timed in
// their thread's CPU time, which stays comparable on a machine shared with other work.
//
//   swift run -c release diffrep-bench unet [--compare-torch] [--reps N] [--configs toys,mv,cifar10] [--threads T]
//
// (a) toys:    block_out_channels (32, 64, 64), one layer per block, attention at 16×16
//              (the shipped default model's architecture, without its class embedding);
// (m) mv:      the multi-view default of `diffrep nerf` (Assets/toys-unet-mv/config.json): the
//              same with 343 class rows, 8 views = 2 scenes whose attention joins their 4 views;
// (b) cifar10: the google/ddpm-cifar10-32 configuration (35.7 M parameters).
import Foundation
import Diffusion
import TensorCore

/// Runs `diffrep-bench unet` with the arguments after `unet`; prints the table.
func runUNetBenchmark(arguments: [String]) {
    guard let options = UNetBenchmark.Options(parsing: arguments) else { return }
    UNetBenchmark.run(options)
}

/// The UNet benchmark (namespaced so its helpers never clash with other benchmarks').
enum UNetBenchmark {
    static let usage = """
        usage: diffrep-bench unet [--compare-torch] [--reps N] [--configs toys,mv,cifar10] [--threads T] [--wall-clock]
          UNet2D forward (no tape) and forward+backward (sum loss, gradients to every parameter),
          batch 8, 3×32×32; milliseconds, median over the repetitions
          --compare-torch  also time diffusers' UNet2DModel (Benchmarks/unet_bench.py --serve, python3 + torch),
                           each Swift repetition followed by the same PyTorch one
          --reps N         timed repetitions per measurement (default 3)
          --configs LIST   toys (channels 32,64,64), mv (the multi-view nerf default: toys + 343 classes,
                           4 views attending together), cifar10 (google/ddpm-cifar10-32); default all three
          --wall-clock     time the wall clock with one thread too (default there: the thread's CPU time)
          --threads T      threads on both sides (default 2): OpenBLAS and Parallel.workers in Swift,
                           torch.set_num_threads in PyTorch (run with OMP_WAIT_POLICY=PASSIVE unless set:
                           spinning OpenMP threads slow PyTorch down many times on a busy machine)
        """

    static let batch = 8, size = 32
    /// One timestep per batch item (the same as unet_bench.py's).
    static let timesteps: [Float] = (0..<8).map { Float(10 + 125 * $0) }

    /// One benchmarked architecture.
    struct Case {
        let name: String, title: String, config: UNet2DConfig
    }

    static let cases: [Case] = {
        var toys = UNet2DConfig()
        toys.sampleSize = 32
        toys.blockOutChannels = [32, 64, 64]
        toys.layersPerBlock = 1
        toys.downBlockTypes = ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D"]
        toys.upBlockTypes = ["UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]
        toys.normNumGroups = 8
        toys.attentionHeadDim = 32
        toys.flipSinToCos = true
        toys.freqShift = 0

        var cifar = UNet2DConfig()
        cifar.sampleSize = 32
        cifar.blockOutChannels = [128, 256, 256, 256]
        cifar.layersPerBlock = 2
        cifar.downBlockTypes = ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"]
        cifar.upBlockTypes = ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]
        cifar.attentionHeadDim = nil
        cifar.downsamplePadding = 0
        cifar.flipSinToCos = false
        cifar.freqShift = 1
        cifar.normNumGroups = 32
        cifar.normEps = 1e-6
        var multiView = toys
        multiView.sampleSize = 2 * toys.sampleSize
        multiView.viewTiles = true
        multiView.numClassEmbeds = 343
        return [Case(name: "toys", title: "(a) 32,64,64 L1 attn@16", config: toys),
                Case(name: "mv", title: "(m) multi-view default", config: multiView),
                Case(name: "cifar10", title: "(b) ddpm-cifar10-32", config: cifar)]
    }()

    struct Options {
        var compareTorch = false, wallClock = false, reps = 3, threads = 2
        var configs = ["toys", "mv", "cifar10"]

        /// Parses the arguments; prints the usage (or the problem) and returns nil when it should not run.
        init?(parsing arguments: [String]) {
            var args = arguments[...]
            func positive(_ flag: String) -> Int? {
                guard let v = args.popFirst().flatMap(Int.init), v > 0 else {
                    print("\(flag) needs a positive number\n\n\(UNetBenchmark.usage)")
                    return nil
                }
                return v
            }
            while let a = args.popFirst() {
                switch a {
                case "--compare-torch": compareTorch = true
                case "--reps": guard let v = positive(a) else { return nil }; reps = v
                case "--wall-clock": wallClock = true
                case "--threads": guard let v = positive(a) else { return nil }; threads = v
                case "--configs":
                    let list = (args.popFirst() ?? "").split(separator: ",").map(String.init)
                    guard !list.isEmpty, list.allSatisfy({ n in UNetBenchmark.cases.contains { $0.name == n } }) else {
                        print("--configs takes a comma-separated list of: toys, mv, cifar10\n\n\(UNetBenchmark.usage)")
                        return nil
                    }
                    configs = list
                case "-h", "--help": print(UNetBenchmark.usage); return nil
                default: print("unknown option \(a)\n\n\(UNetBenchmark.usage)"); return nil
                }
            }
        }
    }

    /// Every repetition's milliseconds, per configuration.
    struct Timings {
        var forward: [String: [Double]] = [:], forwardBackward: [String: [Double]] = [:]
    }

    static func run(_ options: Options) {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        let threadClock = options.threads == 1 && !options.wallClock
        let chosen = cases.filter { options.configs.contains($0.name) }
        let unets = chosen.map { UNet2D(config: $0.config, seed: 0) }
        var rng = RandomGenerator(seed: 0)
        let x = rng.normal([batch, 3, size, size])                              // [8, 3, 32, 32]
        let tiled = QuarterTurnTiles.tile(x)                                   // [2, 3, 64, 64]: 8 views, 2 scenes
        let clockName = threadClock ? "thread CPU time" : "wall clock"
        print("diffrep-bench unet — UNet2D batch \(batch), 3×\(size)×\(size); \(ProcessInfo.processInfo.activeProcessorCount) "
              + "cores, \(options.threads) threads, OpenBLAS \(BLAS.coreName) kernels, \(clockName); median ms of \(options.reps) reps"
              + (options.compareTorch ? ", each Swift repetition followed by the same PyTorch one\n" : "\n"))

        var torch: TorchServer? = nil
        var torchNote: String? = nil
        if options.compareTorch {
            do {
                torch = try TorchServer(script: "unet_bench.py", arguments: ["--threads", "\(options.threads)"])
            } catch { torchNote = "PyTorch columns skipped: \(error)" }
        }
        var swift = Timings(), reference = Timings()
        var torchParams: [String: Int] = [:]
        let clock = threadClock ? "thread" : "wall"
        for (c, unet) in zip(chosen, unets) {
            let forward: () -> Void, forwardBackward: () -> Void
            if c.config.viewTiles {
                let labels = [Int](repeating: 0, count: tiled.shape[0]), ts = Array(timesteps.prefix(tiled.shape[0]))
                forward = { _ = GradMode.withoutGrad { unet.predict(tiled, timesteps: ts, classLabels: labels) } }
                forwardBackward = {
                    unet.parameters.zeroGrad()
                    unet.predict(tiled, timesteps: ts, classLabels: labels).sum().backward()
                }
            } else {
                let labels = c.config.numClassEmbeds.map { _ in [Int](repeating: 0, count: batch) }
                forward = { _ = GradMode.withoutGrad { unet.predict(x, timesteps: timesteps, classLabels: labels) } }
                forwardBackward = {
                    unet.parameters.zeroGrad()
                    unet.predict(x, timesteps: timesteps, classLabels: labels).sum().backward()
                }
            }
            for (mode, body) in [("fwd", forward), ("fwd+bwd", forwardBackward)] {
                body()                                                             // warm-up, both sides
                _ = torch?.request(["config": c.name, "mode": mode, "reps": 1, "warmup": 1, "clock": clock])
                for _ in 0..<options.reps {
                    let ms = timed(threadClock, body)
                    let theirs = torch?.milliseconds(["config": c.name, "mode": mode, "reps": 1, "clock": clock]) ?? []
                    if mode == "fwd" {
                        swift.forward[c.name, default: []].append(ms)
                        reference.forward[c.name, default: []] += theirs
                    } else {
                        swift.forwardBackward[c.name, default: []].append(ms)
                        reference.forwardBackward[c.name, default: []] += theirs
                    }
                }
            }
            unet.parameters.zeroGrad()
            if let reply = torch?.request(["config": c.name, "mode": "fwd", "reps": 0, "clock": clock]),
               let p = reply["params"] as? Int { torchParams[c.name] = p }
        }

        var header = col("config", 26, left: true) + col("params", 9) + col("fwd ms", 10) + col("f+b ms", 10)
        if torch != nil { header += col("torch fwd", 11) + col("torch f+b", 11) + col("fwd ×", 8) + col("f+b ×", 8) }
        print(header)
        var notes: [String] = []
        for (c, unet) in zip(chosen, unets) {
            let params = unet.parameters.scalarCount
            let (f, fb) = (median(swift.forward[c.name] ?? []), median(swift.forwardBackward[c.name] ?? []))
            var line = col(c.title, 26, left: true) + col(String(format: "%.2fM", Double(params) / 1e6), 9)
                + col(fmt(f, 1), 10) + col(fmt(fb, 1), 10)
            if torch != nil {
                let (tf, tfb) = (median(reference.forward[c.name] ?? []), median(reference.forwardBackward[c.name] ?? []))
                line += col(fmt(tf, 1), 11) + col(fmt(tfb, 1), 11) + col(fmt(f / tf), 8) + col(fmt(fb / tfb), 8)
                if let p = torchParams[c.name], p != params { notes.append("\(c.name): PyTorch has \(p) parameters, Swift \(params)") }
            }
            print(line)
        }
        if let torch {
            let policy = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "PASSIVE"
            print("\n× = Swift / PyTorch (\(torch.ready["torch"] ?? "?"), diffusers \(torch.ready["diffusers"] ?? "?"), "
                  + "\(torch.ready["threads"] ?? "?") threads, OMP_WAIT_POLICY=\(policy)); \(options.reps) samples per cell and side")
            torch.close()
        }
        for n in notes { print("WARNING: \(n)") }
        if let torchNote { print("\n\(torchNote)") }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    // MARK: - Small helpers

    /// Milliseconds of `body`: this thread's CPU time (one thread: robust on a shared machine) or the wall clock.
    static func timed(_ threadClock: Bool, _ body: () -> Void) -> Double {
        var a = timespec(), b = timespec()
        let clock = threadClock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC
        clock_gettime(clock, &a)
        body()
        clock_gettime(clock, &b)
        return Double(b.tv_sec - a.tv_sec) * 1e3 + Double(b.tv_nsec - a.tv_nsec) / 1e6
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    static func fmt(_ x: Double, _ digits: Int = 2) -> String { x.isNaN ? "—" : String(format: "%.\(digits)f", x) }

    static func col(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: Swift.max(0, n - s.count))
        return left ? s + fill : fill + s
    }
}
