import TensorCore

/// The second half of a scatter-add done without atomics: `chunks` workers each added into their
/// own buffer of `size` floats, laid end to end from `buffers`; this sums them all into the first,
/// in parallel over slices (deterministic for a given chunk count).
///
/// ```swift
/// ChunkBuffers.sumIntoFirst(bp, chunks: 2, size: grid.count)   // bp[0..<size] now holds the total
/// ```
enum ChunkBuffers {
    static func sumIntoFirst(_ buffers: UnsafeMutablePointer<Float>, chunks: Int, size: Int) {
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
