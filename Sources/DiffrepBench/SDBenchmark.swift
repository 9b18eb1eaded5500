// diffrep-bench sd: the full-size Stable Diffusion 1.5 parts with random weights, forward only,
// optionally against diffusers in PyTorch on the CPU (Benchmarks/sd_bench.py --serve) measured in
// the same run, repetition by repetition; and the peak memory of a prompt → 512×512 image.
//
//   swift run -c release diffrep-bench sd [--compare-torch] [--reps N] [--threads T] [--parts unet,vae,memory]
//
// unet:   UNet2DCondition with the released SD 1.5 unet/config.json (859.5 M parameters), latents
//         [2, 4, 64, 64] (batch 2: classifier-free guidance), timestep 500, text states [2, 77, 768];
// vae:    AutoencoderKL with the released SD 1.5 vae/config.json, decoding [1, 4, 64, 64] → [1, 3, 512, 512];
// memory: a child process (`diffrep-bench sd --memory-child`) runs a prompt → 512×512 image as
//         `diffrep sample --model <pipeline> --prompt` does: a full-size random-weight pipeline
//         (CLIP ViT-L/14-sized text encoder, vocab_size 49408, with the small BPE vocabulary of
//         Tests/TokenizersTests/Fixtures/sd1), both prompts encoded, DDIM steps at guidance 7.5
//         (one UNet call of 2 items each), the VAE decode; it reports its peak RSS (VmHWM) after
//         each phase. With --model FOLDER the child loads a pipeline folder instead (e.g. one
//         written by `python3 Benchmarks/sd_bench.py --save-pipeline DIR`).
// The configs are read from the repository's fixtures (Tests/DiffusionTests/Fixtures/
// sd_full_size_shapes.json, vae_full_size_shapes.json), the files sd_bench.py reads too.
import Foundation
import Diffusion
import RunSupport
import TensorCore
import Tokenizers

/// Runs `diffrep-bench sd` with the arguments after `sd`; prints the table.
func runSDBenchmark(arguments: [String]) {
    guard let options = SDBenchmark.Options(parsing: arguments) else { return }
    do {
        if options.memoryChild { try SDBenchmark.memoryChild(options) } else { try SDBenchmark.run(options) }
    } catch {
        print("diffrep-bench sd: \(error)")
        exit(1)
    }
}

/// The Stable Diffusion benchmark (namespaced so its helpers never clash with other benchmarks').
enum SDBenchmark {
    static let usage = """
        usage: diffrep-bench sd [--compare-torch] [--reps N] [--threads T] [--parts unet,vae,memory] [--steps N] [--model FOLDER] [--wall-clock]
          Full-size Stable Diffusion 1.5 parts, random weights, forward only (no tape); milliseconds, median
          over the repetitions after one warm-up
            unet    UNet2DConditionModel, latents [2, 4, 64, 64], text states [2, 77, 768]
            vae     AutoencoderKL decoder, latents [1, 4, 64, 64] → [1, 3, 512, 512]
            memory  peak RSS of a prompt → 512×512 image (a child process: weights, prompt, DDIM steps, decode)
          --compare-torch  also time diffusers (Benchmarks/sd_bench.py --serve, python3 + torch + diffusers),
                           each Swift repetition followed by the same PyTorch one
          --reps N         timed repetitions per part (default 3)
          --threads T      threads on both sides (default 1): OpenBLAS and Parallel.workers in Swift,
                           torch.set_num_threads in PyTorch; with 1 both sides are timed in their thread's CPU time
          --parts LIST     any of unet, vae, memory (default all three)
          --steps N        DDIM steps of the memory run (default 2; guidance 7.5)
          --model FOLDER   the memory run loads this pipeline folder instead of building random weights
          --wall-clock     time the wall clock with one thread too
        """

    static let partNames = ["unet", "vae", "memory"]

    struct Options {
        var compareTorch = false, wallClock = false, memoryChild = false
        var reps = 3, threads = 1, steps = 2
        var parts = SDBenchmark.partNames
        var model: String? = nil

        /// Parses the arguments; prints the usage (or the problem) and returns nil when it should not run.
        init?(parsing arguments: [String]) {
            var args = arguments[...]
            func positive(_ flag: String) -> Int? {
                guard let v = args.popFirst().flatMap(Int.init), v > 0 else {
                    print("\(flag) needs a positive number\n\n\(SDBenchmark.usage)")
                    return nil
                }
                return v
            }
            while let a = args.popFirst() {
                switch a {
                case "--compare-torch": compareTorch = true
                case "--wall-clock": wallClock = true
                case "--memory-child": memoryChild = true
                case "--reps": guard let v = positive(a) else { return nil }; reps = v
                case "--threads": guard let v = positive(a) else { return nil }; threads = v
                case "--steps": guard let v = positive(a) else { return nil }; steps = v
                case "--model":
                    guard let v = args.popFirst() else { print("--model needs a folder\n\n\(SDBenchmark.usage)"); return nil }
                    model = v
                case "--parts":
                    let list = (args.popFirst() ?? "").split(separator: ",").map(String.init)
                    guard !list.isEmpty, list.allSatisfy(SDBenchmark.partNames.contains) else {
                        print("--parts takes a comma-separated list of: \(SDBenchmark.partNames.joined(separator: ", "))\n\n\(SDBenchmark.usage)")
                        return nil
                    }
                    parts = list
                case "-h", "--help": print(SDBenchmark.usage); return nil
                default: print("unknown option \(a)\n\n\(SDBenchmark.usage)"); return nil
                }
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    // MARK: - Configurations

    /// The repository root: beside this source tree, or the current directory.
    static func repositoryFile(_ relative: String) throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for base in [root, URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            let url = base.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw Failure(description: "\(relative) not found (run from the repository root)")
    }

    /// A released config as the fixture scripts wrote it out: `file`'s entry `key`, its "config".
    static func releasedConfig(_ file: String, _ key: String) throws -> Data {
        let url = try repositoryFile("Tests/DiffusionTests/Fixtures/\(file)")
        guard let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any],
              let entry = root[key] as? [String: Any], let config = entry["config"] else {
            throw Failure(description: "\(url.path) has no \(key).config")
        }
        return try JSONSerialization.data(withJSONObject: config)
    }

    static func unetConfig() throws -> UNet2DConditionConfig {
        try UNet2DConditionConfig(json: releasedConfig("sd_full_size_shapes.json", "unet_sd15"), source: "SD 1.5 unet/config.json")
    }

    static func vaeConfig() throws -> AutoencoderKLConfig {
        try AutoencoderKLConfig(json: releasedConfig("vae_full_size_shapes.json", "vae_sd15"), source: "SD 1.5 vae/config.json")
    }

    static func textConfig() throws -> CLIPTextConfig {
        try CLIPTextConfig(json: releasedConfig("sd_full_size_shapes.json", "text_sd15"), source: "SD 1.5 text_encoder/config.json")
    }

    // MARK: - Timings

    static func run(_ options: Options) throws {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        let threadClock = options.threads == 1 && !options.wallClock
        print("diffrep-bench sd — Stable Diffusion 1.5 full size, random weights, forward; \(ProcessInfo.processInfo.activeProcessorCount) "
              + "cores, \(options.threads) thread(s), OpenBLAS \(BLAS.coreName) kernels, \(threadClock ? "thread CPU time" : "wall clock"); "
              + "median ms of \(options.reps) reps after one warm-up"
              + (options.compareTorch ? ", each Swift repetition followed by the same PyTorch one\n" : "\n"))

        // The memory run first, in its own process, before this one holds any weights.
        var memory: [String: Any]? = nil
        if options.parts.contains("memory") { memory = try spawnMemoryChild(options) }

        var torch: TorchServer? = nil
        var torchNote: String? = nil
        let timed = options.parts.filter { $0 != "memory" }
        if options.compareTorch && !timed.isEmpty {
            do {
                torch = try TorchServer(script: "sd_bench.py", arguments: ["--threads", "\(options.threads)"])
            } catch { torchNote = "PyTorch columns skipped: \(error)" }
        }
        struct Row { let title: String, params: Int, swift: [Double], torch: [Double], torchParams: Int? }
        var rows: [Row] = []
        let clock = threadClock ? "thread" : "wall"
        for part in timed {
            // Each part's model lives only in this scope, so the two never hold memory together.
            let (title, params, body): (String, Int, () -> Void) = try {
                var rng = RandomGenerator(seed: 0)
                if part == "unet" {
                    let unet = UNet2DCondition(config: try unetConfig(), seed: 0)
                    let x = rng.normal([2, 4, 64, 64]), states = rng.normal([2, 77, 768])
                    return ("UNet fwd [2,4,64,64]", unet.parameters.scalarCount,
                            { _ = GradMode.withoutGrad { unet.predict(x, timesteps: [500, 500], encoderHiddenStates: states) } })
                }
                let vae = AutoencoderKL(config: try vaeConfig(), seed: 0)
                let z = rng.normal([1, 4, 64, 64])
                return ("VAE decode → 512²", vae.parameters.scalarCount, { _ = GradMode.withoutGrad { vae.decode(z) } })
            }()
            var ours: [Double] = [], theirs: [Double] = []
            body()                                                                      // warm-up, both sides
            _ = torch?.request(["part": part, "reps": 0, "warmup": 1, "clock": clock])
            for _ in 0..<options.reps {
                ours.append(UNetBenchmark.timed(threadClock, body))
                theirs += torch?.milliseconds(["part": part, "reps": 1, "clock": clock]) ?? []
            }
            let torchParams = torch?.request(["part": part, "reps": 0, "clock": clock])?["params"] as? Int
            rows.append(Row(title: title, params: params, swift: ours, torch: theirs, torchParams: torchParams))
            print("  \(part): Swift \(ours.map { fmt($0, 0) }.joined(separator: ", ")) ms"
                  + (torch != nil ? "; diffusers \(theirs.map { fmt($0, 0) }.joined(separator: ", ")) ms" : ""))
        }

        if !rows.isEmpty {
            print("")
            var header = col("part", 24, left: true) + col("params", 10) + col("Swift ms", 11)
            if torch != nil { header += col("diffusers ms", 14) + col("Swift/diffusers", 17) }
            print(header)
            var notes: [String] = []
            for r in rows {
                let s = UNetBenchmark.median(r.swift)
                var line = col(r.title, 24, left: true) + col(String(format: "%.1fM", Double(r.params) / 1e6), 10) + col(fmt(s, 0), 11)
                if torch != nil {
                    let t = UNetBenchmark.median(r.torch)
                    line += col(fmt(t, 0), 14) + col(fmt(s / t), 17)
                    if let p = r.torchParams, p != r.params { notes.append("\(r.title): diffusers has \(p) parameters, Swift \(r.params)") }
                }
                print(line)
            }
            if let torch {
                let policy = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "PASSIVE"
                print("\nSwift/diffusers: PyTorch \(torch.ready["torch"] ?? "?"), diffusers \(torch.ready["diffusers"] ?? "?"), "
                      + "\(torch.ready["threads"] ?? "?") thread(s), OMP_WAIT_POLICY=\(policy); \(options.reps) samples per cell and side")
                torch.close()
            }
            for n in notes { print("WARNING: \(n)") }
            if let torchNote { print("\n\(torchNote)") }
        }

        if let memory {
            let source = options.model ?? "random full-size weights built in memory"
            print("\nprompt → 512×512 image, \(options.steps) DDIM steps at guidance 7.5, one process (\(source)):")
            for phase in memory["phases"] as? [[String: Any]] ?? [] {
                let name = phase["phase"] as? String ?? "?"
                let peak = (phase["peak_bytes"] as? Double ?? .nan) / Double(1 << 30)
                let seconds = phase["seconds"] as? Double ?? .nan
                print("  " + col(name, 34, left: true) + col(fmt(seconds, 1) + " s", 10) + col("peak RSS " + fmt(peak) + " GiB", 20))
            }
            if memory["phases"] != nil {
                print("  (seconds: wall clock of each phase)")
            }
            let peak = (memory["peak_bytes"] as? Double ?? .nan) / Double(1 << 30)
            print("  peak RSS (VmHWM) \(fmt(peak)) GiB — target under 8 GiB: \(peak < 8 ? "met" : "NOT met")")
        }
    }

    // MARK: - Peak memory of a prompt → image

    /// Runs `diffrep-bench sd --memory-child …` and returns its JSON report.
    static func spawnMemoryChild(_ options: Options) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["sd", "--memory-child", "--threads", "\(options.threads)", "--steps", "\(options.steps)"]
            + (options.model.map { ["--model", $0] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure(description: "the memory run failed (exit status \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self).suffix(500))")
        }
        return report
    }

    /// This process's peak resident set size (`VmHWM` of /proc/self/status), in bytes.
    static func peakResidentBytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              // "VmHWM:\t    2192 kB", or "VmHWM:\t10485760 kB" from 8 digits on: split at tabs too
              let kb = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap({ Double($0) }).first else { return .nan }
        return kb * 1024
    }

    /// The child: one prompt → one 512×512 image as `diffrep sample --model … --prompt …` runs it,
    /// printing one JSON line with the peak RSS after each phase.
    static func memoryChild(_ options: Options) throws {
        BLAS.threads = options.threads
        Parallel.workers = options.threads
        var phases: [[String: Any]] = []
        var start = Date()
        func phase(_ name: String) {
            phases.append(["phase": name, "seconds": Date().timeIntervalSince(start), "peak_bytes": peakResidentBytes()])
            start = Date()
        }
        let sd: StableDiffusionPipeline
        if let model = options.model {
            sd = try StableDiffusionPipeline(contentsOf: URL(fileURLWithPath: model))
            phase("load pipeline folder")
        } else {
            let tokenizer = try CLIPTokenizer(folder: try repositoryFile("Tests/TokenizersTests/Fixtures/sd1"))
            sd = StableDiffusionPipeline(
                folder: URL(fileURLWithPath: "random-sd15"), tokenizer: tokenizer,
                textEncoder: CLIPTextModel(config: try textConfig(), seed: 1),
                unet: UNet2DCondition(config: try unetConfig(), seed: 2), vae: AutoencoderKL(config: try vaeConfig(), seed: 3),
                schedule: DDPMSchedule(betaStart: 0.00085, betaEnd: 0.012, betaSchedule: .scaledLinear, stepsOffset: 1),
                setAlphaToOne: false)
            phase("random full-size weights")
        }
        // as diffrep sample: both prompts encoded once, guidance in one batched UNet call per step
        let denoiser = sd.denoiser(prompt: "a photo of an astronaut riding a horse on mars", negativePrompt: nil, guidance: 7.5)
        phase("encode prompt + negative")
        let sigmas = try sd.ddimSigmas(steps: options.steps)
        var config = SamplerConfig(sigmas: sigmas, seed: 1)
        config.startsLikeDiffusers = true
        let latents = try DDIMSampler().sample(denoiser, shape: sd.latentShape(count: 1), config: config)   // [1, 4, 64, 64]
        phase("\(options.steps) DDIM steps (UNet batch 2)")
        let image = GradMode.withoutGrad { sd.decodeImage(latents, sigma: sigmas.last!) }                  // [1, 3, 512, 512]
        precondition(image.shape == [1, 3, 512, 512], "decoded \(image.shape)")
        phase("VAE decode → 512×512")
        let report: [String: Any] = ["peak_bytes": peakResidentBytes(), "phases": phases, "image_shape": image.shape]
        let data = try JSONSerialization.data(withJSONObject: report)
        print(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Small helpers

    static func fmt(_ x: Double, _ digits: Int = 2) -> String { UNetBenchmark.fmt(x, digits) }
    static func col(_ s: String, _ n: Int, left: Bool = false) -> String { UNetBenchmark.col(s, n, left: left) }
}
