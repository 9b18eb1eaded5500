import COpenBLAS
import Foundation

/// Thin wrappers over OpenBLAS (row-major `cblas_sgemm`) and its thread count.
public enum BLAS {
    /// `C = alpha·op(A)·op(B) + beta·C` with row-major operands:
    /// `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`.
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        let lda = transA ? m : k, ldb = transB ? k : n
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }

    /// The CPU core whose kernels OpenBLAS chose at load time (e.g. "Haswell", "SkylakeX").
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS core names whose sgemm kernels use AVX2 or wider vectors.
    static let wideCores: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]

    /// The `OPENBLAS_CORETYPE` that would give this CPU wider kernels than the ones OpenBLAS chose,
    /// or nil when OpenBLAS's choice is already AVX2-class or the CPU has nothing wider.
    ///
    /// OpenBLAS picks its kernels from the CPU model at load time and falls back to its generic
    /// SSE3 kernels ("Prescott") for models newer than the release — Debian 12's OpenBLAS 0.3.21
    /// does so on Intel Xeons of model 207, where sgemm then runs 4–5× below the AVX-512 kernels.
    /// The choice can only be changed before the library loads (``BLASKernels``
    /// relaunches the command-line tools for that).
    ///
    /// ```swift
    /// BLAS.betterCoreType(chosen: "Prescott", cpuFlags: ["avx2", "fma"])   // "Haswell"
    /// BLAS.betterCoreType(chosen: "SkylakeX", cpuFlags: ["avx2", "fma"])   // nil
    /// ```
    public static func betterCoreType(chosen: String, cpuFlags: Set<String>) -> String? {
        if wideCores.contains(chosen.lowercased()) { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The CPU's feature flags as Linux lists them (the first `flags` line of `/proc/cpuinfo`);
    /// empty where that file is missing.
    public static var cpuFlags: Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// OpenBLAS's thread count (set it to 1 inside parallel loops).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
