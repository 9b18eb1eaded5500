// Shape ops that keep every value: reshape, permute, transpose, expand.

extension Tensor {
    /// Same values, new shape (one extent may be −1 and is inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(s.reduce(1, *) == count, "cannot reshape \(shape) (\(count) values) to \(newShape)")
        return Tensor.makeResult(
            op: "reshape", shape: s, data: data, parents: [self],
            backward: { g in self.accumulateGrad(g) },
            jvp: { self.tangentOrZeros })
    }

    /// Reorders axes: result axis `i` is input axis `order[i]`.
    ///
    /// ```swift
    /// let x = Tensor.zeros([2, 3, 4])
    /// x.permuted([2, 0, 1]).shape   // [4, 2, 3]
    /// ```
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) does not fit rank \(rank)")
        let outShape = order.map { shape[$0] }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.makeResult(
            op: "permute", shape: outShape, data: Tensor.permute(data, shape, order), parents: [self],
            backward: { g in self.accumulateGrad(Tensor.permute(g, outShape, inverse)) },
            jvp: { Tensor.permute(self.tangentOrZeros, self.shape, order) })
    }

    /// Swaps the last two axes.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed() needs rank ≥ 2, shape is \(shape)")
        var order = Array(0..<rank)
        order.swapAt(rank - 1, rank - 2)
        return permuted(order)
    }

    /// Broadcasts to `newShape` (materialised).
    public func expanded(to newShape: [Int]) -> Tensor {
        precondition(Broadcast.shape(shape, newShape) == newShape, "cannot expand \(shape) to \(newShape)")
        let inShape = shape
        return Tensor.makeResult(
            op: "expand", shape: newShape, data: Broadcast.expand(data, from: inShape, to: newShape), parents: [self],
            backward: { g in self.accumulateGrad(Broadcast.sum(g, from: newShape, to: inShape)) },
            jvp: { Broadcast.expand(self.tangentOrZeros, from: inShape, to: newShape) })
    }

    /// Row-major permutation of raw values.
    static func permute(_ x: [Float], _ shape: [Int], _ order: [Int]) -> [Float] {
        let r = shape.count
        if r <= 1 || order == Array(0..<r) { return x }
        let outShape = order.map { shape[$0] }
        if order == Array(0..<(r - 2)) + [r - 1, r - 2] {
            // a batch of matrix transposes (attention's [N, C, L] ↔ [N, L, C]): 8×8 register blocks
            let rows = shape[r - 2], cols = shape[r - 1], matrices = x.count / Swift.max(rows * cols, 1)
            return uninitializedFloats(x.count) { op in
                x.withUnsafeBufferPointer { xp in
                    for m in 0..<matrices {
                        Transpose.run(xp.baseAddress! + m &* rows &* cols, rows: rows, cols: cols, srcLd: cols,
                                      op + m &* rows &* cols, dstLd: rows, bias: nil, add: false)
                    }
                }
            }
        }
        let inStrides = Tensor.strides(for: shape)
        let srcStrides = order.map { inStrides[$0] }   // input stride of each output axis
        var out = [Float](repeating: 0, count: x.count)
        out.withUnsafeMutableBufferPointer { op in
            x.withUnsafeBufferPointer { xp in
                Broadcast.forEachRun(outShape, srcStrides, srcStrides) { o, s, _, n, step, _ in
                    for k in 0..<n { op[o &+ k] = xp[s &+ k &* step] }
                }
            }
        }
        return out
    }
}
