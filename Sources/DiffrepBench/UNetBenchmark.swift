// diffrep-bench unet: UNet2D forward and forward+backward at batch 8, 3×32×32, in two
// configurations, optionally against diffusers' UNet2DModel in PyTorch on the CPU
// (Benchmarks/unet_bench.py) measured in the same run, interleaved: Swift, PyTorch, Swift, …
//
//   swift run -c release diffrep-bench unet [--compare-torch] [--reps N] [--rounds R] [--configs toys,cifar10]
//
// (a) toys:    block_out_channels (32, 64, 64), one layer per block, attention at 16×16
//              (the shipped default model's architecture, without its class embedding);
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
        usage: diffrep-bench unet [--compare-torch] [--reps N] [--rounds R] [--configs toys,cifar10] [--threads T]
          UNet2D forward (no tape) and forward+backward (sum loss, gradients to every parameter),
          batch 8, 3×32×32; milliseconds, median over every repetition of every round
          --compare-torch  also time diffusers' UNet2DModel (Benchmarks/unet_bench.py, python3 + torch),
                           interleaved: Swift, PyTorch, Swift, … (R PyTorch rounds, R + 1 Swift rounds)
          --reps N         timed repetitions per measurement and round (default 3)
          --rounds R       PyTorch rounds with --compare-torch (default 1)
          --configs LIST   toys (channels 32,64,64), cifar10 (google/ddpm-cifar10-32); default both
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
        return [Case(name: "toys", title: "(a) 32,64,64 L1 attn@16", config: toys),
                Case(name: "cifar10", title: "(b) ddpm-cifar10-32", config: cifar)]
    }()

    struct Options {
        var compareTorch = false, reps = 3, rounds = 1, threads = 2
        var configs = ["toys", "cifar10"]

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
                case "--rounds": guard let v = positive(a) else { return nil }; rounds = v
                case "--threads": guard let v = positive(a) else { return nil }; threads = v
                case "--configs":
                    let list = (args.popFirst() ?? "").split(separator: ",").map(String.init)
                    guard !list.isEmpty, list.allSatisfy({ n in UNetBenchmark.cases.contains { $0.name == n } }) else {
                        print("--configs takes a comma-separated list of: toys, cifar10\n\n\(UNetBenchmark.usage)")
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

    /// What unet_bench.py --json prints.
    struct TorchRun: Decodable {
        struct Config: Decodable {
            let name: String
            let params: Int
            let forward_ms: [Double]
            let forward_backward_ms: [Double]
        }
        let torch: String
        let diffusers: String
        let threads: Int
        let configs: [Config]
    }

    static func run(_ options: Options) {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        let chosen = cases.filter { options.configs.contains($0.name) }
        let unets = chosen.map { UNet2D(config: $0.config, seed: 0) }
        var rng = RandomGenerator(seed: 0)
        let x = rng.normal([batch, 3, size, size])                              // [8, 3, 32, 32]
        let order = options.compareTorch
            ? "interleaved S" + String(repeating: " P S", count: options.rounds) : "Swift only"
        print("diffrep-bench unet — UNet2D batch \(batch), 3×\(size)×\(size); \(ProcessInfo.processInfo.activeProcessorCount) "
              + "cores, \(options.threads) threads; median ms of \(options.reps) reps per round, \(order)\n")

        var swift = Timings(), torch = Timings()
        var torchRun: TorchRun?
        var torchNote: String?
        func swiftRound() {
            for (c, unet) in zip(chosen, unets) {
                let forward = { _ = GradMode.withoutGrad { unet.predict(x, timesteps: timesteps, classLabels: nil) } }
                let forwardBackward = {
                    unet.parameters.zeroGrad()
                    unet.predict(x, timesteps: timesteps, classLabels: nil).sum().backward()
                }
                forward()
                swift.forward[c.name, default: []] += (0..<options.reps).map { _ in milliseconds(forward) }
                forwardBackward()
                swift.forwardBackward[c.name, default: []] += (0..<options.reps).map { _ in milliseconds(forwardBackward) }
                unet.parameters.zeroGrad()
            }
        }

        swiftRound()
        if options.compareTorch {
            for _ in 0..<options.rounds {
                switch torchReference(options) {
                case .success(let r):
                    torchRun = r
                    for c in r.configs {
                        torch.forward[c.name, default: []] += c.forward_ms
                        torch.forwardBackward[c.name, default: []] += c.forward_backward_ms
                    }
                case .failure(let e):
                    torchNote = "PyTorch columns skipped: \(e)"
                }
                if torchNote != nil { break }
                swiftRound()
            }
        }

        var header = col("config", 26, left: true) + col("params", 9) + col("fwd ms", 10) + col("f+b ms", 10)
        if torchRun != nil { header += col("torch fwd", 11) + col("torch f+b", 11) + col("fwd ×", 8) + col("f+b ×", 8) }
        print(header)
        var notes: [String] = []
        for (c, unet) in zip(chosen, unets) {
            let params = unet.parameters.scalarCount
            let (f, fb) = (median(swift.forward[c.name] ?? []), median(swift.forwardBackward[c.name] ?? []))
            var line = col(c.title, 26, left: true) + col(String(format: "%.2fM", Double(params) / 1e6), 9)
                + col(fmt(f, 1), 10) + col(fmt(fb, 1), 10)
            if let torchRun, let tc = torchRun.configs.first(where: { $0.name == c.name }) {
                let (tf, tfb) = (median(torch.forward[c.name] ?? []), median(torch.forwardBackward[c.name] ?? []))
                line += col(fmt(tf, 1), 11) + col(fmt(tfb, 1), 11) + col(fmt(f / tf), 8) + col(fmt(fb / tfb), 8)
                if tc.params != params { notes.append("\(c.name): PyTorch has \(tc.params) parameters, Swift \(params)") }
            }
            print(line)
        }
        if let torchRun {
            let policy = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "PASSIVE"
            print("\n× = Swift / PyTorch (\(torchRun.torch), diffusers \(torchRun.diffusers), \(torchRun.threads) threads, "
                  + "OMP_WAIT_POLICY=\(policy)); "
                  + "Swift \(options.reps * (options.rounds + 1)) and PyTorch \(options.reps * options.rounds) samples per cell")
        }
        for n in notes { print("WARNING: \(n)") }
        if let torchNote { print("\n\(torchNote)") }
    }

    /// Runs Benchmarks/unet_bench.py --json once, or says why it could not.
    static func torchReference(_ options: Options) -> Result<TorchRun, Failure> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [root.appendingPathComponent("Benchmarks/unet_bench.py").path,
                          FileManager.default.currentDirectoryPath + "/Benchmarks/unet_bench.py"]
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return .failure(Failure(description: "Benchmarks/unet_bench.py not found"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--json", "--threads", "\(options.threads)", "--reps", "\(options.reps)",
                             "--configs", options.configs.joined(separator: ",")]
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("unet_bench-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        var environment = ProcessInfo.processInfo.environment
        if environment["OMP_WAIT_POLICY"] == nil { environment["OMP_WAIT_POLICY"] = "PASSIVE" }
        process.environment = environment
        process.standardOutput = out
        guard let errHandle = try? FileHandle(forWritingTo: errURL) else {
            return .failure(Failure(description: "cannot create a temporary file for python's messages"))
        }
        process.standardError = errHandle
        do { try process.run() } catch {
            return .failure(Failure(description: "could not start python3 (\(error))"))
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errHandle.close()
        guard process.terminationStatus == 0 else {
            let errText = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            let last = errText.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            return .failure(Failure(description: "python3 + torch + diffusers not usable: \(last)"))
        }
        do { return .success(try JSONDecoder().decode(TorchRun.self, from: data)) } catch {
            return .failure(Failure(description: "unreadable output from unet_bench.py (\(error))"))
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    // MARK: - Small helpers

    static func milliseconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
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
