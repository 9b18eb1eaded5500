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

/// SiLU of an affine map over one contiguous run, eight lanes at a time.
enum SiLURun {
    /// `σ(z)` for `z` on eight lanes (inputs below −88 give 0 without overflow).
    @inline(__always)
    static func sigmoid(_ z: SIMD8<Float>) -> SIMD8<Float> {
        var negated = -z
        negated.replace(with: SIMD8(repeating: 88), where: negated .> SIMD8(repeating: 88))
        return SIMD8(repeating: 1) / (SIMD8(repeating: 1) + FastMath.exp8(negated))
    }

    /// `y[j] = z·σ(z)` with `z = x[j]·a + b`, `j < n`.
    @inline(__always)
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale a: Float, shift b: Float) {
        let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
        var j = 0
        while j &+ 8 <= n {
            let z = xr.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self) * a + b
            yr.storeBytes(of: z * sigmoid(z), toByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        while j < n {
            let z = x[j] * a + b
            y[j] = z * Tensor.sigmoid(z)
            j &+= 1
        }
    }

    /// `d[j] = g[j]·σ(z)·(1 + z·(1 − σ(z)))` with `z = x[j]·a + b`, `j < n`.
    @inline(__always)
    static func derivative(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int,
                           scale a: Float, shift b: Float) {
        let xr = UnsafeRawPointer(x), gr = UnsafeRawPointer(g), dr = UnsafeMutableRawPointer(d)
        let one = SIMD8<Float>(repeating: 1)
        var j = 0
        while j &+ 8 <= n {
            let z = xr.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self) * a + b
            let s = sigmoid(z)
            let gv = gr.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
            dr.storeBytes(of: gv * (s * (one + z * (one - s))), toByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        while j < n {
            let z = x[j] * a + b
            let s = Tensor.sigmoid(z)
            d[j] = g[j] * (s * (1 + z * (1 - s)))
            j &+= 1
        }
    }
}
