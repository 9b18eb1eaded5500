import Foundation
import TensorCore

// Shared plumbing of the analytic denoisers: they see a batch `[B, …]` as `B` flat vectors
// of dimension `d` and compute in Double.

/// The smallest `σ²` the analytic denoisers use, so that `σ = 0` gives the σ → 0 limit
/// (for example the nearest training image) instead of a division by zero.
let minimumNoiseVariance = 1e-60

extension Tensor {
    /// Applies `body(item, out)` to each flat item of dimension `d` of a batch `[B, …]`
    /// (in parallel over the batch) and returns the `[B, …]` result, off the tape.
    static func mapItems(_ x: Tensor, dimension d: Int, who: String,
                         _ body: (_ item: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        precondition(x.rank >= 1 && x.shape[0] > 0 && x.count == x.shape[0] * d,
                     "\(who) works on a batch of items of \(d) values, got shape \(x.shape)")
        let b = x.shape[0]
        var out = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                nonisolated(unsafe) let xp = xb.baseAddress!, op = ob.baseAddress!
                withoutActuallyEscaping(body) { body in
                    nonisolated(unsafe) let f = body
                    Parallel.forEach(b, minChunk: Swift.max(1, 4096 / Swift.max(d, 1))) { i in
                        f(xp + i &* d, op + i &* d)
                    }
                }
            }
        }
        return Tensor(x.shape, data: out)
    }
}

/// Replaces log-weights by the normalised weights `softmax(logits)` in place
/// (log-sum-exp stable); returns the log normaliser.
@discardableResult
func softmaxInPlace(_ w: UnsafeMutableBufferPointer<Double>) -> Double {
    var m = -Double.infinity
    for v in w where v > m { m = v }
    precondition(m > -.infinity, "all weights are zero")
    var s = 0.0
    for i in 0..<w.count { let e = Foundation.exp(w[i] - m); w[i] = e; s += e }
    for i in 0..<w.count { w[i] /= s }
    return m + Foundation.log(s)
}
