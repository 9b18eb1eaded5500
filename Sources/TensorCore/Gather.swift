// Indexed selection along one axis and its adjoint: gather picks rows (indices may repeat),
// scatterAdd adds rows into place. Each is the other's VJP; both are linear, so the JVP
// applies the same op to the tangent.

extension Tensor {
    /// Rows `indices` of axis `axis`, in that order (indices may repeat; the VJP adds up
    /// the gradient of repeated rows).
    ///
    /// ```swift
    /// let x = Tensor([3, 2], data: [1, 2, 3, 4, 5, 6])
    /// x.gather(indices: [2, 0, 2], axis: 0).data   // [5, 6, 1, 2, 5, 6]
    /// ```
    public func gather(indices: [Int], axis: Int) -> Tensor {
        let a = self.axis(axis)
        let (outer, extent, inner) = axisLayout(a)
        Tensor.checkIndices(indices, extent, "gather", shape)
        var outShape = shape
        outShape[a] = indices.count
        return Tensor.makeResult(
            op: "gather", shape: outShape,
            data: Tensor.gatherRows(data, outer: outer, extent: extent, inner: inner, indices),
            parents: [self],
            backward: { g in
                self.accumulateGrad { dst in
                    Tensor.scatterAddRows(g, into: dst, outer: outer, extent: extent, inner: inner, indices)
                }
            },
            jvp: { Tensor.gatherRows(self.tangentOrZeros, outer: outer, extent: extent, inner: inner, indices) })
    }

    /// A tensor whose axis `axis` has extent `size`, zero except that row `indices[j]`
    /// accumulates row `j` of `values` (the adjoint of ``gather(indices:axis:)``).
    ///
    /// ```swift
    /// let v = Tensor([3], data: [1, 2, 3])
    /// Tensor.scatterAdd(v, indices: [0, 2, 0], axis: 0, size: 4).data   // [4, 0, 2, 0]
    /// ```
    public static func scatterAdd(_ values: Tensor, indices: [Int], axis: Int, size: Int) -> Tensor {
        let a = values.axis(axis)
        precondition(values.shape[a] == indices.count,
                     "scatterAdd: \(indices.count) indices for axis \(a) of extent \(values.shape[a]) (shape \(values.shape))")
        precondition(size >= 0, "scatterAdd: negative size \(size)")
        let (outer, _, inner) = values.axisLayout(a)
        checkIndices(indices, size, "scatterAdd", values.shape)
        var outShape = values.shape
        outShape[a] = size
        func scatter(_ v: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: outer * size * inner)
            out.withUnsafeMutableBufferPointer { scatterAddRows(v, into: $0, outer: outer, extent: size, inner: inner, indices) }
            return out
        }
        return makeResult(
            op: "scatterAdd", shape: outShape, data: scatter(values.data), parents: [values],
            backward: { g in values.accumulateGrad(gatherRows(g, outer: outer, extent: size, inner: inner, indices)) },
            jvp: { scatter(values.tangentOrZeros) })
    }

    private static func checkIndices(_ indices: [Int], _ extent: Int, _ op: String, _ shape: [Int]) {
        if let bad = indices.first(where: { $0 < 0 || $0 >= extent }) {
            preconditionFailure("\(op): index \(bad) is outside 0..<\(extent) (shape \(shape))")
        }
    }

    /// `out[o, j, :] = x[o, indices[j], :]` for `x` laid out as `[outer, extent, inner]`.
    static func gatherRows(_ x: [Float], outer: Int, extent: Int, inner: Int, _ indices: [Int]) -> [Float] {
        let m = indices.count
        var out = [Float](repeating: 0, count: outer * m * inner)
        if out.isEmpty { return out }
        out.withUnsafeMutableBufferPointer { op in
            x.withUnsafeBufferPointer { xp in
                for o in 0..<outer {
                    for (j, i) in indices.enumerated() {
                        (op.baseAddress! + (o &* m &+ j) &* inner)
                            .update(from: xp.baseAddress! + (o &* extent &+ i) &* inner, count: inner)
                    }
                }
            }
        }
        return out
    }

    /// `dst[o, indices[j], :] += v[o, j, :]` for `dst` laid out as `[outer, extent, inner]`.
    static func scatterAddRows(_ v: [Float], into dst: UnsafeMutableBufferPointer<Float>,
                               outer: Int, extent: Int, inner: Int, _ indices: [Int]) {
        let m = indices.count
        v.withUnsafeBufferPointer { vp in
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let d = (o &* extent &+ i) &* inner, s = (o &* m &+ j) &* inner
                    for k in 0..<inner { dst[d &+ k] += vp[s &+ k] }
                }
            }
        }
    }
}
