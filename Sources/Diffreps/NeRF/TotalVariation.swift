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
        /// Calls `body(i, j, scale)` for every neighbouring pair `i → j` of every axis.
        func forEachPair(_ body: (Int, Int, Float) -> Void) {
            for (a, axis) in axes.enumerated() where axis.extent > 1 {
                let s = scales[a]
                for o in 0..<outer {
                    for d in 0..<D { for h in 0..<H { for w in 0..<W {
                        let coord = a == 0 ? d : (a == 1 ? h : w)
                        if coord + 1 >= axis.extent { continue }
                        let i = ((o * D + d) * H + h) * W + w
                        body(i, i + axis.stride, s)
                    }}}
                }
            }
        }
        var total: Float = 0
        values.withUnsafeBufferPointer { v in forEachPair { i, j, s in let e = v[j] - v[i]; total += s * e * e } }
        return Tensor.makeResult(
            op: "squaredTotalVariation3D", shape: [], data: [total], parents: [self],
            backward: { g in
                self.accumulateGrad { dst in
                    values.withUnsafeBufferPointer { v in
                        forEachPair { i, j, s in
                            let e = 2 * g[0] * s * (v[j] - v[i])
                            dst[j] += e
                            dst[i] -= e
                        }
                    }
                }
            },
            jvp: {
                guard let t = self.tangent else { return [0] }
                var acc: Float = 0
                values.withUnsafeBufferPointer { v in t.withUnsafeBufferPointer { tp in
                    forEachPair { i, j, s in acc += 2 * s * (v[j] - v[i]) * (tp[j] - tp[i]) }
                }}
                return [acc]
            })
    }
}
