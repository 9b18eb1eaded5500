import TensorCore

extension Tensor {
    /// Squared total variation of a 3D grid `[..., D, H, W]`: for each of the three spatial
    /// axes, the mean over neighbouring pairs of `(v_next − v)²`, summed over the axes (a scalar).
    /// A smoothness prior for voxel grids (Plenoxels' TV loss, squared): with few views it
    /// removes floaters and holes that the views do not constrain. One op with VJP and JVP.
    ///
    /// ```swift
    /// let loss = photometric + 0.01 * field.density.squaredTotalVariation3D()
    /// ```
    public func squaredTotalVariation3D() -> Tensor {
        precondition(rank >= 3, "squaredTotalVariation3D needs [..., D, H, W], got \(shape)")
        let D = shape[rank - 3], H = shape[rank - 2], W = shape[rank - 1]
        let outer = shape[..<(rank - 3)].reduce(1, *)
        // (stride between neighbours, extent of the axis, 1/number of pairs) per axis.
        let axes: [(stride: Int, extent: Int)] = [(H * W, D), (W, H), (1, W)]
        let scales = axes.map { a -> Float in
            let pairs = outer * D * H * W / a.extent * (a.extent - 1)
            return pairs > 0 ? 1 / Float(pairs) : 0
        }
        let values = data
        /// Calls `body(first, count, stride, scale)` for every run of `count` neighbouring pairs
        /// `first + k → first + k + stride` (k < count) that lie side by side in memory: axis D,
        /// then H, then W, each in index order, so every value meets its pairs in pair order.
        /// Plain loops over a run vectorise.
        func forEachRun(_ body: (Int, Int, Int, Float) -> Void) {
            for (a, axis) in axes.enumerated() where axis.extent > 1 {
                for o in 0..<outer {
                    let base = o * D * H * W
                    switch a {
                    case 0: for d in 0..<(D - 1) { body(base + d * H * W, H * W, H * W, scales[0]) }
                    case 1: for d in 0..<D { for h in 0..<(H - 1) { body(base + (d * H + h) * W, W, W, scales[1]) } }
                    default: for d in 0..<D { for h in 0..<H { body(base + (d * H + h) * W, W - 1, 1, scales[2]) } }
                    }
                }
            }
        }
        var total: Float = 0
        values.withUnsafeBufferPointer { v in
            let v = v.baseAddress!
            forEachRun { first, count, stride, scale in
                var sum: Float = 0
                for k in first..<(first &+ count) { let e = v[k &+ stride] - v[k]; sum += e * e }
                total += scale * sum
            }
        }
        return Tensor.makeResult(
            op: "squaredTotalVariation3D", shape: [], data: [total], parents: [self],
            backward: { g in
                self.accumulateGrad { dst in
                    values.withUnsafeBufferPointer { v in
                        let v = v.baseAddress!, out = dst.baseAddress!
                        forEachRun { first, count, stride, scale in
                            let c = 2 * g[0] * scale
                            // The second of each pair first, then the first: each value still gets
                            // its pairs' contributions in pair order.
                            for k in first..<(first &+ count) { out[k &+ stride] += c * (v[k &+ stride] - v[k]) }
                            for k in first..<(first &+ count) { out[k] -= c * (v[k &+ stride] - v[k]) }
                        }
                    }
                }
            },
            jvp: {
                guard let t = self.tangent else { return [0] }
                var acc: Float = 0
                values.withUnsafeBufferPointer { v in t.withUnsafeBufferPointer { tp in
                    let v = v.baseAddress!, tp = tp.baseAddress!
                    forEachRun { first, count, stride, scale in
                        var sum: Float = 0
                        for k in first..<(first &+ count) { sum += (v[k &+ stride] - v[k]) * (tp[k &+ stride] - tp[k]) }
                        acc += 2 * scale * sum
                    }
                }}
                return [acc]
            })
    }
}
