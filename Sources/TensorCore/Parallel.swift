import Foundation
import Dispatch

/// Parallel loops on Dispatch, one level at a time: OpenBLAS runs single-threaded inside.
///
/// ```swift
/// Parallel.forEach(rows) { r in process(row: r) }
/// ```
public enum Parallel {
    /// Worker count for parallel loops (defaults to the active processor count).
    nonisolated(unsafe) public static var workers = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body(i)` for `i` in `0..<n`, split into contiguous chunks across workers.
    /// Falls back to a serial loop for small `n` (below `minChunk` per worker) or one worker.
    public static func forEach(_ n: Int, minChunk: Int = 1, _ body: (Int) -> Void) {
        let w = Swift.min(workers, Swift.max(1, n / Swift.max(minChunk, 1)))
        if w <= 1 {
            for i in 0..<n { body(i) }
            return
        }
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let f = body
            DispatchQueue.concurrentPerform(iterations: w) { c in
                let lo = n * c / w, hi = n * (c + 1) / w
                for i in lo..<hi { f(i) }
            }
        }
    }
}
