// diffrep-bench: speed tables, each against a reference measured in the same run.
//
//   swift run -c release diffrep-bench tensor [--compare-torch] [--reps N]
//
// tensor: (1) matmul GFLOP/s, Tensor.matmul against raw cblas_sgemm, interleaved;
//         (2) conv2d forward and forward+backward milliseconds for UNet shapes at batch 8;
//         with --compare-torch, the same conv shapes in PyTorch on the CPU
//         (Benchmarks/conv_bench.py, same thread count) side by side.
import COpenBLAS
import Foundation
import TensorCore

let usage = """
usage: diffrep-bench tensor [--compare-torch] [--reps N]
  tensor           matmul vs raw cblas_sgemm, conv2d forward / forward+backward timings
  --compare-torch  also run Benchmarks/conv_bench.py (python3 + torch) and print ratios
  --reps N         timed repetitions per measurement (median reported; default 15)
"""

/// Wall-clock milliseconds of `body`.
func milliseconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
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
]

/// PyTorch's numbers for the same cases, read from `conv_bench.py --json`.
struct TorchReference: Decodable {
    struct Conv: Decodable {
        let shape: String
        let forward_ms: Double
        let forward_backward_ms: Double
    }
    let threads: Int
    let torch: String
    let matmul1024_gflops: Double
    let conv: [Conv]
}

/// Runs the PyTorch companion script, or explains why it could not.
func runTorchReference(threads: Int, reps: Int) -> Result<TorchReference, Error> {
    struct Failure: Error, CustomStringConvertible { let description: String }
    let here = URL(fileURLWithPath: #filePath)
    let candidates = [
        here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks/conv_bench.py").path,
        FileManager.default.currentDirectoryPath + "/Benchmarks/conv_bench.py",
    ]
    guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
        return .failure(Failure(description: "Benchmarks/conv_bench.py not found"))
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, "--json", "--threads", "\(threads)", "--reps", "\(reps)"]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch {
        return .failure(Failure(description: "could not start python3 (\(error))"))
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let lastLine = errText.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
        return .failure(Failure(description: "python3 + torch not usable: \(lastLine)"))
    }
    do { return .success(try JSONDecoder().decode(TorchReference.self, from: data)) } catch {
        return .failure(Failure(description: "unreadable output from conv_bench.py (\(error))"))
    }
}

// MARK: - tensor

func benchTensor(compareTorch: Bool, reps: Int) {
    let threads = ProcessInfo.processInfo.activeProcessorCount
    print("diffrep-bench tensor — \(threads) cores, OpenBLAS \(BLAS.threads) threads, median of \(reps) after warm-up\n")

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

    // (2) conv2d, UNet shapes.
    let torch: TorchReference?
    var torchNote: String? = nil
    if compareTorch {
        switch runTorchReference(threads: threads, reps: reps) {
        case .success(let t): torch = t
        case .failure(let e): torch = nil; torchNote = "PyTorch column skipped: \(e)"
        }
    } else {
        torch = nil
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
        let times = interleavedMedians(reps: reps, [
            { _ = GradMode.withoutGrad { x.conv2d(w, bias: bias, padding: 1) } },
            {
                xg.grad = nil; wg.grad = nil; bg.grad = nil
                xg.conv2d(wg, bias: bg, padding: 1).backward(seed: gy)
            },
        ])
        var line = "\(pad(cc.label, 24, right: false))\(pad(fmt(times[0]), 10))\(pad(fmt(times[1]), 12))"
        if let torch, let t = torch.conv.first(where: { $0.shape == cc.label }) {
            line += "\(pad(fmt(t.forward_ms), 11))\(pad(fmt(t.forward_backward_ms), 11))"
            line += "\(pad(fmt(times[0] / t.forward_ms), 8))\(pad(fmt(times[1] / t.forward_backward_ms), 8))"
        }
        print(line)
    }
    if let torch {
        print("\n(× = ours / PyTorch \(torch.torch), \(torch.threads) threads; PyTorch matmul 1024²: "
              + "\(fmt(torch.matmul1024_gflops, 1)) GFLOP/s)")
    }
    if let torchNote { print("\n\(torchNote)") }
}

// MARK: - main

func gemmProbe(_ a: [String]) {
    // gemmprobe threads m n k tA tB
    let th = Int(a[0])!, m = Int(a[1])!, n = Int(a[2])!, k = Int(a[3])!, ta = a[4] == "T", tb = a[5] == "T"
    var r = RandomGenerator(seed: 1)
    let A = r.normalValues(m * k), B = r.normalValues(k * n)
    var C = [Float](repeating: 0, count: m * n)
    BLAS.threads = th
    let t = interleavedMedians(reps: 21, [{
        A.withUnsafeBufferPointer { ap in B.withUnsafeBufferPointer { bp in C.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
        } } }
    }])[0]
    print("threads \(th) m \(m) n \(n) k \(k) \(a[4])\(a[5]): \(fmt(t, 3)) ms  \(fmt(2.0 * Double(m * n * k) / t / 1e6, 1)) GFLOP/s")
}
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "gemmprobe" { gemmProbe(Array(CommandLine.arguments.dropFirst(2))); exit(0) }
// EXPERIMENT (temporary)
func convProfile() {
    for cc in convCases {
        var r = RandomGenerator(seed: 7)
        let x = r.normal([cc.batch, cc.cin, cc.size, cc.size])
        let w = r.normal([cc.cout, cc.cin, 3, 3]) * 0.05
        let k = cc.cin * 9, p = cc.size * cc.size, m = cc.cout
        let col = r.normalValues(k * p)
        var out = [Float](repeating: 0, count: m * p)
        let wd = w.data
        let saved = BLAS.threads
        BLAS.threads = 1
        let gemmFwd = interleavedMedians(reps: 15, [{
            wd.withUnsafeBufferPointer { wp in col.withUnsafeBufferPointer { cp in out.withUnsafeMutableBufferPointer { op in
                for _ in 0..<cc.batch {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(p), Int32(k), 1,
                                wp.baseAddress, Int32(k), cp.baseAddress, Int32(p), 0, op.baseAddress, Int32(p))
                }
            } } }
        }])[0]
        BLAS.threads = saved
        let savedW = Parallel.workers
        Parallel.workers = 1
        BLAS.threads = 1
        let conv1 = interleavedMedians(reps: 15, [{ _ = GradMode.withoutGrad { x.conv2d(w, bias: nil, padding: 1) } }])[0]
        BLAS.threads = saved
        Parallel.workers = savedW
        let flop = 2.0 * Double(m * p * k * cc.batch)
        print("\(cc.label): 1-thread raw gemm x\(cc.batch) \(fmt(gemmFwd)) ms (\(fmt(flop / gemmFwd / 1e6, 1)) GFLOP/s), conv fwd 1 thread \(fmt(conv1)) ms")
    }
}
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "convprof" { convProfile(); exit(0) }


var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { print(usage); exit(0) }
args.removeFirst()
var compareTorch = false, reps = 15
while let a = args.first {
    args.removeFirst()
    switch a {
    case "--compare-torch": compareTorch = true
    case "--reps":
        guard let v = args.first.flatMap(Int.init), v > 0 else { print("--reps needs a positive number\n\n\(usage)"); exit(2) }
        reps = v
        args.removeFirst()
    default: print("unknown option \(a)\n\n\(usage)"); exit(2)
    }
}
switch command {
case "tensor": benchTensor(compareTorch: compareTorch, reps: reps)
case "-h", "--help", "help": print(usage)
default: print("unknown benchmark '\(command)'\n\n\(usage)"); exit(2)
}

