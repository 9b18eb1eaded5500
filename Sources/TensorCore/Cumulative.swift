// Cumulative sums and products along one axis, inclusive or exclusive. NeRF compositing
// uses the exclusive product: transmittance T_i = Π_{j<i} (1 − α_j).
//
// The product's derivatives never divide by the values (they may be zero):
//   inclusive y_i = Π_{k≤i} x_k:  ∂L/∂x_j = P_j · S_j,  P_j = Π_{k<j} x_k,
//                                 S_j = g_j + x_{j+1} · S_{j+1}   (S_{n−1} = g_{n−1})
//   exclusive y_i = Π_{k<i} x_k:  ∂L/∂x_j = P_j · T_j,
//                                 T_j = g_{j+1} + x_{j+1} · T_{j+1} (T_{n−1} = 0)
//   JVP: ẏ_i = ẏ_{i−1} · x_i + y_{i−1} · ẋ_i  (exclusive: with x_{i−1}, ẋ_{i−1}).

extension Tensor {
    /// Running sum along `axis`: `y_i = Σ_{j≤i} x_j`, or `Σ_{j<i} x_j` when `exclusive`.
    ///
    /// ```swift
    /// let x = Tensor([4], data: [1, 2, 3, 4])
    /// x.cumsum(axis: 0).data                    // [1, 3, 6, 10]
    /// x.cumsum(axis: 0, exclusive: true).data   // [0, 1, 3, 6]
    /// ```
    public func cumsum(axis: Int, exclusive: Bool = false) -> Tensor {
        let a = self.axis(axis)
        let (outer, n, inner) = axisLayout(a)
        return Tensor.makeResult(
            op: "cumsum", shape: shape,
            data: Tensor.runningSum(data, outer, n, inner, reverse: false, exclusive: exclusive),
            parents: [self],
            backward: { g in
                self.accumulateGrad(Tensor.runningSum(g, outer, n, inner, reverse: true, exclusive: exclusive))
            },
            jvp: { Tensor.runningSum(self.tangentOrZeros, outer, n, inner, reverse: false, exclusive: exclusive) })
    }

    /// Running product along `axis`: `y_i = Π_{j≤i} x_j`, or `Π_{j<i} x_j` (1 first) when
    /// `exclusive`. Derivatives are exact when values are zero (no division by them).
    ///
    /// ```swift
    /// let keep = Tensor([4], data: [0.9, 0.5, 0, 0.8])           // 1 − α along a ray
    /// keep.cumprod(axis: 0, exclusive: true).data   // [1, 0.9, 0.45, 0]: transmittance
    /// ```
    public func cumprod(axis: Int, exclusive: Bool = false) -> Tensor {
        let a = self.axis(axis)
        let (outer, n, inner) = axisLayout(a)
        var y = [Float](repeating: 0, count: count)
        if !y.isEmpty {
            data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for o in 0..<outer {
                        let x = xp.baseAddress! + o &* n &* inner, out = yp.baseAddress! + o &* n &* inner
                        for k in 0..<inner { out[k] = exclusive ? 1 : x[k] }
                        for i in 1..<Swift.max(n, 1) {
                            let prev = out + (i &- 1) &* inner, cur = out + i &* inner
                            let f = x + (exclusive ? i &- 1 : i) &* inner
                            for k in 0..<inner { cur[k] = prev[k] * f[k] }
                        }
                    }
                }
            }
        }
        let out = y
        return Tensor.makeResult(
            op: "cumprod", shape: shape, data: out, parents: [self],
            backward: { g in
                self.accumulateGrad { dst in
                    Tensor.cumprodBackward(g, x: self.data, y: out, into: dst, outer, n, inner, exclusive: exclusive)
                }
            },
            jvp: { Tensor.cumprodTangent(self.tangentOrZeros, x: self.data, y: out, outer, n, inner, exclusive: exclusive) })
    }

    /// Running sum of `x` (laid out `[outer, n, inner]`) along the middle axis, forwards or
    /// backwards, inclusive or exclusive.
    static func runningSum(_ x: [Float], _ outer: Int, _ n: Int, _ inner: Int,
                           reverse: Bool, exclusive: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        if y.isEmpty { return y }
        var acc = [Float](repeating: 0, count: inner)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                acc.withUnsafeMutableBufferPointer { ap in
                    let s = ap.baseAddress!
                    for o in 0..<outer {
                        for k in 0..<inner { s[k] = 0 }
                        for step in 0..<n {
                            let i = reverse ? n &- 1 &- step : step
                            let src = xp.baseAddress! + (o &* n &+ i) &* inner
                            let dst = yp.baseAddress! + (o &* n &+ i) &* inner
                            if exclusive {
                                for k in 0..<inner { dst[k] = s[k]; s[k] += src[k] }
                            } else {
                                for k in 0..<inner { s[k] += src[k]; dst[k] = s[k] }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Adds the cumprod VJP into `dst`, by the division-free recurrences in the file header.
    static func cumprodBackward(_ g: [Float], x: [Float], y: [Float], into dst: UnsafeMutableBufferPointer<Float>,
                                _ outer: Int, _ n: Int, _ inner: Int, exclusive: Bool) {
        if dst.isEmpty { return }
        var carry = [Float](repeating: 0, count: inner)
        g.withUnsafeBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    carry.withUnsafeMutableBufferPointer { cp in
                        let c = cp.baseAddress!
                        for o in 0..<outer {
                            let base = o &* n &* inner
                            let gb = gp.baseAddress! + base, xb = xp.baseAddress! + base
                            let yb = yp.baseAddress! + base, db = dst.baseAddress! + base
                            for k in 0..<inner { c[k] = 0 }
                            for j in stride(from: n &- 1, through: 0, by: -1) {
                                let row = j &* inner
                                // P_j = Π_{k<j} x_k: the exclusive output itself, or the previous inclusive one.
                                if exclusive {
                                    // c holds T_j; then T_{j−1} = g_j + x_j · T_j.
                                    for k in 0..<inner {
                                        db[row &+ k] += yb[row &+ k] * c[k]
                                        c[k] = gb[row &+ k] + xb[row &+ k] * c[k]
                                    }
                                } else {
                                    // c holds x_{j+1} · S_{j+1}; S_j = g_j + c; then c = x_j · S_j.
                                    if j == 0 {
                                        for k in 0..<inner { db[k] += gb[k] + c[k] }
                                        continue
                                    }
                                    let prev = yb + (row &- inner)
                                    for k in 0..<inner {
                                        let s = gb[row &+ k] + c[k]
                                        db[row &+ k] += prev[k] * s
                                        c[k] = xb[row &+ k] * s
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The cumprod JVP by the forward recurrence in the file header.
    static func cumprodTangent(_ t: [Float], x: [Float], y: [Float], _ outer: Int, _ n: Int, _ inner: Int,
                               exclusive: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: t.count)
        if out.isEmpty { return out }
        t.withUnsafeBufferPointer { tp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    out.withUnsafeMutableBufferPointer { op in
                        for o in 0..<outer {
                            let base = o &* n &* inner
                            let tb = tp.baseAddress! + base, xb = xp.baseAddress! + base
                            let yb = yp.baseAddress! + base, ob = op.baseAddress! + base
                            if !exclusive { for k in 0..<inner { ob[k] = tb[k] } }   // exclusive: ẏ_0 = 0
                            for i in 1..<Swift.max(n, 1) {
                                let cur = i &* inner, prev = cur &- inner
                                let f = exclusive ? prev : cur      // the factor x_f multiplied in at step i
                                for k in 0..<inner {
                                    ob[cur &+ k] = ob[prev &+ k] * xb[f &+ k] + yb[prev &+ k] * tb[f &+ k]
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
