// Relaunching a program so OpenBLAS loads the kernels this CPU can run (docs/DESIGN.md, Speed).

import Foundation

/// Makes a program run OpenBLAS's widest kernels on CPUs its release does not know.
///
/// OpenBLAS chooses its kernels once, when the library loads, from the CPU model; on models newer
/// than the release it falls back to generic SSE kernels (Debian 12's 0.3.21 on Intel Xeon model
/// 207: "Prescott", sgemm 29 GFLOP/s against 135 with its AVX-512 kernels). The only way to change
/// that choice is the `OPENBLAS_CORETYPE` variable before the library loads, so a program's
/// `main` (`diffrep`'s, `diffrep-bench`'s, or a research script's) calls
/// ``relaunchIfNarrowerThanCPU()`` first: when OpenBLAS's choice is narrower than the CPU's
/// features (``BLAS/betterCoreType(chosen:cpuFlags:)``), it sets the variable and replaces the
/// process with a fresh copy of itself, same arguments. A variable the user set is never
/// overridden, and the relaunch happens at most once.
///
/// ```swift
/// static func main() {
///     BLASKernels.relaunchIfNarrowerThanCPU()   // returns here when nothing needs changing
///     main(nil)
/// }
/// ```
public enum BLASKernels {
    /// Set in the relaunched process (to the core type chosen), so it never relaunches again.
    public static let relaunchedVariable = "DIFFREP_BLAS_RELAUNCHED"

    /// What ``relaunchIfNarrowerThanCPU()`` would do in this environment: the core type to set,
    /// or nil to run as is.
    ///
    /// - Parameters:
    ///   - environment: the process environment (`OPENBLAS_CORETYPE` or ``relaunchedVariable``
    ///     present: nil).
    ///   - chosen: the core OpenBLAS chose (``BLAS/coreName``).
    ///   - cpuFlags: the CPU's feature flags (``BLAS/cpuFlags``).
    public static func relaunchCoreType(environment: [String: String], chosen: String,
                                        cpuFlags: Set<String>) -> String? {
        if environment["OPENBLAS_CORETYPE"] != nil || environment[relaunchedVariable] != nil { return nil }
        return BLAS.betterCoreType(chosen: chosen, cpuFlags: cpuFlags)
    }

    /// Replaces this process with itself under a better `OPENBLAS_CORETYPE` when OpenBLAS chose
    /// narrower kernels than the CPU has; returns (doing nothing) otherwise, or if the relaunch fails.
    /// Call it first thing in `main`, before any thread starts.
    public static func relaunchIfNarrowerThanCPU() {
        guard let core = relaunchCoreType(environment: ProcessInfo.processInfo.environment,
                                          chosen: BLAS.coreName, cpuFlags: BLAS.cpuFlags) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(relaunchedVariable, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when execv failed: carry on with the kernels loaded.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
