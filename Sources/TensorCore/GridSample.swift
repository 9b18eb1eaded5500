// Bilinear (2D) and trilinear (3D) grid sampling with PyTorch's `grid_sample` semantics,
// with gradients and tangents to both the sampled values and the grid coordinates.
//
// A grid coordinate g ∈ [−1, 1] maps to the pixel position
//   alignCorners: p = (g + 1) / 2 · (L − 1)   (−1, 1 are the centres of the edge pixels)
//   otherwise:    p = ((g + 1) · L − 1) / 2   (−1, 1 are the outer edges of the edge pixels)
// and the value is Σ over the 2^d neighbouring corners of Π_axes (1 − f or f) · v[corner],
// f = p − ⌊p⌋. Padding decides corners outside the input: `.zeros` reads 0 there, `.border`
// clamps p into [0, L − 1] first (its derivative is 0 where it clamps, as in PyTorch).
// `wrapX` makes the width periodic (x pixel indices taken modulo W, for 360° panoramas).
//
// Every point gets its corner offsets, weights and weight derivatives ("taps") computed on
// the fly in blocks, in parallel over output points. The VJP to the values scatter-adds from
// parallel workers that own disjoint slabs of the input (see `GridSampler.backward`).

/// What grid sampling reads outside the input (PyTorch's `padding_mode`).
///
/// ```swift
/// let y = image.gridSample2D(grid, padding: .border)   // edge values continue outwards
/// ```
public enum GridPadding: Sendable {
    /// Corners outside the input read zero.
    case zeros
    /// Positions are clamped to the input's edge first.
    case border
}

extension Tensor {
    /// Bilinear sampling of `self` (`[N, C, H, W]`) at `grid` (`[N, Ho, Wo, 2]`, normalised
    /// `(x, y)` with −1 … 1 spanning the width and height) → `[N, C, Ho, Wo]`, exactly as
    /// `torch.nn.functional.grid_sample(mode="bilinear")`. With `wrapX` the width is
    /// periodic (a 360° panorama; with `alignCorners: false`, x = −1 and x = 1 are the same
    /// seam) and `padding` applies to y only. Differentiable (VJP and JVP) in both `self`
    /// and `grid`. Non-finite coordinates read zero.
    ///
    /// ```swift
    /// let image = Tensor.zeros([1, 3, 32, 64])                     // [N, C, H, W]
    /// let grid = Tensor([1, 1, 1, 2], data: [0, 0])                  // [N, Ho, Wo, (x, y)]
    /// image.gridSample2D(grid).shape                                 // [1, 3, 1, 1]: the centre
    /// ```
    public func gridSample2D(_ grid: Tensor, alignCorners: Bool = false, padding: GridPadding = .zeros,
                             wrapX: Bool = false) -> Tensor {
        precondition(rank == 4, "gridSample2D samples an [N, C, H, W] input, got shape \(shape)")
        precondition(grid.rank == 4 && grid.shape[3] == 2 && grid.shape[0] == shape[0],
                     "gridSample2D needs a grid [N, Ho, Wo, 2] with N = \(shape[0]), got \(grid.shape)")
        precondition(shape[2] > 0 && shape[3] > 0, "gridSample2D: the input \(shape) has no pixels to sample")
        let sampler = GridSampler(batch: shape[0], channels: shape[1], depth: 1, height: shape[2], width: shape[3],
                                  points: grid.shape[1] * grid.shape[2], rank: 2,
                                  alignCorners: alignCorners, padding: padding, wrapX: wrapX)
        return gridSample(grid, sampler, outShape: [shape[0], shape[1], grid.shape[1], grid.shape[2]], op: "gridSample2D")
    }

    /// Trilinear sampling of `self` (`[N, C, D, H, W]`) at `grid` (`[N, Do, Ho, Wo, 3]`,
    /// normalised `(x, y, z)` spanning width, height, depth) → `[N, C, Do, Ho, Wo]`, exactly
    /// as `torch.nn.functional.grid_sample` on 5-D input (`mode="bilinear"`). Options as in
    /// ``gridSample2D(_:alignCorners:padding:wrapX:)``; parallel over output points.
    ///
    /// ```swift
    /// let voxels = Tensor.zeros([1, 4, 64, 64, 64])                 // density + RGB
    /// let points = Tensor.zeros([1, 1, 4096, 32, 3])                // rays × samples × (x, y, z)
    /// voxels.gridSample3D(points, alignCorners: true).shape         // [1, 4, 1, 4096, 32]
    /// ```
    public func gridSample3D(_ grid: Tensor, alignCorners: Bool = false, padding: GridPadding = .zeros,
                             wrapX: Bool = false) -> Tensor {
        precondition(rank == 5, "gridSample3D samples an [N, C, D, H, W] input, got shape \(shape)")
        precondition(grid.rank == 5 && grid.shape[4] == 3 && grid.shape[0] == shape[0],
                     "gridSample3D needs a grid [N, Do, Ho, Wo, 3] with N = \(shape[0]), got \(grid.shape)")
        precondition(shape[2] > 0 && shape[3] > 0 && shape[4] > 0,
                     "gridSample3D: the input \(shape) has no voxels to sample")
        let sampler = GridSampler(batch: shape[0], channels: shape[1], depth: shape[2], height: shape[3], width: shape[4],
                                  points: grid.shape[1] * grid.shape[2] * grid.shape[3], rank: 3,
                                  alignCorners: alignCorners, padding: padding, wrapX: wrapX)
        return gridSample(grid, sampler,
                          outShape: [shape[0], shape[1], grid.shape[1], grid.shape[2], grid.shape[3]], op: "gridSample3D")
    }

    private func gridSample(_ grid: Tensor, _ sampler: GridSampler, outShape: [Int], op: String) -> Tensor {
        Tensor.makeResult(
            op: op, shape: outShape, data: sampler.forward(input: data, grid: grid.data), parents: [self, grid],
            backward: { g in
                let needGrid = grid.requiresGrad
                var gridGrad = [Float](repeating: 0, count: needGrid ? grid.count : 0)
                gridGrad.withUnsafeMutableBufferPointer { gg in
                    let ggp = needGrid ? gg.baseAddress : nil
                    if self.requiresGrad {
                        self.accumulateGrad { dst in
                            sampler.backward(g, input: self.data, grid: grid.data, inputGrad: dst.baseAddress, gridGrad: ggp)
                        }
                    } else if needGrid {
                        sampler.backward(g, input: self.data, grid: grid.data, inputGrad: nil, gridGrad: ggp)
                    }
                }
                if needGrid { grid.accumulateGrad(gridGrad) }
            },
            jvp: { sampler.tangent(input: self.data, inputTangent: self.tangent, grid: grid.data, gridTangent: grid.tangent) })
    }
}

/// The two corners one grid coordinate reads along one axis: indices (always in range; a
/// corner outside has weight and derivative 0), weights, and the weights' derivatives with
/// respect to the normalised coordinate.
struct AxisTap {
    var i0: Int, i1: Int
    var a0: Float, a1: Float
    var d0: Float, d1: Float
    /// ⌊p⌋ clamped into the axis: every corner with non-zero weight is `lower` or `lower + 1`.
    var lower = 0

    /// The tap of an axis that is not there (2D as 3D with one depth slice).
    static let single = AxisTap(i0: 0, i1: 0, a0: 1, a1: 0, d0: 0, d1: 0)
    /// A coordinate that reads nothing.
    static let none = AxisTap(i0: 0, i1: 0, a0: 0, a1: 0, d0: 0, d1: 0)
}

/// The sampling kernels shared by 2D (`depth` 1) and 3D: forward values, VJP, JVP.
/// Input is `[N, C, S]` with `S = depth·height·width`; grid is `[N, P, rank]`; output `[N, C, P]`.
struct GridSampler {
    let batch: Int, channels: Int
    let depth: Int, height: Int, width: Int
    let points: Int                  // P: output points per batch element
    let rank: Int                    // 2 or 3 coordinates per point
    let alignCorners: Bool, padding: GridPadding, wrapX: Bool

    var corners: Int { 1 << rank }
    var plane: Int { depth * height * width }
    var total: Int { batch * points }
    /// Points whose taps are computed together.
    static let block = 128

    /// Parallel chunks of blocks that keep each worker busy for at least ~64k corner reads.
    private var minBlocksPerWorker: Int {
        Swift.max(1, 65_536 / (GridSampler.block * Swift.max(channels, 1) * corners))
    }

    // MARK: - Taps

    @inline(__always)
    func tap(_ g: Float, _ size: Int, wrap: Bool) -> AxisTap {
        let n = Float(size)
        let scale: Float = alignCorners ? (n - 1) / 2 : n / 2
        var pos: Float = alignCorners ? (g + 1) / 2 * (n - 1) : ((g + 1) * n - 1) / 2
        if !pos.isFinite { return .none }
        if wrap {
            var r = pos.truncatingRemainder(dividingBy: n)   // exact, in (−n, n)
            if r < 0 { r += n }
            let f = r.rounded(.down), frac = r - f
            var i0 = Int(f)
            if i0 >= size { i0 -= size }
            let i1 = i0 &+ 1 == size ? 0 : i0 &+ 1
            return AxisTap(i0: i0, i1: i1, a0: 1 - frac, a1: frac, d0: -scale, d1: scale)
        }
        var dpos = scale
        if padding == .border {
            if pos <= 0 { pos = 0; dpos = 0 } else if pos >= n - 1 { pos = n - 1; dpos = 0 }
        } else {
            pos = Swift.min(Swift.max(pos, -2), n + 1)   // beyond this every corner is outside anyway
        }
        let f = pos.rounded(.down), frac = pos - f
        let i0 = Int(f), i1 = i0 &+ 1
        let in0 = i0 >= 0 && i0 < size, in1 = i1 >= 0 && i1 < size
        return AxisTap(i0: in0 ? i0 : 0, i1: in1 ? i1 : 0,
                       a0: in0 ? 1 - frac : 0, a1: in1 ? frac : 0,
                       d0: in0 ? -dpos : 0, d1: in1 ? dpos : 0,
                       lower: Swift.min(Swift.max(i0, 0), size &- 1))
    }

    /// Fills, for the points `point(0..<count)`, `off[j·K + k]` (corner offset within a
    /// channel plane), `w[j·K + k]` (weight) and `dw[(j·K + k)·3 + axis]` (∂weight/∂coordinate).
    @inline(__always)
    func computeTaps(_ grid: UnsafePointer<Float>, _ count: Int, _ point: (Int) -> Int,
                     _ off: UnsafeMutablePointer<Int>, _ w: UnsafeMutablePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        let K = corners, hw = height &* width
        for jp in 0..<count {
            let c = grid + point(jp) &* rank
            let tx = tap(c[0], width, wrap: wrapX)
            let ty = tap(c[1], height, wrap: false)
            let tz = rank == 3 ? tap(c[2], depth, wrap: false) : .single
            let j = jp &* K
            for k in 0..<K {
                let bx = k & 1 != 0, by = k & 2 != 0, bz = k & 4 != 0
                let ix = bx ? tx.i1 : tx.i0, ax = bx ? tx.a1 : tx.a0, dx = bx ? tx.d1 : tx.d0
                let iy = by ? ty.i1 : ty.i0, ay = by ? ty.a1 : ty.a0, dy = by ? ty.d1 : ty.d0
                let iz = bz ? tz.i1 : tz.i0, az = bz ? tz.a1 : tz.a0, dz = bz ? tz.d1 : tz.d0
                off[j &+ k] = iz &* hw &+ iy &* width &+ ix
                w[j &+ k] = ax * ay * az
                let d = dw + (j &+ k) &* 3
                d[0] = dx * ay * az
                d[1] = ax * dy * az
                d[2] = ax * ay * dz
            }
        }
    }

    /// Runs `body(off, w, dw)` with scratch space for one block's taps.
    @inline(__always)
    func withTapBuffers(_ body: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let n = GridSampler.block * corners
        withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { off in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: n * 4) { f in
                body(off.baseAddress!, f.baseAddress!, f.baseAddress! + n)
            }
        }
    }

    // MARK: - Forward

    /// Sampled values `[N, C, P]`.
    func forward(input: [Float], grid: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: batch * channels * points)
        if out.isEmpty { return out }
        let C = channels, P = points, S = plane, K = corners, B = GridSampler.block, T = total
        input.withUnsafeBufferPointer { ip in
            grid.withUnsafeBufferPointer { gp in
                out.withUnsafeMutableBufferPointer { op in
                    nonisolated(unsafe) let inp = ip.baseAddress!, grd = gp.baseAddress!, dst = op.baseAddress!
                    Parallel.forEach((T + B - 1) / B, minChunk: minBlocksPerWorker) { blk in
                        let lo = blk &* B, hi = Swift.min(T, lo &+ B)
                        withTapBuffers { off, w, dw in
                            computeTaps(grd, hi &- lo, { lo &+ $0 }, off, w, dw)
                            for p in lo..<hi {
                                let b = p / P, q = p &- b &* P, j = (p &- lo) &* K
                                for c in 0..<C {
                                    let v = inp + (b &* C &+ c) &* S
                                    var s: Float = 0
                                    for k in 0..<K { s += w[j &+ k] * v[off[j &+ k]] }
                                    dst[(b &* C &+ c) &* P &+ q] = s
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: - VJP

    /// Adds `∂⟨g, out⟩/∂input` into `inputGrad` (`[N, C, S]`) and `∂⟨g, out⟩/∂grid` into
    /// `gridGrad` (`[N, P, rank]`); either may be nil.
    ///
    /// Workers write the input gradient without locks or private copies: a point only writes
    /// rows `lower` and `lower + 1` of the outermost spatial axis (z in 3D, y in 2D), so the
    /// (batch, row) keys are cut into up to 2 × workers slabs balanced by point count, and the
    /// even slabs run in parallel, then the odd ones — two slabs running together are always
    /// at least one row apart.
    func backward(_ g: [Float], input: [Float], grid: [Float],
                  inputGrad: UnsafeMutablePointer<Float>?, gridGrad: UnsafeMutablePointer<Float>?) {
        if g.isEmpty || (inputGrad == nil && gridGrad == nil) { return }
        let T = total
        let workers = Swift.min(Parallel.workers, Swift.max(1, T * channels * corners / 65_536))
        g.withUnsafeBufferPointer { gp in
            input.withUnsafeBufferPointer { ip in
                grid.withUnsafeBufferPointer { gdp in
                    nonisolated(unsafe) let gout = gp.baseAddress!, inp = ip.baseAddress!, grd = gdp.baseAddress!
                    nonisolated(unsafe) let ig = inputGrad, gg = gridGrad
                    if ig == nil || workers == 1 {
                        // Only per-point writes (or one worker): contiguous ranges of points.
                        Parallel.forEach(workers) { part in
                            let lo = T * part / workers, hi = T * (part + 1) / workers
                            backwardPoints(hi - lo, { lo &+ $0 }, gout, inp, grd, ig, gg)
                        }
                        return
                    }
                    let (slabs, starts, order) = slabPartition(grd, workers: workers)
                    order.withUnsafeBufferPointer { op in
                        nonisolated(unsafe) let ord = op.baseAddress!
                        for phase in 0..<2 {
                            Parallel.forEach((slabs - phase + 1) / 2) { i in
                                let sl = 2 * i + phase
                                let lo = starts[sl], n = starts[sl + 1] - lo
                                if n > 0 { backwardPoints(n, { Int(ord[lo &+ $0]) }, gout, inp, grd, ig, gg) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Cuts the (batch, outer row) keys into slabs of about equal point
    /// counts, each at least one row thick; returns the slab count, where each slab's points
    /// start in `order`, and the point indices sorted by slab (in their original order within).
    private func slabPartition(_ grid: UnsafePointer<Float>, workers: Int) -> (Int, [Int], [Int32]) {
        let T = total
        precondition(T < Int(Int32.max), "gridSample: \(T) points are too many for one call")
        let rows = rank == 3 ? depth : height
        let keys = batch * rows
        let slabs = Swift.max(1, Swift.min(2 * workers, keys))
        var key = [Int32](repeating: 0, count: T)
        var histogram = [Int](repeating: 0, count: keys)
        for p in 0..<T {
            let b = p / points
            let t = rank == 3 ? tap(grid[p &* 3 &+ 2], depth, wrap: false) : tap(grid[p &* 2 &+ 1], height, wrap: false)
            let k = b &* rows &+ t.lower
            key[p] = Int32(k)
            histogram[k] += 1
        }
        // Slab boundaries at point-count quantiles, kept strictly increasing.
        var bound = [Int](repeating: 0, count: slabs + 1)
        bound[slabs] = keys
        var cumulative = 0, k = 0
        for s in 1..<slabs {
            let target = T * s / slabs
            while k < keys && cumulative + histogram[k] <= target { cumulative += histogram[k]; k += 1 }
            bound[s] = Swift.min(Swift.max(k, bound[s - 1] + 1), keys - (slabs - s))
        }
        var slabOfKey = [Int](repeating: 0, count: keys)
        for s in 0..<slabs { for k in bound[s]..<bound[s + 1] { slabOfKey[k] = s } }
        var starts = [Int](repeating: 0, count: slabs + 1)
        for k in 0..<keys { starts[slabOfKey[k] + 1] += histogram[k] }
        for s in 0..<slabs { starts[s + 1] += starts[s] }
        var fill = starts
        var order = [Int32](repeating: 0, count: T)
        for p in 0..<T {
            let s = slabOfKey[Int(key[p])]
            order[fill[s]] = Int32(p)
            fill[s] += 1
        }
        return (slabs, starts, order)
    }

    /// The VJP of the points `point(0..<count)`. Corners of zero weight are never written
    /// (that keeps the slabs' writes apart: a masked corner's offset is a stand-in).
    @inline(__always)
    private func backwardPoints(_ count: Int, _ point: (Int) -> Int, _ gout: UnsafePointer<Float>,
                                _ inp: UnsafePointer<Float>, _ grd: UnsafePointer<Float>,
                                _ dst: UnsafeMutablePointer<Float>?, _ gg: UnsafeMutablePointer<Float>?) {
        let C = channels, P = points, S = plane, K = corners, B = GridSampler.block, R = rank
        withTapBuffers { off, w, dw in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 8) { ub in
                let u = ub.baseAddress!
                var start = 0
                while start < count {
                    let n = Swift.min(B, count &- start), s0 = start
                    computeTaps(grd, n, { point(s0 &+ $0) }, off, w, dw)
                    for jp in 0..<n {
                        let p = point(s0 &+ jp)
                        let b = p / P, q = p &- b &* P, j = jp &* K
                        for k in 0..<K { u[k] = 0 }
                        for c in 0..<C {
                            let gc = gout[(b &* C &+ c) &* P &+ q]
                            if gc == 0 { continue }
                            let plane = (b &* C &+ c) &* S
                            if let dst {
                                for k in 0..<K where w[j &+ k] != 0 { dst[plane &+ off[j &+ k]] += gc * w[j &+ k] }
                            }
                            if gg != nil {
                                for k in 0..<K { u[k] += gc * inp[plane &+ off[j &+ k]] }
                            }
                        }
                        if let gg {
                            for a in 0..<R {
                                var s: Float = 0
                                for k in 0..<K { s += dw[(j &+ k) &* 3 &+ a] * u[k] }
                                gg[p &* R &+ a] += s
                            }
                        }
                    }
                    start += n
                }
            }
        }
    }

    // MARK: - JVP

    /// Output tangent `[N, C, P]`: the input tangent sampled at the grid plus the
    /// coordinate tangents times the value's spatial derivatives.
    func tangent(input: [Float], inputTangent: [Float]?, grid: [Float], gridTangent: [Float]?) -> [Float] {
        var out = [Float](repeating: 0, count: batch * channels * points)
        if out.isEmpty || (inputTangent == nil && gridTangent == nil) { return out }
        let C = channels, P = points, S = plane, K = corners, B = GridSampler.block, T = total, R = rank
        let hasIT = inputTangent != nil, hasGT = gridTangent != nil
        let it = inputTangent ?? [0], gt = gridTangent ?? [0]
        input.withUnsafeBufferPointer { ip in
            grid.withUnsafeBufferPointer { gp in
                it.withUnsafeBufferPointer { itp in
                    gt.withUnsafeBufferPointer { gtp in
                        out.withUnsafeMutableBufferPointer { op in
                            nonisolated(unsafe) let inp = ip.baseAddress!, grd = gp.baseAddress!, dst = op.baseAddress!
                            nonisolated(unsafe) let tin = itp.baseAddress!, tg = gtp.baseAddress!
                            Parallel.forEach((T + B - 1) / B, minChunk: minBlocksPerWorker) { blk in
                                let lo = blk &* B, hi = Swift.min(T, lo &+ B)
                                withTapBuffers { off, w, dw in
                                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8) { eb in
                                        let e = eb.baseAddress!
                                        computeTaps(grd, hi &- lo, { lo &+ $0 }, off, w, dw)
                                        for p in lo..<hi {
                                            let b = p / P, q = p &- b &* P, j = (p &- lo) &* K
                                            // e_k = Σ_axes ġ_a · ∂w_k/∂g_a
                                            for k in 0..<K {
                                                var s: Float = 0
                                                if hasGT { for a in 0..<R { s += tg[p &* R &+ a] * dw[(j &+ k) &* 3 &+ a] } }
                                                e[k] = s
                                            }
                                            for c in 0..<C {
                                                let plane = (b &* C &+ c) &* S
                                                var s: Float = 0
                                                if hasIT { for k in 0..<K { s += w[j &+ k] * tin[plane &+ off[j &+ k]] } }
                                                if hasGT { for k in 0..<K { s += e[k] * inp[plane &+ off[j &+ k]] } }
                                                dst[(b &* C &+ c) &* P &+ q] = s
                                            }
                                        }
                                    }
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
