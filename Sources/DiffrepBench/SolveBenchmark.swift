// diffrep-bench solve: one pullback step's solve (issue #13), as `diffrep nerf` runs it at its
// defaults — LeastSquaresSolver.adam (20 Adam steps on the squared error of 4 views of 32×32
// rays, 48 samples per ray, plus the NeRF's smoothness and empty-space priors) on a 32³ voxel
// grid — on fixed views and targets. The voxel grid's fused render path against the tape path
// (the reference) in the same run, interleaved, with the residual each one reaches and how far
// apart their results are; with --compare-torch, the same solve in PyTorch
// (Benchmarks/nerf_solve_bench.py) on the same start, rays and targets, with 1 and 2 threads.
//
//   swift run -c release diffrep-bench solve [--compare-torch] [--reps N] [--threads T] [--views 4|8] [--split]
import Diffreps
import Foundation
import Sampling
import TensorCore

/// Runs `diffrep-bench solve` with the arguments after `solve`; prints the table.
func runSolveBenchmark(arguments: [String]) {
    guard let options = SolveBenchmark.Options(parsing: arguments) else { return }
    SolveBenchmark.run(options)
}

/// The pullback-solve benchmark (namespaced so its helpers never clash with other benchmarks').
enum SolveBenchmark {
    static let usage = """
        usage: diffrep-bench solve [--compare-torch] [--reps N] [--threads T] [--views 4|8] [--split]
          one pullback step's solve at `diffrep nerf`'s defaults: 20 Adam steps, 4 views of 32×32 rays,
          48 samples per ray, a 32³ voxel grid holding a torus, targets a third of the way to another
          torus; milliseconds per solve (median), fused render path against the tape path, interleaved
          --compare-torch  also time Benchmarks/nerf_solve_bench.py (python3 + torch) on the same problem,
                           with 1 and 2 threads (one thread: its process CPU time)
          --reps N         timed solves per path (default 5)
          --threads T      threads (default 2; with 1, timed in the thread's CPU time)
          --views V        4 (one quarter-turn group, the default step) or 8 (two groups, the step before)
          --split          also time one Adam iteration's parts (fit, priors, update) on the fused path
        """

    struct Options {
        var reps = 5, threads = 2, views = 4, compareTorch = false, split = false

        init?(parsing arguments: [String]) {
            var args = arguments[...]
            while let a = args.popFirst() {
                switch a {
                case "--compare-torch": compareTorch = true
                case "--split": split = true
                case "--reps", "--threads":
                    guard let v = args.popFirst().flatMap(Int.init), v > 0 else {
                        print("\(a) needs a positive number\n\n\(SolveBenchmark.usage)")
                        return nil
                    }
                    if a == "--reps" { reps = v } else { threads = v }
                case "--views":
                    guard let v = args.popFirst().flatMap(Int.init), v == 4 || v == 8 else {
                        print("--views takes 4 or 8\n\n\(SolveBenchmark.usage)")
                        return nil
                    }
                    views = v
                case "-h", "--help": print(SolveBenchmark.usage); return nil
                default: print("unknown option \(a)\n\n\(SolveBenchmark.usage)"); return nil
                }
            }
        }
    }

    static let resolution = 32, imageSize = 32, samplesPerRay = 48

    /// One or two quarter-turn groups of four views, as a multi-view model's step draws them
    /// (``Options/views``; one group is `diffrep nerf`'s default step).
    nonisolated(unsafe) static var views: [OrbitView] = quarterTurnGroups(1)

    static func quarterTurnGroups(_ count: Int) -> [OrbitView] {
        [(0.4, 0.35), (1.9, 0.05)].prefix(count).flatMap { a, e in
            (0..<4).map { OrbitView(azimuth: a + Float($0) * .pi / 2, elevation: e) }
        }
    }

    /// Raw grids `[N³]`, `[3·N³]` of a torus about the axis tilted by `tilt` from y (major radius
    /// `major`, tube radius `minor`), raw density 8 inside (σ = e⁴ with the default bias), 4 on
    /// the surface, −2 outside; colour `color` (in (−1, 1)) inside, grey outside.
    static func torus(major: Float, minor: Float, tilt: Float, color: SIMD3<Float>) -> (density: [Float], color: [Float]) {
        let n = resolution, b = SceneBox.defaultHalfExtent
        var density = [Float](repeating: 0, count: n * n * n), rgb = [Float](repeating: 0, count: 3 * n * n * n)
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            let p = SIMD3(Float(x), Float(y), Float(z)) / Float(n - 1) * 2 * b - b
            let q = SIMD3(p.x, cos(tilt) * p.y - sin(tilt) * p.z, sin(tilt) * p.y + cos(tilt) * p.z)
            let ring = (q.x * q.x + q.z * q.z).squareRoot() - major
            let dist = (ring * ring + q.y * q.y).squareRoot()
            let v = (z * n + y) * n + x
            density[v] = Swift.min(8, Swift.max(-2, 40 * (minor - dist) + 4))
            let inside = dist < minor + 0.1
            for c in 0..<3 { rgb[c * n * n * n + v] = inside ? atanh(color[c]) : 0 }
        }}}
        return (density, rgb)
    }

    /// A NeRF at `diffrep nerf`'s defaults holding `grids`, with the given render path.
    static func nerf(_ grids: (density: [Float], color: [Float]), path: NeRFRenderer.VoxelGridPath) -> NeRFDiffrep {
        let n = resolution
        let field = VoxelGridField(density: Tensor([1, 1, n, n, n], data: grids.density),
                                   color: Tensor([1, 3, n, n, n], data: grids.color))
        return NeRFDiffrep(field: field, imageSize: imageSize,
                           renderer: NeRFRenderer(samplesPerRay: samplesPerRay, voxelGridPath: path))
    }

    /// One path's timings and result.
    struct Outcome {
        var ms: [Double] = []
        var residual: Float = 0
        var parameters: [[Float]] = []
    }

    static func run(_ options: Options) {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        views = quarterTurnGroups(options.views / 4)
        useThreadClock = options.threads == 1             // one thread: its CPU time, robust on a shared machine
        let start = torus(major: 0.75, minor: 0.28, tilt: 0.3, color: [0.6, -0.2, -0.5])
        let goal = torus(major: 0.85, minor: 0.32, tilt: 0.1, color: [0.2, 0.3, -0.6])
        // Targets a third of the way from the renders to the other torus's (the tape path renders both).
        let x = GradMode.withoutGrad { nerf(start, path: .tape).render(views) }
        let other = GradMode.withoutGrad { nerf(goal, path: .tape).render(views) }
        let targets = Tensor(x.shape, data: zip(x.data, other.data).map { $0 + ($1 - $0) / 3 })
        let coverage = GradMode.withoutGrad {
            views.map { nerf(start, path: .tape).display($0, size: imageSize).opacity.data.filter { $0 > 0.5 }.count }
        }.reduce(0, +)

        let paths: [(String, NeRFRenderer.VoxelGridPath)] = [("tape (reference)", .tape), ("fused, threshold 0", .fused(transmittanceThreshold: 0)),
                                                             ("fused (default)", .default)]
        var outcomes = [Outcome](repeating: Outcome(), count: paths.count)
        func solve(_ k: Int) -> Double {
            let diffrep = nerf(start, path: paths[k].1)
            var residual: Float = 0
            let ms = milliseconds { residual = LeastSquaresSolver.adam().pullBack(diffrep, views: views, targets: targets).relativeResidual }
            outcomes[k].residual = residual
            outcomes[k].parameters = diffrep.parameters.tensors.map(\.data)
            return ms
        }
        for k in paths.indices { _ = solve(k) }                                  // warm-up
        let split = options.split ? iterationSplit(start: start, targets: targets, iterations: 20 * options.reps) : nil
        for _ in 0..<options.reps { for k in paths.indices { outcomes[k].ms.append(solve(k)) } }
        // One render of the step's views at the start, without and with the backward pass.
        let renders = paths.map { nerf(start, path: $0.1) }
        let renderMs = interleavedMedians(reps: options.reps, renders.flatMap { diffrep in [
            { _ = GradMode.withoutGrad { diffrep.render(views) } },
            { diffrep.render(views).sum().backward(); diffrep.parameters.zeroGrad() },
        ] })

        print("diffrep-bench solve — one pullback step's Adam solve (20 steps, \(views.count) views of \(imageSize)×\(imageSize), "
              + "\(samplesPerRay) samples/ray, \(resolution)³ grid, coverage \(String(format: "%.0f", 100 * Double(coverage) / Double(x.count / 3))) %); "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(options.threads) threads, "
              + (useThreadClock ? "thread CPU time" : "wall clock") + "; median of \(options.reps), interleaved\n")
        print(pad("render path", 22, right: false) + pad("ms/solve", 10) + pad("× tape", 8) + pad("residual", 10) + pad("max |Δθ| vs tape", 18)
              + pad("render ms", 11) + pad("render+grad ms", 16))
        let tapeMs = median(outcomes[0].ms)
        for (k, (name, _)) in paths.enumerated() {
            let o = outcomes[k]
            let delta = zip(o.parameters, outcomes[0].parameters).map { a, b in zip(a, b).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            print(pad(name, 22, right: false) + pad(fmt(median(o.ms), 1), 10) + pad(fmt(tapeMs / median(o.ms)), 8)
                  + pad(String(format: "%.4f", o.residual), 10) + pad(String(format: "%.2e", delta), 18)
                  + pad(fmt(renderMs[2 * k], 1), 11) + pad(fmt(renderMs[2 * k + 1], 1), 16))
        }
        if options.compareTorch {
            var summary: [String] = []
            for threads in [1, 2] {
                switch torchReference(start: start, targets: targets, threads: threads, reps: options.reps) {
                case .success(let (run, parameters)):
                    let delta = zip(parameters, outcomes[0].parameters).map { a, b in zip(a, b).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
                    let ms = median(run.ms)
                    print(pad("PyTorch, \(threads) thread\(threads > 1 ? "s" : "")", 22, right: false) + pad(fmt(ms, 1), 10)
                          + pad(fmt(tapeMs / ms), 8) + pad(String(format: "%.4f", run.residual), 10) + pad(String(format: "%.2e", delta), 18)
                          + "  (torch \(run.torch), " + (threads == 1 ? "CPU time" : "wall clock") + ")")
                    summary.append("PyTorch with \(threads) thread\(threads > 1 ? "s" : "") takes \(fmt(ms / median(outcomes[2].ms)))× the fused solve's time")
                case .failure(let e):
                    print("PyTorch with \(threads) thread(s) skipped: \(e)")
                }
            }
            if !summary.isEmpty { print("\n" + summary.joined(separator: "; ")) }
        }
        if let split {
            print("\nfused (default), one Adam iteration: fit (render, residual, gradient) \(fmt(split.fit, 2)) ms, "
                  + "priors (smoothness + empty space, forward and backward) \(fmt(split.priors, 2)) ms, Adam update \(fmt(split.adam, 2)) ms")
        }
        print("\nresidual = ‖R(θ') − y‖ / ‖y − x‖ before the last Adam step (SolveStats.relativeResidual)")
    }

    /// Milliseconds of one Adam iteration's parts on the fused default path (medians over
    /// `iterations`): the fit's render + residual + gradient, the priors' forward and backward,
    /// and the Adam update.
    static func iterationSplit(start: (density: [Float], color: [Float]), targets: Tensor,
                               iterations: Int) -> (fit: Double, priors: Double, adam: Double) {
        let diffrep = nerf(start, path: .default)
        var opt = Adam(parameters: diffrep.parameters, learningRate: 1e-3)
        var fit: [Double] = [], priors: [Double] = [], adam: [Double] = []
        for _ in 0..<iterations {
            fit.append(milliseconds { diffrep.squaredError(views, targets: targets)!.backward() })
            priors.append(milliseconds { diffrep.regularizer()!.backward() })
            adam.append(milliseconds { opt.step() })
        }
        return (median(fit), median(priors), median(adam))
    }

    /// What nerf_solve_bench.py prints.
    struct TorchRun: Decodable {
        let torch: String
        let threads: Int
        let ms: [Double]
        let residual: Float
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Writes the problem (start grids, rays, targets) into a temporary folder, runs
    /// Benchmarks/nerf_solve_bench.py on it, and reads its timings and solved grids.
    static func torchReference(start: (density: [Float], color: [Float]), targets: Tensor, threads: Int,
                               reps: Int) -> Result<(TorchRun, [[Float]]), Failure> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [root.appendingPathComponent("Benchmarks/nerf_solve_bench.py").path,
                          FileManager.default.currentDirectoryPath + "/Benchmarks/nerf_solve_bench.py"]
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return .failure(Failure(description: "Benchmarks/nerf_solve_bench.py not found"))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diffrep-solve-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let rays = Rays(views: views, width: imageSize, height: imageSize)
        func write(_ values: [Float], _ name: String) throws {
            try values.withUnsafeBytes { try Data($0).write(to: folder.appendingPathComponent(name + ".f32")) }
        }
        func read(_ name: String, count: Int) -> [Float]? {
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(name + ".f32")), data.count == 4 * count else { return nil }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let problem: [String: Any] = [
                "resolution": resolution, "views": views.count, "size": imageSize, "samples_per_ray": samplesPerRay,
                "half_extent": SceneBox.defaultHalfExtent, "bias": VoxelGridField.defaultDensityBias, "steps": 20, "learning_rate": 0.2,
                "smoothness": 0.005, "sparsity": 0.01]
            try JSONSerialization.data(withJSONObject: problem).write(to: folder.appendingPathComponent("problem.json"))
            try write(start.density, "density"); try write(start.color, "color")
            try write(rays.origins.data, "origins"); try write(rays.directions.data, "directions")
            try write(targets.data, "targets")
        } catch {
            return .failure(Failure(description: "could not write the problem (\(error))"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--problem", folder.path, "--threads", "\(threads)", "--reps", "\(reps)",
                             "--clock", threads == 1 ? "cpu" : "wall"]
        var environment = ProcessInfo.processInfo.environment
        if environment["OMP_WAIT_POLICY"] == nil { environment["OMP_WAIT_POLICY"] = "PASSIVE" }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return .failure(Failure(description: "could not start python3 (\(error))")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = String(decoding: errData, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            return .failure(Failure(description: "python3 + torch not usable: \(last)"))
        }
        let n = resolution * resolution * resolution
        guard let run = try? JSONDecoder().decode(TorchRun.self, from: data),
              let density = read("torch_density", count: n), let color = read("torch_color", count: 3 * n) else {
            return .failure(Failure(description: "unreadable output from nerf_solve_bench.py"))
        }
        return .success((run, [density, color]))
    }
}
