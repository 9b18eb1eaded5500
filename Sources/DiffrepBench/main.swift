// diffrep-bench: speed tables, each against a reference measured in the same run.
//
//   swift run -c release diffrep-bench tensor [--compare-torch] [--one-thread] [--reps N]
//
// tensor: (1) matmul GFLOP/s, Tensor.matmul against raw cblas_sgemm, interleaved;
//         (2) conv2d forward and forward+backward milliseconds for UNet shapes at batch 8;
//         with --compare-torch, the same conv shapes in PyTorch on the CPU
//         (Benchmarks/conv_bench.py, same thread count) side by side;
//         with --one-thread, both sides run on one thread and are timed in that thread's
//         CPU time, which stays comparable on a machine shared with other work.
import COpenBLAS
import Foundation
import RunSupport
import TensorCore

let usage = """
usage: diffrep-bench tensor [--compare-torch] [--one-thread] [--reps N]
       diffrep-bench unet [--compare-torch] [--reps N] [--rounds N] [--threads T]
       diffrep-bench nerf [--compare-torch] [--reps N] [--threads T]
       diffrep-bench solve [--compare-torch] [--reps N] [--threads T] [--views 4|8] [--split]
       diffrep-bench train [--compare-torch] [--steps N] [--batch B] [--threads T] [--config FILE]
       diffrep-bench sd [--compare-torch] [--reps N] [--threads T] [--parts unet,vae,memory] [--model FOLDER]
  nerf             NeRF volume rendering rays/s, forward / forward+backward (voxel grid vs PyTorch; hash grid)
  solve            one pullback step's Adam solve on a voxel grid: fused render path vs tape path
  unet             UNet2D forward / forward+backward at batch 8, 32×32 (toys, multi-view default, google/ddpm-cifar10-32)
  train            one `diffrep train` step vs the same PyTorch + diffusers training loop
  sd               full-size Stable Diffusion 1.5 UNet forward and VAE decode vs diffusers; peak memory of prompt → 512² image
  tensor           matmul vs raw cblas_sgemm, conv2d forward / forward+backward timings
  --compare-torch  also run Benchmarks/conv_bench.py (python3 + torch) and print ratios
  --one-thread     one thread on both sides, timed in thread CPU time (robust on a busy machine)
  --reps N         timed repetitions per measurement (median reported; default 15)
"""

/// Times with the calling thread's CPU clock instead of the wall clock (`--one-thread`).
nonisolated(unsafe) var useThreadClock = false

/// Milliseconds of `body`: wall clock, or this thread's CPU time with ``useThreadClock``.
func milliseconds(_ body: () -> Void) -> Double {
    var a = timespec(), b = timespec()
    let clock = useThreadClock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC
    clock_gettime(clock, &a)
    body()
    clock_gettime(clock, &b)
    return Double(b.tv_sec - a.tv_sec) * 1e3 + Double(b.tv_nsec - a.tv_nsec) / 1e6
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// Median milliseconds of each body, measured interleaved (A, B, A, B, …) after warm-up.
func interleavedMedians(reps: Int, warmup: Int = 3, _ bodies: [() -> Void]) -> [Double] {
    for _ in 0..<warmup { for b in bodies { b() } }
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<reps { for (i, b) in bodies.enumerated() { times[i].append(milliseconds(b)) } }
    return times.map(median)
}

func pad(_ s: String, _ n: Int, right: Bool = true) -> String {
    s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
}

func fmt(_ x: Double, _ digits: Int = 2) -> String { x.isNaN ? "—" : String(format: "%.\(digits)f", x) }

// MARK: - The UNet conv shapes

/// One benchmarked conv2d: 3×3 kernel, padding 1, stride 1.
struct ConvCase {
    let label: String, batch: Int, cin: Int, cout: Int, size: Int
}

let convCases = [
    ConvCase(label: "32x32 32->32", batch: 8, cin: 32, cout: 32, size: 32),
    ConvCase(label: "32x32 64->64", batch: 8, cin: 64, cout: 64, size: 32),
    ConvCase(label: "16x16 64->64", batch: 8, cin: 64, cout: 64, size: 16),
    ConvCase(label: "16x16 128->128", batch: 8, cin: 128, cout: 128, size: 16),
    // google/ddpm-cifar10-32's levels
    ConvCase(label: "32x32 128->128", batch: 8, cin: 128, cout: 128, size: 32),
    ConvCase(label: "16x16 256->256", batch: 8, cin: 256, cout: 256, size: 16),
    ConvCase(label: "8x8 256->256", batch: 8, cin: 256, cout: 256, size: 8),
    ConvCase(label: "4x4 256->256", batch: 8, cin: 256, cout: 256, size: 4),
    ConvCase(label: "4x4 512->256", batch: 8, cin: 512, cout: 256, size: 4),
]

/// PyTorch measuring the same cases on request (`conv_bench.py --serve`), so that its timings
/// interleave with ours case by case under the same machine load.
final class TorchReference {
    private(set) var version = "?"
    private(set) var threads: Int
    private let process: Process
    private let input: FileHandle, output: FileHandle
    private var buffer = Data()

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Starts the script, or explains why it could not.
    init(threads: Int, reps: Int) throws {
        let here = URL(fileURLWithPath: #filePath)
        let candidates = [
            here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Benchmarks/conv_bench.py").path,
            FileManager.default.currentDirectoryPath + "/Benchmarks/conv_bench.py",
        ]
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw Failure(description: "Benchmarks/conv_bench.py not found")
        }
        self.threads = threads
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--serve", "--threads", "\(threads)", "--reps", "\(reps)"]
        let inPipe = Pipe(), outPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = FileHandle.nullDevice
        input = inPipe.fileHandleForWriting
        output = outPipe.fileHandleForReading
        do { try process.run() } catch { throw Failure(description: "could not start python3 (\(error))") }
        guard let ready = readLine(), ready["ready"] as? Bool == true else {
            process.waitUntilExit()
            throw Failure(description: "python3 with torch is not available (conv_bench.py exited with status \(process.terminationStatus))")
        }
        version = ready["torch"] as? String ?? "?"
        self.threads = ready["threads"] as? Int ?? threads
    }

    /// One JSON line from the script, or nil at its end.
    private func readLine() -> [String: Any]? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                return (try? JSONSerialization.jsonObject(with: line)) as? [String: Any]
            }
            let more = output.availableData
            if more.isEmpty { return nil }
            buffer.append(more)
        }
    }

    /// Median milliseconds PyTorch reports for `request` (NaN if the script failed).
    func measure(_ request: [String: Any]) -> Double {
        var request = request
        if useThreadClock { request["clock"] = "thread" }
        guard let data = try? JSONSerialization.data(withJSONObject: request) else { return .nan }
        input.write(data + Data("\n".utf8))
        return readLine()?["ms"] as? Double ?? .nan
    }

    func close() {
        try? input.close()
        process.waitUntilExit()
    }
}

// MARK: - tensor

func benchTensor(compareTorch: Bool, oneThread: Bool, reps: Int) {
    if oneThread {
        Parallel.workers = 1
        BLAS.threads = 1
        useThreadClock = true
    }
    let threads = oneThread ? 1 : ProcessInfo.processInfo.activeProcessorCount
    let clock = oneThread ? "thread CPU time" : "wall clock"
    print("diffrep-bench tensor — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Parallel.workers) workers, "
          + "OpenBLAS \(BLAS.threads) threads (\(BLAS.coreName) kernels), \(clock), median of \(reps) after warm-up\n")

    // (1) matmul: Tensor.matmul vs raw cblas_sgemm, interleaved.
    print("\(pad("matmul n×n·n×n", 16, right: false))\(pad("Tensor GFLOP/s", 16))\(pad("sgemm GFLOP/s", 16))\(pad("ratio", 8))")
    var rng = RandomGenerator(seed: 1)
    for n in [256, 512, 1024] {
        let a = rng.normal([n, n]), b = rng.normal([n, n])
        var c = [Float](repeating: 0, count: n * n)
        let flop = 2 * Double(n) * Double(n) * Double(n)
        let (ad, bd) = (a.data, b.data)
        let times = interleavedMedians(reps: reps, [
            { _ = a.matmul(b) },
            {
                ad.withUnsafeBufferPointer { ap in bd.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                                ap.baseAddress, Int32(n), bp.baseAddress, Int32(n), 0, cp.baseAddress, Int32(n))
                } } }
            },
        ])
        let gT = flop / times[0] / 1e6, gB = flop / times[1] / 1e6
        print("\(pad("\(n)", 16, right: false))\(pad(fmt(gT, 1), 16))\(pad(fmt(gB, 1), 16))\(pad(fmt(gT / gB), 8))")
    }

    // (2) conv2d, UNet shapes, each case measured right before PyTorch measures it.
    var torch: TorchReference? = nil
    var torchNote: String? = nil
    if compareTorch {
        do { torch = try TorchReference(threads: threads, reps: reps) } catch {
            torchNote = "PyTorch columns skipped: \(error)"
        }
    }
    print("")
    var header = "\(pad("conv2d 3×3 pad 1, N=8", 24, right: false))\(pad("fwd ms", 10))\(pad("fwd+bwd ms", 12))"
    if torch != nil {
        header += "\(pad("torch fwd", 11))\(pad("torch f+b", 11))\(pad("fwd ×", 8))\(pad("f+b ×", 8))"
    }
    print(header)
    for cc in convCases {
        var r = RandomGenerator(seed: 7)
        let x = r.normal([cc.batch, cc.cin, cc.size, cc.size])
        let w = r.normal([cc.cout, cc.cin, 3, 3]) * 0.05
        let bias = r.normal([cc.cout])
        let gy = r.normalValues(cc.batch * cc.cout * cc.size * cc.size)
        let xg = Tensor(x.shape, data: x.data, requiresGrad: true)
        let wg = Tensor.parameter(w.shape, data: w.data), bg = Tensor.parameter(bias.shape, data: bias.data)
        let fwd = interleavedMedians(reps: reps, [{ _ = GradMode.withoutGrad { x.conv2d(w, bias: bias, padding: 1) } }])[0]
        let torchFwd = torch?.measure(["op": "conv", "shape": cc.label, "mode": "fwd"]) ?? .nan
        let fwdBwd = interleavedMedians(reps: reps, [{
            xg.grad = nil; wg.grad = nil; bg.grad = nil
            xg.conv2d(wg, bias: bg, padding: 1).backward(seed: gy)
        }])[0]
        let torchFwdBwd = torch?.measure(["op": "conv", "shape": cc.label, "mode": "fwd+bwd"]) ?? .nan
        var line = "\(pad(cc.label, 24, right: false))\(pad(fmt(fwd), 10))\(pad(fmt(fwdBwd), 12))"
        if torch != nil {
            line += "\(pad(fmt(torchFwd), 11))\(pad(fmt(torchFwdBwd), 11))"
            line += "\(pad(fmt(fwd / torchFwd), 8))\(pad(fmt(fwdBwd / torchFwdBwd), 8))"
        }
        print(line)
    }
    if let torch {
        let ms = torch.measure(["op": "matmul", "n": 1024])
        print("\n(× = ours / PyTorch \(torch.version) on the CPU, \(torch.threads) thread(s), \(clock), measured case by "
              + "case right after ours; PyTorch matmul 1024²: \(fmt(2 * 1024.0 * 1024 * 1024 / ms / 1e6, 1)) GFLOP/s)")
        torch.close()
    }
    if let torchNote { print("\n\(torchNote)") }
}

// MARK: - main

// OpenBLAS's widest kernels for this CPU (a relaunch where it fell back to generic ones), as diffrep.
BLASKernels.relaunchIfNarrowerThanCPU()
// The allocator settings the diffrep CLI runs with (freed tensors' pages are reused, not returned).
MemoryTuning.keepFreedMemory()
var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { print(usage); exit(0) }
args.removeFirst()
if command == "unet" {
    runUNetBenchmark(arguments: args)
    exit(0)
}
if command == "nerf" {
    runNeRFBenchmark(arguments: args)
    exit(0)
}
if command == "train" {
    runTrainBenchmark(arguments: args)
    exit(0)
}
if command == "sd" {
    runSDBenchmark(arguments: args)
    exit(0)
}
if command == "solve" {
    runSolveBenchmark(arguments: args)
    exit(0)
}
var compareTorch = false, oneThread = false, reps = 15
while let a = args.first {
    args.removeFirst()
    switch a {
    case "--compare-torch": compareTorch = true
    case "--one-thread": oneThread = true
    case "--reps":
        guard let v = args.first.flatMap(Int.init), v > 0 else { print("--reps needs a positive number\n\n\(usage)"); exit(2) }
        reps = v
        args.removeFirst()
    default: print("unknown option \(a)\n\n\(usage)"); exit(2)
    }
}
switch command {
case "tensor": benchTensor(compareTorch: compareTorch, oneThread: oneThread, reps: reps)
case "-h", "--help", "help": print(usage)
default: print("unknown benchmark '\(command)'\n\n\(usage)"); exit(2)
}

