import Foundation

// Fused volume compositing (emission–absorption alpha compositing along rays), the NeRF
// renderer's inner loop. One op per output, no graph node per sample: the backward re-walks
// each ray from the back with suffix sums and the forward mode walks it from the front with
// prefix sums, as instant-ngp's compositor does.
//
// Per ray, with samples i = 0..<S, optical depth s_i = σ_i·δ_i:
//   α_i = 1 − exp(−s_i),  T_i = exp(−Σ_{j<i} s_j),  w_i = T_i·α_i,
//   C = Σ_i w_i·c_i + T_S·bg,   opacity = 1 − T_S = Σ_i w_i,   depth = Σ_i w_i·t_i.
// Derivatives (T_{i+1} = T_i·exp(−s_i)):
//   ∂C/∂s_i = T_{i+1}·c_i − Σ_{k>i} w_k·c_k − T_S·bg,   ∂C/∂c_i = w_i,   ∂C/∂bg = T_S,
//   ∂opacity/∂s_i = T_S,   ∂depth/∂s_i = T_{i+1}·t_i − Σ_{k>i} w_k·t_k.
// Forward mode with a_i = δ_i·σ̇_i and the prefix A_i = Σ_{j<i} a_j:
//   ẇ_i = T_{i+1}·a_i − w_i·A_i,   Ṫ_S = −T_S·A_S,
//   Ċ = Σ_i (ẇ_i·c_i + w_i·ċ_i) + Ṫ_S·bg + T_S·ḃg.

extension Tensor {
    /// Alpha-composites samples along rays over a background, in one fused op per output.
    ///
    /// For each ray `r` with samples `i` (optical depth `s_i = σ_i·δ_i`):
    /// `α_i = 1 − exp(−s_i)`, transmittance `T_i = exp(−Σ_{j<i} s_j)`, weight `w_i = T_i·α_i`,
    /// `color = Σ w_i·c_i + T_S·background`, `opacity = 1 − T_S`, `depth = Σ w_i·t_i`.
    ///
    /// - Parameters:
    ///   - densities: `[R, S]`, non-negative volume densities σ (on the tape or carrying tangents).
    ///   - colors: `[R, S, C]` sample colours.
    ///   - deltas: `[R·S]` constant interval lengths δ (0 makes a sample transparent; a ray of
    ///     zero deltas shows the background).
    ///   - distances: `[R·S]` constant sample distances `t` along the ray, used for `depth`.
    ///     When nil, `t_i` is the midpoint of sample `i`'s interval measured from the start of
    ///     the first interval (`Σ_{j<i} δ_j + δ_i/2`).
    ///   - background: `[C]` (shared) or `[R, C]` (per ray) background colour.
    /// - Returns: `color` `[R, C]`, `opacity` `[R]` (`1 − T_S`), and the expected distance
    ///   `depth` `[R]` (not divided by opacity: rays through empty space have depth 0; divide by
    ///   `opacity` for the expected distance to the surface that was hit).
    ///   Gradients and tangents reach `densities`, `colors` and `background`; `opacity` and
    ///   `depth` depend on `densities` only.
    ///
    /// ```swift
    /// let sigma = Tensor.parameter([1, 2], data: [0.5, 2])          // one ray, two samples
    /// let rgb = Tensor([1, 2, 3], data: [1, 0, 0,  0, 0, 1])
    /// let out = Tensor.composite(densities: sigma, colors: rgb, deltas: [1, 1],
    ///                            background: Tensor([3], data: [1, 1, 1]))
    /// out.color.sum().backward()                                       // sigma.grad is set
    /// ```
    public static func composite(densities: Tensor, colors: Tensor, deltas: [Float], distances: [Float]? = nil,
                                 background: Tensor) -> (color: Tensor, opacity: Tensor, depth: Tensor) {
        precondition(densities.rank == 2, "composite: densities must be [R, S], got \(densities.shape)")
        let R = densities.shape[0], S = densities.shape[1]
        precondition(colors.rank == 3 && colors.shape[0] == R && colors.shape[1] == S,
                     "composite: colors must be [R, S, C] = [\(R), \(S), C], got \(colors.shape)")
        let C = colors.shape[2]
        precondition(deltas.count == R * S, "composite: deltas must hold R·S = \(R * S) values, got \(deltas.count)")
        let perRayBackground: Bool
        if background.shape == [C] { perRayBackground = false }
        else if background.shape == [R, C] { perRayBackground = true }
        else { preconditionFailure("composite: background must be [\(C)] or [\(R), \(C)], got \(background.shape)") }
        let ts: [Float]
        if let distances {
            precondition(distances.count == R * S, "composite: distances must hold R·S = \(R * S) values")
            ts = distances
        } else {
            ts = Compositor.midpoints(deltas, rays: R, samples: S)
        }
        let k = Compositor(rays: R, samples: S, channels: C, sigma: densities.data, color: colors.data,
                           delta: deltas, t: ts, background: background.data, perRayBackground: perRayBackground)
        let fwd = k.forward()

        let color = makeResult(
            op: "composite.color", shape: [R, C], data: fwd.color, parents: [densities, colors, background],
            backward: { g in k.backwardColor(g, fwd, densities: densities, colors: colors, background: background) },
            jvp: { k.jvpColor(fwd, densities.tangent, colors.tangent, background.tangent) })
        let opacity = makeResult(
            op: "composite.opacity", shape: [R], data: fwd.opacity, parents: [densities],
            backward: { g in k.backwardScalar(g, fwd, values: nil, densities: densities) },
            jvp: { k.jvpScalar(fwd, densities.tangent, values: nil) })
        let depth = makeResult(
            op: "composite.depth", shape: [R], data: fwd.depth, parents: [densities],
            backward: { g in k.backwardScalar(g, fwd, values: ts, densities: densities) },
            jvp: { k.jvpScalar(fwd, densities.tangent, values: ts) })
        return (color, opacity, depth)
    }
}

/// The compositing kernels (forward, VJPs, JVPs), each parallel over rays.
struct Compositor: Sendable {
    let rays: Int, samples: Int, channels: Int
    let sigma: [Float]        // [R, S]
    let color: [Float]        // [R, S, C]
    let delta: [Float]        // [R, S]
    let t: [Float]            // [R, S]
    let background: [Float]   // [C] or [R, C]
    let perRayBackground: Bool

    /// What the forward pass keeps for the derivatives.
    struct Forward: Sendable {
        var color: [Float]        // [R, C]
        var opacity: [Float]      // [R]
        var depth: [Float]        // [R]
        var weight: [Float]       // [R, S]  w_i
        var transNext: [Float]    // [R, S]  T_{i+1}
        var transFinal: [Float]   // [R]     T_S
    }

    static func midpoints(_ deltas: [Float], rays: Int, samples: Int) -> [Float] {
        var ts = [Float](repeating: 0, count: deltas.count)
        for r in 0..<rays {
            var acc: Float = 0
            for i in 0..<samples {
                let d = deltas[r * samples + i]
                ts[r * samples + i] = acc + 0.5 * d
                acc += d
            }
        }
        return ts
    }

    /// Minimum rays per parallel chunk.
    var minChunk: Int { Swift.max(1, 2048 / Swift.max(samples * (channels + 2), 1)) }

    func forward() -> Forward {
        let R = rays, S = samples, C = channels
        // Every entry but the colour accumulators is written exactly once below.
        func uninitialized(_ n: Int) -> [Float] { [Float](unsafeUninitializedCapacity: n) { _, c in c = n } }
        var out = Forward(color: [Float](repeating: 0, count: R * C), opacity: uninitialized(R),
                          depth: uninitialized(R), weight: uninitialized(R * S),
                          transNext: uninitialized(R * S), transFinal: uninitialized(R))
        let bgStride = perRayBackground ? C : 0
        sigma.withUnsafeBufferPointer { sg in color.withUnsafeBufferPointer { cl in
        delta.withUnsafeBufferPointer { dl in t.withUnsafeBufferPointer { tt in background.withUnsafeBufferPointer { bg in
        out.color.withUnsafeMutableBufferPointer { oc in out.opacity.withUnsafeMutableBufferPointer { oo in
        out.depth.withUnsafeMutableBufferPointer { od in out.weight.withUnsafeMutableBufferPointer { ow in
        out.transNext.withUnsafeMutableBufferPointer { on in out.transFinal.withUnsafeMutableBufferPointer { of in
            nonisolated(unsafe) let sg = sg.baseAddress!, cl = cl.baseAddress!, dl = dl.baseAddress!, tt = tt.baseAddress!
            nonisolated(unsafe) let bg = bg.baseAddress!, oc = oc.baseAddress!, oo = oo.baseAddress!, od = od.baseAddress!
            nonisolated(unsafe) let ow = ow.baseAddress!, on = on.baseAddress!, of = of.baseAddress!
            Parallel.forEach(R, minChunk: minChunk) { r in
                let base = r &* S
                let acc = oc + r &* C
                var trans: Float = 1, depth: Float = 0, optical: Float = 0
                for i in 0..<S {
                    let s = sg[base &+ i] * dl[base &+ i]
                    // 1 − exp(−s) without cancellation for small s (cheaper than expm1).
                    let alpha = s < 1e-3 ? s * (1 - 0.5 * s * (1 - s * (1.0 / 3))) : 1 - Foundation.exp(-s)
                    let w = trans * alpha
                    trans -= w
                    optical += s
                    ow[base &+ i] = w
                    on[base &+ i] = trans
                    depth += w * tt[base &+ i]
                    let ci = cl + (base &+ i) &* C
                    for c in 0..<C { acc[c] += w * ci[c] }
                }
                let b = bg + r &* bgStride
                for c in 0..<C { acc[c] += trans * b[c] }
                of[r] = trans
                oo[r] = -Foundation.expm1(-optical)
                od[r] = depth
            }
        }}}}}}}}}}}
        return out
    }

    /// VJP of `color` into densities, colours and background.
    func backwardColor(_ g: [Float], _ f: Forward, densities: Tensor, colors: Tensor, background bgTensor: Tensor) {
        let R = rays, S = samples, C = channels
        let bgStride = perRayBackground ? C : 0
        if densities.requiresGrad || colors.requiresGrad {
            let wantSigma = densities.requiresGrad, wantColor = colors.requiresGrad
            // Every entry is written exactly once below.
            let nSigma = wantSigma ? R * S : 0, nColor = wantColor ? R * S * C : 0
            var dSigma = [Float](unsafeUninitializedCapacity: nSigma) { _, c in c = nSigma }
            var dColor = [Float](unsafeUninitializedCapacity: nColor) { _, c in c = nColor }
            g.withUnsafeBufferPointer { gp in color.withUnsafeBufferPointer { cl in delta.withUnsafeBufferPointer { dl in
            background.withUnsafeBufferPointer { bg in f.weight.withUnsafeBufferPointer { ow in
            f.transNext.withUnsafeBufferPointer { on in f.transFinal.withUnsafeBufferPointer { of in
            dSigma.withUnsafeMutableBufferPointer { ds in dColor.withUnsafeMutableBufferPointer { dc in
                nonisolated(unsafe) let gp = gp.baseAddress!, cl = cl.baseAddress!, dl = dl.baseAddress!
                nonisolated(unsafe) let bg = bg.baseAddress!, ow = ow.baseAddress!, on = on.baseAddress!, of = of.baseAddress!
                nonisolated(unsafe) let ds = ds.baseAddress, dc = dc.baseAddress
                Parallel.forEach(R, minChunk: minChunk) { r in
                    let base = r &* S
                    let gr = gp + r &* C
                    let b = bg + r &* bgStride
                    var gDotBg: Float = 0
                    for c in 0..<C { gDotBg += gr[c] * b[c] }
                    let backTerm = of[r] * gDotBg
                    var suffix: Float = 0          // Σ_{k>i} w_k·(g·c_k)
                    var i = S &- 1
                    while i >= 0 {
                        let ci = cl + (base &+ i) &* C
                        var gDotC: Float = 0
                        for c in 0..<C { gDotC += gr[c] * ci[c] }
                        let w = ow[base &+ i]
                        if wantSigma { ds![base &+ i] = dl[base &+ i] * (on[base &+ i] * gDotC - suffix - backTerm) }
                        if wantColor {
                            let dci = dc! + (base &+ i) &* C
                            for c in 0..<C { dci[c] = w * gr[c] }
                        }
                        suffix += w * gDotC
                        i &-= 1
                    }
                }
            }}}}}}}}}
            if wantSigma { densities.accumulateGrad(dSigma) }
            if wantColor { colors.accumulateGrad(dColor) }
        }
        if bgTensor.requiresGrad {
            bgTensor.accumulateGrad { dst in
                for r in 0..<R {
                    let tf = f.transFinal[r]
                    for c in 0..<C { dst[r * bgStride + c] += g[r * C + c] * tf }
                }
            }
        }
    }

    /// VJP of `opacity` (`values == nil`, i.e. `t_i = 1`) or `depth` (`values = t`) into densities.
    func backwardScalar(_ g: [Float], _ f: Forward, values: [Float]?, densities: Tensor) {
        guard densities.requiresGrad else { return }
        let R = rays, S = samples
        var dSigma = [Float](repeating: 0, count: R * S)
        if let values {
            g.withUnsafeBufferPointer { gp in values.withUnsafeBufferPointer { vp in delta.withUnsafeBufferPointer { dl in
            f.weight.withUnsafeBufferPointer { ow in f.transNext.withUnsafeBufferPointer { on in
            dSigma.withUnsafeMutableBufferPointer { ds in
                nonisolated(unsafe) let gp = gp.baseAddress!, vp = vp.baseAddress!, dl = dl.baseAddress!
                nonisolated(unsafe) let ow = ow.baseAddress!, on = on.baseAddress!, ds = ds.baseAddress!
                Parallel.forEach(R, minChunk: minChunk) { r in
                    let base = r &* S
                    let gr = gp[r]
                    var suffix: Float = 0          // Σ_{k>i} w_k·t_k
                    var i = S &- 1
                    while i >= 0 {
                        let v = vp[base &+ i]
                        ds[base &+ i] = gr * dl[base &+ i] * (on[base &+ i] * v - suffix)
                        suffix += ow[base &+ i] * v
                        i &-= 1
                    }
                }
            }}}}}}
        } else {
            for r in 0..<R {
                let gt = g[r] * f.transFinal[r]
                for i in 0..<S { dSigma[r * S + i] = gt * delta[r * S + i] }
            }
        }
        densities.accumulateGrad(dSigma)
    }

    /// JVP of `color` from the tangents of densities, colours and background (nil = zero).
    func jvpColor(_ f: Forward, _ tSigma: [Float]?, _ tColor: [Float]?, _ tBackground: [Float]?) -> [Float] {
        let R = rays, S = samples, C = channels
        let bgStride = perRayBackground ? C : 0
        var out = [Float](repeating: 0, count: R * C)
        let zeros = [Float](repeating: 0, count: 1)
        let ts = tSigma ?? zeros, tc = tColor ?? zeros, tb = tBackground ?? zeros
        let hasSigma = tSigma != nil, hasColor = tColor != nil, hasBg = tBackground != nil
        ts.withUnsafeBufferPointer { tsp in tc.withUnsafeBufferPointer { tcp in tb.withUnsafeBufferPointer { tbp in
        color.withUnsafeBufferPointer { cl in delta.withUnsafeBufferPointer { dl in background.withUnsafeBufferPointer { bg in
        f.weight.withUnsafeBufferPointer { ow in f.transNext.withUnsafeBufferPointer { on in
        f.transFinal.withUnsafeBufferPointer { of in out.withUnsafeMutableBufferPointer { op in
            nonisolated(unsafe) let tsp = tsp.baseAddress!, tcp = tcp.baseAddress!, tbp = tbp.baseAddress!
            nonisolated(unsafe) let cl = cl.baseAddress!, dl = dl.baseAddress!, bg = bg.baseAddress!
            nonisolated(unsafe) let ow = ow.baseAddress!, on = on.baseAddress!, of = of.baseAddress!, op = op.baseAddress!
            Parallel.forEach(R, minChunk: minChunk) { r in
                let base = r &* S
                let o = op + r &* C
                var prefix: Float = 0                  // A_i = Σ_{j<i} δ_j·σ̇_j
                for i in 0..<S {
                    let ci = cl + (base &+ i) &* C
                    let w = ow[base &+ i]
                    if hasSigma {
                        let a = dl[base &+ i] * tsp[base &+ i]
                        let wDot = on[base &+ i] * a - w * prefix
                        for c in 0..<C { o[c] += wDot * ci[c] }
                        prefix += a
                    }
                    if hasColor {
                        let tci = tcp + (base &+ i) &* C
                        for c in 0..<C { o[c] += w * tci[c] }
                    }
                }
                let tf = of[r]
                let b = bg + r &* bgStride
                if hasSigma { for c in 0..<C { o[c] -= tf * prefix * b[c] } }
                if hasBg {
                    let tbr = tbp + r &* bgStride
                    for c in 0..<C { o[c] += tf * tbr[c] }
                }
            }
        }}}}}}}}}}
        return out
    }

    /// JVP of `opacity` (`values == nil`) or `depth` (`values = t`) from the densities' tangent.
    func jvpScalar(_ f: Forward, _ tSigma: [Float]?, values: [Float]?) -> [Float] {
        let R = rays, S = samples
        var out = [Float](repeating: 0, count: R)
        guard let tSigma else { return out }
        let hasValues = values != nil
        let vs = values ?? [0]
        tSigma.withUnsafeBufferPointer { tsp in vs.withUnsafeBufferPointer { vp in delta.withUnsafeBufferPointer { dl in
        f.weight.withUnsafeBufferPointer { ow in f.transNext.withUnsafeBufferPointer { on in
        f.transFinal.withUnsafeBufferPointer { of in out.withUnsafeMutableBufferPointer { op in
            nonisolated(unsafe) let tsp = tsp.baseAddress!, vp = vp.baseAddress!, dl = dl.baseAddress!
            nonisolated(unsafe) let ow = ow.baseAddress!, on = on.baseAddress!, of = of.baseAddress!, op = op.baseAddress!
            Parallel.forEach(R, minChunk: minChunk) { r in
                let base = r &* S
                var prefix: Float = 0, acc: Float = 0
                for i in 0..<S {
                    let a = dl[base &+ i] * tsp[base &+ i]
                    if hasValues { acc += (on[base &+ i] * a - ow[base &+ i] * prefix) * vp[base &+ i] }
                    prefix += a
                }
                op[r] = hasValues ? acc : of[r] * prefix
            }
        }}}}}}}
        return out
    }
}
