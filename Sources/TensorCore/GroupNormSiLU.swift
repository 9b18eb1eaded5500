import Foundation
import RealModule

// Group normalisation followed by SiLU, fused into one op: every ResNet block of a UNet opens
// with `silu(groupNorm(x))` twice, and the composed ops write and re-read three full arrays
// (the normalised values, σ and the activations) where the fused op writes only its output.
// With z = x̂·w + b (x̂ = (x − μ)·r, see Normalization.swift) and y = z·σ(z):
//   dz = g·σ(z)·(1 + z·(1 − σ(z)))                  (z and σ(z) recomputed from x, μ, r, w, b)
//   dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = dz·w,   dw = Σ dz·x̂,   db = Σ dz
//   ż  = (the group norm's tangent),  ẏ = σ'(z)·ż

extension Tensor {
    /// `groupNorm(groups:weight:bias:eps:)` followed by `silu()`, as one op (same values and
    /// derivatives, one pass over memory fewer each way).
    ///
    /// ```swift
    /// let x = Tensor.ones([2, 8, 4, 4])
    /// let gamma = Tensor.parameter([8], data: [Float](repeating: 1, count: 8))
    /// x.groupNormSiLU(groups: 4, weight: gamma, bias: nil).shape   // [2, 8, 4, 4]
    /// ```
    public func groupNormSiLU(groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 2, "groupNormSiLU input must be [N, C, ...], got \(shape)")
        let c = shape[1]
        precondition(groups >= 1 && c % groups == 0, "groupNormSiLU: \(c) channels do not split into \(groups) groups")
        let layout = NormalizationLayout(rows: shape[0] * groups, groups: groups, channelsPerGroup: c / groups,
                                         spatial: shape[2...].reduce(1, *))
        if let weight { precondition(weight.shape == [c], "groupNormSiLU weight must be [\(c)], got \(weight.shape)") }
        if let bias { precondition(bias.shape == [c], "groupNormSiLU bias must be [\(c)], got \(bias.shape)") }
        let x = self
        let (mean, rstd) = layout.statistics(x.data, eps: eps)
        let y = layout.affineSiLU(x.data, mean: mean, rstd: rstd, weight: weight?.data, bias: bias?.data)
        let parents = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
        return Tensor.makeResult(
            op: "groupNormSiLU", shape: x.shape, data: y, parents: parents,
            backward: { g in
                // dz = g·σ'(z), then the group norm's backward of dz
                let dz = layout.siluBackward(g, x: x.data, mean: mean, rstd: rstd, weight: weight?.data, bias: bias?.data)
                if x.requiresGrad {
                    x.accumulateGrad { dx in
                        layout.inputGradient(dz, x: x.data, mean: mean, rstd: rstd, weight: weight?.data, into: dx.baseAddress!)
                    }
                }
                let needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
                if needW || needB {
                    let (dw, db) = layout.affineGradients(dz, x: x.data, mean: mean, rstd: rstd)
                    if needW { weight!.accumulateGrad(dw) }
                    if needB { bias!.accumulateGrad(db) }
                }
            },
            jvp: {
                // ż as in the group norm's JVP, then ẏ = σ'(z)·ż
                var t = [Float](repeating: 0, count: x.count)
                if let tx = x.tangent {
                    t.withUnsafeMutableBufferPointer { tp in
                        layout.inputGradient(tx, x: x.data, mean: mean, rstd: rstd, weight: nil, into: tp.baseAddress!)
                    }
                    if let w = weight?.data { t = layout.scaleByChannel(t, w) }
                }
                if weight?.tangent != nil || bias?.tangent != nil {
                    let u = layout.affine(x.data, mean: mean, rstd: rstd,
                                          weight: weight?.tangent ?? [Float](repeating: 0, count: c), bias: bias?.tangent)
                    for i in 0..<t.count { t[i] += u[i] }
                }
                return layout.siluBackward(t, x: x.data, mean: mean, rstd: rstd, weight: weight?.data, bias: bias?.data)
            })
    }
}

extension NormalizationLayout {
    /// `y = silu((x − μ)·r·w + b)` per channel, eight lanes at a time.
    func affineSiLU(_ x: [Float], mean: [Float], rstd: [Float], weight: [Float]?, bias: [Float]?) -> [Float] {
        let s = spatial
        return uninitializedFloats(x.count) { yp in
            nonisolated(unsafe) let y = yp
            x.withUnsafeBufferPointer { xb in
                nonisolated(unsafe) let xp = xb.baseAddress!
                Parallel.forEach(rows, minChunk: minChunk) { r in
                    forEachChannelRun(ofRow: r, mean: mean, rstd: rstd, weight: weight, bias: bias) { o, a, b in
                        SiLURun.forward(xp + o, y + o, s, scale: a, shift: b)
                    }
                }
            }
        }
    }

    /// `g·σ'(z)` with `z = (x − μ)·r·w + b` recomputed and `σ'(z) = σ(z)·(1 + z·(1 − σ(z)))`.
    func siluBackward(_ g: [Float], x: [Float], mean: [Float], rstd: [Float], weight: [Float]?, bias: [Float]?) -> [Float] {
        let s = spatial
        return uninitializedFloats(x.count) { dp in
            nonisolated(unsafe) let d = dp
            x.withUnsafeBufferPointer { xb in g.withUnsafeBufferPointer { gb in
                nonisolated(unsafe) let xp = xb.baseAddress!, gp = gb.baseAddress!
                Parallel.forEach(rows, minChunk: minChunk) { r in
                    forEachChannelRun(ofRow: r, mean: mean, rstd: rstd, weight: weight, bias: bias) { o, a, b in
                        SiLURun.derivative(xp + o, gp + o, d + o, s, scale: a, shift: b)
                    }
                }
            } }
        }
    }

    /// Calls `body(offset, a, b)` for each channel run of row `r`, where the channel's affine
    /// map is `z = x·a + b` (`a = r·w`, `b = bias − μ·a`).
    @inline(__always)
    func forEachChannelRun(ofRow r: Int, mean: [Float], rstd: [Float], weight: [Float]?, bias: [Float]?,
                           _ body: (Int, Float, Float) -> Void) {
        let mu = mean[r], rs = rstd[r]
        let c0 = (r % groups) &* channelsPerGroup
        for ci in 0..<channelsPerGroup {
            let c = c0 &+ ci
            let a = rs * (weight?[c] ?? 1)
            body(r &* rowLength &+ ci &* spatial, a, (bias?[c] ?? 0) - mu * a)
        }
    }
}

/// SiLU of an affine map over one contiguous run: simple loops the compiler vectorises, and
/// ``Tensor/sigmoid8(_:_:_:)`` for σ (a channel's run stays in the L1 cache between passes;
/// hand-written eight-lane code with lane masks here compiled to lane-by-lane stores).
enum SiLURun {
    /// `y[j] = z·σ(z)` with `z = x[j]·a + b`, `j < n`.
    @inline(__always)
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale a: Float, shift b: Float) {
        for j in 0..<n { y[j] = x[j] * a + b }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(n, 1)) { sb in
            let s = sb.baseAddress!
            Tensor.sigmoid8(y, s, n)
            for j in 0..<n { y[j] *= s[j] }
        }
    }

    /// `d[j] = g[j]·σ(z)·(1 + z·(1 − σ(z)))` with `z = x[j]·a + b`, `j < n`.
    @inline(__always)
    static func derivative(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int,
                           scale a: Float, shift b: Float) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(2 &* n, 1)) { buffer in
            let z = buffer.baseAddress!, s = z + n
            for j in 0..<n { z[j] = x[j] * a + b }
            Tensor.sigmoid8(z, s, n)
            for j in 0..<n { d[j] = g[j] * (s[j] * (1 + z[j] * (1 - s[j]))) }
        }
    }
}
