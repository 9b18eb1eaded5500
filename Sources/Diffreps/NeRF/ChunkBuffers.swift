import TensorCore

/// Scatter-add without atomics, the one scheme the NeRF fields' VJPs use (trilinear
/// interpolation, the hash-grid encoding): the points are split into contiguous ranges, each
/// worker adds its range's contributions into a zeroed buffer of its own, and the buffers are
/// then summed into the first, in parallel over slices. Deterministic for a given worker count.
///
/// ```swift
/// let grad = ChunkBuffers.scatter(points: P, size: grid.count) { buffer, points in
///     for p in points { buffer[target[p]] += g[p] }        // buffer: `size` floats, zeroed
/// }
/// ```
enum ChunkBuffers {
    /// Points per worker below which fewer workers are used.
    static let minPointsPerChunk = 4096
    /// The most floats all buffers together may hold (64 MB): larger outputs use fewer workers.
    static let maxTotalFloats = 1 << 24

    /// The sum over workers of `body(buffer, range)`, each worker's `buffer` a zeroed array of
    /// `size` floats and its `range` a contiguous part of `0..<points`; `[size]`. A worker gets
    /// at least `minPerChunk` points (items that stand for many points, such as rays, pass less).
    static func scatter(points: Int, size: Int, minPerChunk: Int = minPointsPerChunk,
                        _ body: (_ buffer: UnsafeMutablePointer<Float>, _ points: Range<Int>) -> Void) -> [Float] {
        let chunks = Swift.max(1, Swift.min(Parallel.workers, points / Swift.max(minPerChunk, 1),
                                            maxTotalFloats / Swift.max(size, 1)))
        var buffers = [Float](repeating: 0, count: chunks * size)
        buffers.withUnsafeMutableBufferPointer { bp in
            guard let bp = bp.baseAddress else { return }             // size 0: nothing to add into
            Parallel.forEach(chunks) { k in body(bp + k &* size, (points * k / chunks)..<(points * (k + 1) / chunks)) }
            sumIntoFirst(bp, chunks: chunks, size: size)
        }
        return chunks == 1 ? buffers : Array(buffers[0..<size])
    }

    /// Runs `body(range)` for consecutive ranges of `size` points (the last may be shorter)
    /// across the workers, each worker a contiguous run of them: passes over points that need no
    /// buffer of their own (forward passes, tangents).
    static func forEachChunk(points: Int, size: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEach((points + size - 1) / size) { c in
            let lo = c &* size
            body(lo..<Swift.min(points, lo &+ size))
        }
    }

    /// Runs `body(run)` for at most one contiguous run of points per worker, each run a whole
    /// number of `size`-point chunks (the last run may end short): passes that need scratch of
    /// their own allocate it once per run and step through it chunk by chunk.
    static func forEachRun(points: Int, size: Int, _ body: (Range<Int>) -> Void) {
        let chunks = (points + size - 1) / size, runs = Swift.max(1, Swift.min(Parallel.workers, chunks))
        Parallel.forEach(runs) { k in
            body(Swift.min(points, chunks * k / runs * size)..<Swift.min(points, chunks * (k + 1) / runs * size))
        }
    }

    /// Sums `chunks` buffers of `size` floats laid end to end from `buffers` into the first.
    private static func sumIntoFirst(_ buffers: UnsafeMutablePointer<Float>, chunks: Int, size: Int) {
        guard chunks > 1 else { return }
        nonisolated(unsafe) let bp = buffers
        let block = 16384
        Parallel.forEach((size + block - 1) / block) { j in
            let lo = j &* block, hi = Swift.min(size, lo &+ block)
            for k in 1..<chunks {
                let src = bp + k &* size
                for i in lo..<hi { bp[i] += src[i] }
            }
        }
    }
}
