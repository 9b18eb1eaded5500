import Foundation
import RealModule

// Group and layer normalisation, fused: one kernel normalises "rows" (a group of channels of
// one sample, or one vector along the last axis) to zero mean and unit variance (biased
// variance, like PyTorch), then applies a per-channel affine. Hand-written VJP and JVP:
//   x̂ = (x − μ)·r,  r = 1/√(σ² + ε),  y = x̂·w + b
//   dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = g·w      (the JVP is the same map on ẋ·… )

extension Tensor {
    /// Group normalisation (Wu & He 2018) of `self` `[N, C, ...]`: the channels are split into
    /// `groups` groups and each (sample, group) is normalised over its channels and all trailing
    /// axes, then scaled by `weight` `[C]` and shifted by `bias` `[C]` (each optional).
    ///
    /// ```swift
    /// let x = Tensor.ones([2, 8, 4, 4])
    /// let gamma = Tensor.parameter([8], data: [Float](repeating: 1, count: 8))
    /// x.groupNorm(groups: 4, weight: gamma, bias: nil).shape   // [2, 8, 4, 4]
    /// ```
    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 2, "groupNorm input must be [N, C, ...], got \(shape)")
        let c = shape[1]
        precondition(groups >= 1 && c % groups == 0, "groupNorm: \(c) channels do not split into \(groups) groups")
        let layout = NormalizationLayout(rows: shape[0] * groups, groups: groups, channelsPerGroup: c / groups,
                                         spatial: shape[2...].reduce(1, *))
        return layout.apply(self, weight: weight, bias: bias, eps: eps, op: "groupNorm")
    }

    /// Layer normalisation (Ba et al. 2016) over the last axis of `self` `[..., D]`, then scaled by
    /// `weight` `[D]` and shifted by `bias` `[D]` (each optional).
    ///
    /// ```swift
    /// let x = Tensor([2, 3], data: [1, 2, 3, 2, 4, 6])
    /// x.layerNorm(weight: nil, bias: nil).data   // ≈ [-1.22, 0, 1.22, -1.22, 0, 1.22]
    /// ```
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 1, "layerNorm needs at least one axis")
        let d = shape[rank - 1]
        let layout = NormalizationLayout(rows: count / Swift.max(d, 1), groups: 1, channelsPerGroup: d, spatial: 1)
        return layout.apply(self, weight: weight, bias: bias, eps: eps, op: "layerNorm")
    }
}

/// How a tensor splits into normalised rows: row `r` holds `channelsPerGroup` channels of
/// `spatial` values each, starting at channel `(r % groups)·channelsPerGroup`.
struct NormalizationLayout {
    let rows: Int, groups: Int, channelsPerGroup: Int, spatial: Int
    var rowLength: Int { channelsPerGroup * spatial }
    var channels: Int { groups * channelsPerGroup }

    /// Rows per parallel task: enough that each task has some 32 K values to work on.
    var minChunk: Int { Swift.max(1, 32_768 / Swift.max(rowLength, 1)) }

    func apply(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float, op: String) -> Tensor {
        if let weight { precondition(weight.shape == [channels], "\(op) weight must be [\(channels)], got \(weight.shape)") }
        if let bias { precondition(bias.shape == [channels], "\(op) bias must be [\(channels)], got \(bias.shape)") }
        let (mean, rstd) = statistics(x.data, eps: eps)
        let y = affine(x.data, mean: mean, rstd: rstd, weight: weight?.data, bias: bias?.data)
        let parents = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
        return Tensor.makeResult(
            op: op, shape: x.shape, data: y, parents: parents,
            backward: { g in
                if x.requiresGrad {
                    x.accumulateGrad { dx in
                        inputGradient(g, x: x.data, mean: mean, rstd: rstd, weight: weight?.data, into: dx.baseAddress!)
                    }
                }
                let needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
                if needW || needB {
                    let (dw, db) = affineGradients(g, x: x.data, mean: mean, rstd: rstd)
                    if needW { weight!.accumulateGrad(dw) }
                    if needB { bias!.accumulateGrad(db) }
                }
            },
            jvp: {
                // ẏ = x̂̇·w + x̂·ẇ + ḃ, where x̂̇ = r·(ẋ − mean(ẋ) − x̂·mean(ẋ·x̂)) is the same map as dx.
                var t = [Float](repeating: 0, count: x.count)
                if let tx = x.tangent {
                    t.withUnsafeMutableBufferPointer { tp in
                        inputGradient(tx, x: x.data, mean: mean, rstd: rstd, weight: nil, into: tp.baseAddress!)
                    }
                    if let w = weight?.data { t = scaleByChannel(t, w) }
                }
                if weight?.tangent != nil || bias?.tangent != nil {
                    let u = affine(x.data, mean: mean, rstd: rstd, weight: weight?.tangent ?? [Float](repeating: 0, count: channels),
                                   bias: bias?.tangent)
                    for i in 0..<t.count { t[i] += u[i] }
                }
                return t
            })
    }

    /// Mean and reciprocal standard deviation `1/√(σ² + ε)` (biased variance) of every row of `x`.
    func statistics(_ x: [Float], eps: Float) -> (mean: [Float], rstd: [Float]) {
        let m = rowLength, n = rows
        var mean = [Float](repeating: 0, count: n), rstd = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xb in mean.withUnsafeMutableBufferPointer { mb in
            rstd.withUnsafeMutableBufferPointer { rb in
                nonisolated(unsafe) let xp = xb.baseAddress!, mp = mb.baseAddress!, rp = rb.baseAddress!
                Parallel.forEach(n, minChunk: minChunk) { r in
                    let row = xp + r &* m
                    var s: Float = 0
                    for j in 0..<m { s = Relaxed.sum(s, row[j]) }
                    let mu = s / Float(Swift.max(m, 1))
                    var v: Float = 0
                    for j in 0..<m { let d = row[j] - mu; v = Relaxed.multiplyAdd(d, d, v) }
                    mp[r] = mu
                    rp[r] = 1 / (v / Float(Swift.max(m, 1)) + eps).squareRoot()
                }
            }
        } }
        return (mean, rstd)
    }

    /// Calls `body(channel, offset)` for each channel run of row `r`: `spatial` values from `offset`.
    @inline(__always)
    private func forEachChannel(ofRow r: Int, _ body: (Int, Int) -> Void) {
        let c0 = (r % groups) &* channelsPerGroup
        for ci in 0..<channelsPerGroup { body(c0 &+ ci, r &* rowLength &+ ci &* spatial) }
    }

    /// `y = (x − μ)·r·w + b` with `w` = 1 and `b` = 0 where absent.
    func affine(_ x: [Float], mean: [Float], rstd: [Float], weight: [Float]?, bias: [Float]?) -> [Float] {
        let s = spatial, m = rowLength
        return uninitializedFloats(rows * m) { yp in
            nonisolated(unsafe) let y = yp
            x.withUnsafeBufferPointer { xb in
                nonisolated(unsafe) let xp = xb.baseAddress!
                Parallel.forEach(rows, minChunk: minChunk) { r in
                    let mu = mean[r], rs = rstd[r]
                    if s == 1 {
                        // one value per channel (layer norm): vectorise across channels
                        let c0 = (r % groups) &* channelsPerGroup, base = r &* m
                        for j in 0..<m {
                            let a = rs * (weight?[c0 &+ j] ?? 1)
                            y[base &+ j] = (xp[base &+ j] - mu) * a + (bias?[c0 &+ j] ?? 0)
                        }
                        return
                    }
                    forEachChannel(ofRow: r) { c, o in
                        let a = rs * (weight?[c] ?? 1)
                        let b = (bias?[c] ?? 0) - mu * a
                        for j in o..<(o &+ s) { y[j] = xp[j] * a + b }
                    }
                }
            }
        }
    }

    /// Adds `r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))` with `ĝ = g·w` into `dx`, row by row.
    func inputGradient(_ g: [Float], x: [Float], mean: [Float], rstd: [Float], weight: [Float]?,
                       into dxp: UnsafeMutablePointer<Float>) {
        let s = spatial, m = rowLength
        nonisolated(unsafe) let dx = dxp
        g.withUnsafeBufferPointer { gb in x.withUnsafeBufferPointer { xb in
            nonisolated(unsafe) let gp = gb.baseAddress!, xp = xb.baseAddress!
            Parallel.forEach(rows, minChunk: minChunk) { r in
                let mu = mean[r], rs = rstd[r]
                var s1: Float = 0, s2: Float = 0   // Σ ĝ, Σ ĝ·x̂
                forEachChannel(ofRow: r) { c, o in
                    let w = weight?[c] ?? 1
                    var a: Float = 0, b: Float = 0
                    for j in o..<(o &+ s) {
                        let gh = gp[j] * w
                        a = Relaxed.sum(a, gh)
                        b = Relaxed.multiplyAdd(gh, xp[j] - mu, b)
                    }
                    s1 += a
                    s2 += b
                }
                s2 *= rs   // Σ ĝ·x̂ = r·Σ ĝ·(x − μ)
                let inv = 1 / Float(Swift.max(m, 1))
                let k1 = s1 * inv, k2 = s2 * inv
                forEachChannel(ofRow: r) { c, o in
                    let w = weight?[c] ?? 1
                    for j in o..<(o &+ s) {
                        let xh = (xp[j] - mu) * rs
                        dx[j] += rs * (gp[j] * w - k1 - xh * k2)
                    }
                }
            }
        } }
    }

    /// `(dw, db)` per channel: `Σ g·x̂` and `Σ g` over every row and position of the channel.
    func affineGradients(_ g: [Float], x: [Float], mean: [Float], rstd: [Float]) -> ([Float], [Float]) {
        var dw = [Float](repeating: 0, count: channels), db = [Float](repeating: 0, count: channels)
        let s = spatial
        g.withUnsafeBufferPointer { gp in x.withUnsafeBufferPointer { xp in
            dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in
                for r in 0..<rows {
                    let mu = mean[r], rs = rstd[r]
                    forEachChannel(ofRow: r) { c, o in
                        if s == 1 {
                            dwp[c] += gp[o] * (xp[o] - mu) * rs
                            dbp[c] += gp[o]
                            return
                        }
                        var a: Float = 0, b: Float = 0
                        for j in o..<(o &+ s) {
                            a = Relaxed.multiplyAdd(gp[j], xp[j] - mu, a)
                            b = Relaxed.sum(b, gp[j])
                        }
                        dwp[c] += rs * a
                        dbp[c] += b
                    }
                }
            } }
        } }
        return (dw, db)
    }

    /// `t` with each channel's values multiplied by `w[channel]`.
    func scaleByChannel(_ t: [Float], _ w: [Float]) -> [Float] {
        var out = t
        out.withUnsafeMutableBufferPointer { op in
            for r in 0..<rows { forEachChannel(ofRow: r) { c, o in for j in o..<(o &+ spatial) { op[j] *= w[c] } } }
        }
        return out
    }
}
