// Reductions: sum, mean and max over axes (or everything).

extension Tensor {
    /// The shape with `axes` set to 1 (the keep-dims shape of a reduction).
    func keptShape(_ axes: [Int]) -> [Int] {
        var s = shape
        for a in axes { s[axis(a)] = 1 }
        return s
    }

    /// Sum over `axes` (all axes when empty → a scalar unless `keepDims`).
    ///
    /// ```swift
    /// let x = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
    /// x.sum(axes: [1]).data   // [6, 15]
    /// ```
    public func sum(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let all = axes.isEmpty ? Array(0..<rank) : axes.map { axis($0) }
        let kept = keptShape(all)
        let outShape = keepDims ? kept : shape.enumerated().filter { !all.contains($0.offset) }.map { $0.element }
        let inShape = shape
        return Tensor.makeResult(
            op: "sum", shape: outShape, data: Broadcast.sum(data, from: inShape, to: kept), parents: [self],
            backward: { g in self.accumulateGrad(Broadcast.expand(g, from: kept, to: inShape)) },
            jvp: { Broadcast.sum(self.tangentOrZeros, from: inShape, to: kept) })
    }

    /// Mean over `axes` (all axes when empty).
    public func mean(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let all = axes.isEmpty ? Array(0..<rank) : axes.map { axis($0) }
        let n = all.reduce(1) { $0 * shape[$1] }
        return sum(axes: all, keepDims: keepDims).scaled(by: 1 / Float(Swift.max(n, 1)))
    }

    /// Maximum along one axis (the gradient flows to the first maximal element).
    public func max(axis a: Int, keepDims: Bool = false) -> Tensor {
        let ax = axis(a)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        precondition(n > 0, "max over an empty axis")
        var out = [Float](repeating: -.infinity, count: outer * inner)
        var arg = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for k in 0..<n {
                for i in 0..<inner {
                    let v = data[(o * n + k) * inner + i]
                    if v > out[o * inner + i] || k == 0 { out[o * inner + i] = v; arg[o * inner + i] = (o * n + k) * inner + i }
                }
            }
        }
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        return Tensor.makeResult(
            op: "max", shape: outShape, data: out, parents: [self],
            backward: { g in self.accumulateGrad { dst in for j in 0..<arg.count { dst[arg[j]] += g[j] } } },
            jvp: { let t = self.tangentOrZeros; return arg.map { t[$0] } })
    }
}
