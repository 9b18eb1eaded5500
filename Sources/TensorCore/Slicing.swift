// Movement ops that cut and join along one axis: slice, concat, split, chunked.
// Each is linear: the VJP routes gradient blocks back, the JVP moves tangents like values.

extension Tensor {
    /// The row-major view of one axis: `outer` blocks of `extent` rows of `inner` values.
    /// Element `(o, i, k)` sits at `(o * extent + i) * inner + k`.
    func axisLayout(_ a: Int) -> (outer: Int, extent: Int, inner: Int) {
        (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    // MARK: - Slice

    /// The rows `range` of axis `axis` (a copy; negative axes count from the end).
    ///
    /// ```swift
    /// let x = Tensor([2, 4], data: [0, 1, 2, 3, 4, 5, 6, 7])
    /// x.slice(axis: 1, 1..<3).data   // [1, 2, 5, 6], shape [2, 2]
    /// ```
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = self.axis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice \(range) is outside axis \(a) of extent \(shape[a]) (shape \(shape))")
        let (outer, extent, inner) = axisLayout(a)
        var outShape = shape
        outShape[a] = range.count
        let run = range.count * inner, start = range.lowerBound * inner, row = extent * inner
        if run == row { return reshaped(shape) }   // the whole axis: no copy worth making
        func take(_ src: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: outer * run)
            if out.isEmpty { return out }
            out.withUnsafeMutableBufferPointer { op in
                src.withUnsafeBufferPointer { sp in
                    for o in 0..<outer {
                        let d = op.baseAddress! + o &* run, s = sp.baseAddress! + (o &* row &+ start)
                        d.update(from: s, count: run)
                    }
                }
            }
            return out
        }
        return Tensor.makeResult(
            op: "slice", shape: outShape, data: take(data), parents: [self],
            backward: { g in
                self.accumulateGrad { dst in
                    g.withUnsafeBufferPointer { gp in
                        for o in 0..<outer {
                            let d = o &* row &+ start, s = o &* run
                            for k in 0..<run { dst[d &+ k] += gp[s &+ k] }
                        }
                    }
                }
            },
            jvp: { take(self.tangentOrZeros) })
    }

    // MARK: - Concat

    /// Joins tensors along `axis`; all other extents must agree.
    ///
    /// ```swift
    /// let a = Tensor([2, 1], data: [1, 2]), b = Tensor([2, 2], data: [3, 4, 5, 6])
    /// Tensor.concat([a, b], axis: 1).data   // [1, 3, 4, 2, 5, 6], shape [2, 3]
    /// ```
    public static func concat(_ ts: [Tensor], axis: Int) -> Tensor {
        precondition(!ts.isEmpty, "concat needs at least one tensor")
        let a = ts[0].axis(axis)
        for t in ts {
            precondition(t.rank == ts[0].rank
                         && zip(t.shape, ts[0].shape).enumerated().allSatisfy { $0.offset == a || $0.element.0 == $0.element.1 },
                         "concat along axis \(a): shapes \(ts.map(\.shape)) differ off that axis")
        }
        if ts.count == 1 { return ts[0].reshaped(ts[0].shape) }
        let (outer, _, inner) = ts[0].axisLayout(a)
        let runs = ts.map { $0.shape[a] * inner }        // values each part adds to one output row
        let row = runs.reduce(0, +)
        var outShape = ts[0].shape
        outShape[a] = ts.reduce(0) { $0 + $1.shape[a] }
        func join(_ parts: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: outer * row)
            if out.isEmpty { return out }
            out.withUnsafeMutableBufferPointer { op in
                var col = 0
                for (p, part) in parts.enumerated() {
                    let run = runs[p]
                    if run == 0 { continue }
                    part.withUnsafeBufferPointer { sp in
                        for o in 0..<outer {
                            (op.baseAddress! + (o &* row &+ col)).update(from: sp.baseAddress! + o &* run, count: run)
                        }
                    }
                    col += run
                }
            }
            return out
        }
        return makeResult(
            op: "concat", shape: outShape, data: join(ts.map(\.data)), parents: ts,
            backward: { g in
                var col = 0
                for (p, t) in ts.enumerated() {
                    let run = runs[p], c = col
                    col += run
                    guard t.requiresGrad else { continue }
                    t.accumulateGrad { dst in
                        g.withUnsafeBufferPointer { gp in
                            for o in 0..<outer {
                                let s = o &* row &+ c, d = o &* run
                                for k in 0..<run { dst[d &+ k] += gp[s &+ k] }
                            }
                        }
                    }
                }
            },
            jvp: { join(ts.map(\.tangentOrZeros)) })
    }

    // MARK: - Split

    /// Cuts axis `axis` into consecutive pieces of the given extents (they must add up to it).
    ///
    /// ```swift
    /// let x = Tensor.zeros([2, 5])
    /// x.split(axis: 1, sizes: [2, 3]).map(\.shape)   // [[2, 2], [2, 3]]
    /// ```
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        let a = self.axis(axis)
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split sizes \(sizes) do not add up to axis \(a) of extent \(shape[a]) (shape \(shape))")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return slice(axis: a, start..<(start + n))
        }
    }

    /// Cuts axis `axis` into `n` pieces as PyTorch's `chunk` does: each piece has
    /// `ceil(extent / n)` rows except a shorter last one, so fewer than `n` pieces come back
    /// when the extent is small (`chunked(4)` of 6 rows gives 2 + 2 + 2).
    ///
    /// ```swift
    /// let qkv = Tensor.zeros([2, 96, 16])
    /// let parts = qkv.chunked(3, axis: 1)   // three [2, 32, 16] tensors
    /// ```
    public func chunked(_ n: Int, axis: Int) -> [Tensor] {
        let a = self.axis(axis)
        precondition(n > 0, "chunked needs a positive number of pieces, got \(n)")
        let extent = shape[a]
        let size = Swift.max(1, (extent + n - 1) / n)
        var sizes: [Int] = []
        var left = extent
        while left > 0 { sizes.append(Swift.min(size, left)); left -= size }
        if sizes.isEmpty { sizes = [0] }
        return split(axis: a, sizes: sizes)
    }
}
