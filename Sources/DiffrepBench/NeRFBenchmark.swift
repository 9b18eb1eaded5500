// diffrep-bench nerf: the NeRF renderer's rays per second, forward and forward+backward, for one
// 32×32 orbit view with 64 jittered samples per ray, against the same grid renderer in PyTorch
// (Benchmarks/nerf_render_bench.py) measured in the same run, interleaved: Swift, PyTorch, Swift.
// Also (Swift only) the hash-grid field at the same setting.
//
//   swift run -c release diffrep-bench nerf [--compare-torch] [--reps N] [--threads T]
import Diffreps
import Foundation
import TensorCore

/// Runs `diffrep-bench nerf` with the arguments after `nerf`; prints the table.
func runNeRFBenchmark(arguments: [String]) {
    guard let options = NeRFBenchmark.Options(parsing: arguments) else { return }
    NeRFBenchmark.run(options)
}

/// The renderer benchmark (namespaced so its helpers never clash with other benchmarks').
enum NeRFBenchmark {
    static let usage = """
        usage: diffrep-bench nerf [--compare-torch] [--reps N] [--threads T]
          volume rendering of one 32×32 orbit view (1024 rays, 64 jittered samples per ray) of a
          random 32³ voxel grid, forward (no tape) and forward+backward (image sum → both grids);
          rays per second from the median milliseconds; also the hash-grid field (8 levels, 32-wide MLP)
          --compare-torch  also time Benchmarks/nerf_render_bench.py (the same renderer in PyTorch),
                           interleaved: Swift, PyTorch, Swift
          --reps N         timed repetitions per measurement and round (default 30)
          --threads T      threads on both sides (default 2)
        """

    struct Options {
        var compareTorch = false, reps = 30, threads = 2

        init?(parsing arguments: [String]) {
            var args = arguments[...]
            while let a = args.popFirst() {
                switch a {
                case "--compare-torch": compareTorch = true
                case "--reps", "--threads":
                    guard let v = args.popFirst().flatMap(Int.init), v > 0 else {
                        print("\(a) needs a positive number\n\n\(NeRFBenchmark.usage)")
                        return nil
                    }
                    if a == "--reps" { reps = v } else { threads = v }
                case "-h", "--help": print(NeRFBenchmark.usage); return nil
                default: print("unknown option \(a)\n\n\(NeRFBenchmark.usage)"); return nil
                }
            }
        }
    }

    /// What nerf_render_bench.py --json prints.
    struct TorchRun: Decodable {
        let torch: String
        let threads: Int
        let forward_ms: [Double]
        let forward_backward_ms: [Double]
    }

    /// Forward and forward+backward milliseconds of every repetition, for one field.
    static func measure(_ field: some RadianceField, reps: Int) -> (forward: [Double], forwardBackward: [Double]) {
        let renderer = NeRFRenderer(samplesPerRay: 64)
        let view = OrbitView(azimuth: 0.3, elevation: 0.2)
        var rng = RandomGenerator(seed: 3)
        let forward = { _ = GradMode.withoutGrad { renderer.render(field, view: view, width: 32, height: 32, using: &rng) } }
        let forwardBackward = {
            renderer.render(field, view: view, width: 32, height: 32, using: &rng).image.sum().backward()
            field.parameters.zeroGrad()
        }
        for _ in 0..<3 { forward(); forwardBackward() }
        return ((0..<reps).map { _ in milliseconds(forward) }, (0..<reps).map { _ in milliseconds(forwardBackward) })
    }

    static func run(_ options: Options) {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        let grid = VoxelGridField(resolution: 32)
        var rng = RandomGenerator(seed: 3)
        grid.density.data = rng.normalValues(grid.density.count)
        grid.color.data = rng.normalValues(grid.color.count)
        let hash = HashGridField(seed: 1)
        hash.table.data = rng.uniformValues(hash.table.count).map { $0 - 0.5 }

        print("diffrep-bench nerf — one 32×32 view (1024 rays), 64 samples/ray; \(ProcessInfo.processInfo.activeProcessorCount) "
              + "cores, \(options.threads) threads; median of \(options.reps) reps"
              + (options.compareTorch ? ", interleaved Swift, PyTorch, Swift" : "") + "\n")
        var swiftF: [Double] = [], swiftFB: [Double] = []
        func swiftRound() {
            let (f, fb) = measure(grid, reps: options.reps)
            swiftF += f
            swiftFB += fb
        }
        swiftRound()
        var torch: TorchRun?, note: String?
        if options.compareTorch {
            switch torchReference(options) {
            case .success(let r): torch = r
            case .failure(let e): note = "PyTorch column skipped: \(e)"
            }
            swiftRound()
        }
        let hashTimes = measure(hash, reps: Swift.max(3, options.reps / 5))

        func rays(_ ms: Double) -> String { ms.isNaN ? "—" : String(format: "%.0f", 1024 / ms * 1000) }
        print(col("field", 28, left: true) + col("fwd rays/s", 12) + col("f+b rays/s", 12)
              + (torch != nil ? col("torch fwd", 12) + col("torch f+b", 12) + col("fwd ×", 8) + col("f+b ×", 8) : ""))
        var line = col("voxel grid 32³", 28, left: true) + col(rays(median(swiftF)), 12) + col(rays(median(swiftFB)), 12)
        if let torch {
            let (tf, tfb) = (median(torch.forward_ms), median(torch.forward_backward_ms))
            line += col(rays(tf), 12) + col(rays(tfb), 12) + col(fmt(tf / median(swiftF)), 8) + col(fmt(tfb / median(swiftFB)), 8)
        }
        print(line)
        print(col("hash grid 8×2¹⁴×2 + MLP 32", 28, left: true) + col(rays(median(hashTimes.forward)), 12)
              + col(rays(median(hashTimes.forwardBackward)), 12))
        if let torch {
            print("\n× = Swift rays/s ÷ PyTorch rays/s (PyTorch \(torch.torch), \(torch.threads) threads); "
                  + "Swift \(swiftF.count) and PyTorch \(torch.forward_ms.count) samples per cell")
        }
        if let note { print("\n\(note)") }
    }

    /// Runs Benchmarks/nerf_render_bench.py --json once, or says why it could not.
    static func torchReference(_ options: Options) -> Result<TorchRun, Failure> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [root.appendingPathComponent("Benchmarks/nerf_render_bench.py").path,
                          FileManager.default.currentDirectoryPath + "/Benchmarks/nerf_render_bench.py"]
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return .failure(Failure(description: "Benchmarks/nerf_render_bench.py not found"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--json", "--threads", "\(options.threads)", "--iters", "\(options.reps)"]
        var environment = ProcessInfo.processInfo.environment
        if environment["OMP_WAIT_POLICY"] == nil { environment["OMP_WAIT_POLICY"] = "PASSIVE" }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            return .failure(Failure(description: "could not start python3 (\(error))"))
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = String(decoding: errData, as: UTF8.self).split(separator: "\n").last.map(String.init)
                ?? "exit status \(process.terminationStatus)"
            return .failure(Failure(description: "python3 + torch not usable: \(last)"))
        }
        do { return .success(try JSONDecoder().decode(TorchRun.self, from: data)) } catch {
            return .failure(Failure(description: "unreadable output from nerf_render_bench.py (\(error))"))
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func col(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: Swift.max(0, n - s.count))
        return left ? s + fill : fill + s
    }
}
