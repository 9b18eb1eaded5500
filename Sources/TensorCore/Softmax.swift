import Foundation
import RealModule

// Softmax and log-softmax along one axis, computed stably (max subtracted), with fused VJP/JVP:
//   softmax:     y = eˣ/Σeˣ,      dx = y·(g − Σ g·y),   ẏ = y·(ẋ − Σ ẋ·y)
//   log-softmax: y = x − log Σeˣ, dx = g − p·Σ g,       ẏ = ẋ − Σ p·ẋ      (p = eʸ)

extension Tensor {
    /// Softmax along `axis`: values along it are positive and sum to 1.
    ///
    /// ```swift
    /// Tensor([1, 3], data: [0, 0, log(2)]).softmax().data   // [0.25, 0.25, 0.5]
    /// ```
    public func softmax(axis: Int = -1) -> Tensor {
        let lines = SoftmaxLines(shape: shape, axis: self.axis(axis))
        let y = lines.map(data) { x, y, n, step in
            Softmax.normalise(x, y, n, step, log: false)
        }
        return Tensor.makeResult(
            op: "softmax", shape: shape, data: y, parents: [self],
            backward: { g in
                let d = lines.map2(g, y) { g, y, out, n, step in   // y·(g − Σ g·y)
                    let s = Softmax.dot(g, y, n, step)
                    for k in 0..<n { out[k &* step] = y[k &* step] * (g[k &* step] - s) }
                }
                self.accumulateGrad(d)
            },
            jvp: {
                lines.map2(self.tangentOrZeros, y) { t, y, out, n, step in
                    let s = Softmax.dot(t, y, n, step)
                    for k in 0..<n { out[k &* step] = y[k &* step] * (t[k &* step] - s) }
                }
            })
    }

    /// `log(softmax(x))` along `axis`, computed without forming the softmax (stable for large inputs).
    ///
    /// ```swift
    /// Tensor([2], data: [0, 0]).logSoftmax().data   // [-0.693, -0.693]
    /// ```
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let lines = SoftmaxLines(shape: shape, axis: self.axis(axis))
        let y = lines.map(data) { x, y, n, step in
            Softmax.normalise(x, y, n, step, log: true)
        }
        return Tensor.makeResult(
            op: "logSoftmax", shape: shape, data: y, parents: [self],
            backward: { g in
                let d = lines.map2(g, y) { g, y, out, n, step in   // g − eʸ·Σ g
                    var s: Float = 0
                    for k in 0..<n { s += g[k &* step] }
                    for k in 0..<n { out[k &* step] = g[k &* step] - Foundation.exp(y[k &* step]) * s }
                }
                self.accumulateGrad(d)
            },
            jvp: {
                lines.map2(self.tangentOrZeros, y) { t, y, out, n, step in   // ẋ − Σ eʸ·ẋ
                    var s: Float = 0
                    for k in 0..<n { s += Foundation.exp(y[k &* step]) * t[k &* step] }
                    for k in 0..<n { out[k &* step] = t[k &* step] - s }
                }
            })
    }
}

/// Row kernels shared by softmax, log-softmax and attention.
enum Softmax {
    /// Writes softmax (or log-softmax) of the `n` values `x[k·step]` to `y[k·step]`.
    @inline(__always)
    static func normalise(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ step: Int, log: Bool) {
        if step == 1 { return normaliseContiguous(x, y, n, log: log) }
        var mx = -Float.infinity
        for k in 0..<n { mx = Swift.max(mx, x[k &* step]) }
        if mx == -.infinity { mx = 0 }   // an all −∞ line gives NaN like PyTorch, not a trap
        var s: Float = 0
        for k in 0..<n {
            let e = Foundation.exp(x[k &* step] - mx)
            if !log { y[k &* step] = e }
            s += e
        }
        if log {
            let lse = mx + Foundation.log(s)
            for k in 0..<n { y[k &* step] = x[k &* step] - lse }
        } else {
            let inv = 1 / s
            for k in 0..<n { y[k &* step] *= inv }
        }
    }

    /// ``normalise(_:_:_:_:log:)`` for a contiguous line, eight lanes at a time.
    @inline(__always)
    static func normaliseContiguous(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
        let n8 = n & ~7
        // the maximum eight lanes at a time (compare and select: a serial max chain is latency-bound)
        var m8 = SIMD8<Float>(repeating: -.infinity)
        for k in stride(from: 0, to: n8, by: 8) {
            let v = xr.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
            m8.replace(with: v, where: v .> m8)
        }
        var mx = -Float.infinity
        for l in 0..<8 where m8[l] > mx { mx = m8[l] }
        for k in n8..<n where x[k] > mx { mx = x[k] }
        if mx == -.infinity { mx = 0 }
        var s8 = SIMD8<Float>()
        var s: Float = 0
        for k in stride(from: 0, to: n8, by: 8) {
            let e = FastMath.exp8(xr.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self) - SIMD8(repeating: mx))
            if !log { yr.storeBytes(of: e, toByteOffset: k &* 4, as: SIMD8<Float>.self) }
            s8 += e
        }
        for k in n8..<n {
            let e = Foundation.exp(x[k] - mx)
            if !log { y[k] = e }
            s += e
        }
        s += s8.sum()
        if log {
            let lse = mx + Foundation.log(s)
            for k in 0..<n { y[k] = x[k] - lse }
        } else {
            let inv = 1 / s
            for k in 0..<n { y[k] *= inv }
        }
    }

    /// `Σ a[k·step]·b[k·step]`.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, _ step: Int) -> Float {
        var s: Float = 0
        if step == 1 {
            for k in 0..<n { s = Relaxed.multiplyAdd(a[k], b[k], s) }   // vectorises
        } else {
            for k in 0..<n { s += a[k &* step] * b[k &* step] }
        }
        return s
    }
}

/// The lines along one axis of a row-major shape: `outer·inner` lines of `n` values, `inner` apart.
struct SoftmaxLines {
    let outer: Int, n: Int, inner: Int

    init(shape: [Int], axis: Int) {
        if shape.isEmpty { outer = 1; n = 1; inner = 1; return }
        outer = shape[..<axis].reduce(1, *)
        n = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    var count: Int { outer * n * inner }

    /// Runs `body(line start, step)` for every line, in parallel.
    func forEachLine(_ body: (Int, Int) -> Void) {
        let inner = inner, n = n
        Parallel.forEach(outer * inner, minChunk: Swift.max(1, 16_384 / Swift.max(n, 1))) { l in
            body((l / inner) &* n &* inner &+ l % inner, inner)
        }
    }

    /// A new array from `f(x line, out line, n, step)` for every line.
    func map(_ x: [Float], _ f: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> [Float] {
        let n = n
        return uninitializedFloats(count) { outp in
            nonisolated(unsafe) let out = outp
            x.withUnsafeBufferPointer { xb in
                nonisolated(unsafe) let xp = xb.baseAddress!
                forEachLine { start, step in f(xp + start, out + start, n, step) }
            }
        }
    }

    /// A new array from `f(a line, b line, out line, n, step)` for every line.
    func map2(_ a: [Float], _ b: [Float],
              _ f: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> [Float] {
        let n = n
        return uninitializedFloats(count) { outp in
            nonisolated(unsafe) let out = outp
            a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in
                nonisolated(unsafe) let ap = ab.baseAddress!, bp = bb.baseAddress!
                forEachLine { start, step in f(ap + start, bp + start, out + start, n, step) }
            } }
        }
    }
}
