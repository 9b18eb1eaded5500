// Padding along every axis: zeros, circular (wrap-around, for panoramas) and replicate
// (repeat the edge). Every output element reads at most one input element, so the VJP
// scatter-adds the gradient back along the same map and the JVP pads the tangent.

/// What padding reads outside the input.
///
/// ```swift
/// let row = Tensor([1, 3], data: [1, 2, 3])
/// row.padded([(0, 0), (1, 1)], mode: .circular).data    // [3, 1, 2, 3, 1]
/// row.padded([(0, 0), (1, 1)], mode: .replicate).data   // [1, 1, 2, 3, 3]
/// ```
public enum PaddingMode: Sendable {
    /// Zeros outside.
    case zeros
    /// The input repeats periodically (a 360° panorama's width wraps around).
    case circular
    /// The nearest edge value repeats.
    case replicate
}

extension Tensor {
    /// Pads every axis by `pads[axis] = (before, after)` values (non-negative).
    ///
    /// Circular padding wraps around as often as needed, so pads may exceed the extent.
    ///
    /// ```swift
    /// let image = Tensor.zeros([1, 3, 32, 64])                    // [N, C, H, W]
    /// let wide = image.padded([(0, 0), (0, 0), (0, 0), (4, 4)], mode: .circular)
    /// wide.shape   // [1, 3, 32, 72]
    /// ```
    public func padded(_ pads: [(before: Int, after: Int)], mode: PaddingMode = .zeros) -> Tensor {
        precondition(pads.count == rank,
                     "padded needs one (before, after) pair per axis: \(pads.count) pairs for shape \(shape)")
        precondition(pads.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padding must be non-negative, got \(pads)")
        for (a, p) in pads.enumerated() where shape[a] == 0 && mode != .zeros && p.before + p.after > 0 {
            preconditionFailure("\(mode) padding of axis \(a) needs values to repeat, but its extent is 0 (shape \(shape))")
        }
        let outShape = zip(shape, pads).map { $0 + $1.before + $1.after }
        // For each axis, the input index each output index reads (−1: a zero).
        let maps: [[Int]] = zip(shape, pads).map { n, p in
            (0..<(n + p.before + p.after)).map { o in
                let i = o - p.before
                switch mode {
                case .zeros: return i >= 0 && i < n ? i : -1
                case .circular: return ((i % n) + n) % n
                case .replicate: return Swift.min(Swift.max(i, 0), n - 1)
                }
            }
        }
        let inShape = shape
        return Tensor.makeResult(
            op: "pad", shape: outShape, data: Tensor.padGather(data, inShape, outShape, maps), parents: [self],
            backward: { g in
                self.accumulateGrad { dst in Tensor.padScatter(g, into: dst, inShape, outShape, maps) }
            },
            jvp: { Tensor.padGather(self.tangentOrZeros, inShape, outShape, maps) })
    }

    /// Calls `body(outStart, inStart, valid)` for every row of the last axis of `outShape`;
    /// `inStart` is the input offset of the row's outer indices, `valid` false when an outer
    /// index reads a zero.
    private static func forEachPaddedRow(_ inShape: [Int], _ outShape: [Int], _ maps: [[Int]],
                                         _ body: (Int, Int, Bool) -> Void) {
        let r = outShape.count
        let total = outShape.reduce(1, *)
        guard total > 0 else { return }
        if r == 0 { body(0, 0, true); return }
        let inStrides = Tensor.strides(for: inShape)
        let inner = outShape[r - 1]
        var idx = [Int](repeating: 0, count: r)
        var o = 0
        while o < total {
            var s = 0, valid = true
            for d in 0..<(r - 1) {
                let m = maps[d][idx[d]]
                if m < 0 { valid = false; break }
                s += m * inStrides[d]
            }
            body(o, s, valid)
            o += inner
            var d = r - 2
            while d >= 0 {
                idx[d] += 1
                if idx[d] < outShape[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// Padded copy of `x` (shape `inShape`) along the index maps.
    static func padGather(_ x: [Float], _ inShape: [Int], _ outShape: [Int], _ maps: [[Int]]) -> [Float] {
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        guard let last = maps.last else { return x }
        out.withUnsafeMutableBufferPointer { op in
            x.withUnsafeBufferPointer { xp in
                last.withUnsafeBufferPointer { mp in
                    forEachPaddedRow(inShape, outShape, maps) { o, s, valid in
                        guard valid else { return }
                        for j in 0..<mp.count {
                            let m = mp[j]
                            if m >= 0 { op[o &+ j] = xp[s &+ m] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Adds `g` (shape `outShape`) back into `dst` (shape `inShape`) along the index maps.
    static func padScatter(_ g: [Float], into dst: UnsafeMutableBufferPointer<Float>,
                           _ inShape: [Int], _ outShape: [Int], _ maps: [[Int]]) {
        guard let last = maps.last else {
            for i in 0..<dst.count { dst[i] += g[i] }
            return
        }
        g.withUnsafeBufferPointer { gp in
            last.withUnsafeBufferPointer { mp in
                forEachPaddedRow(inShape, outShape, maps) { o, s, valid in
                    guard valid else { return }
                    for j in 0..<mp.count {
                        let m = mp[j]
                        if m >= 0 { dst[s &+ m] += gp[o &+ j] }
                    }
                }
            }
        }
    }
}
