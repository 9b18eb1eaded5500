import Foundation
import TensorCore

/// Trilinear interpolation of dense grids `[C, D, H, W]` at fixed points, as one op with a
/// VJP (scatter-add into the grid) and a JVP (the same interpolation of the grid's tangent).
///
/// The points are constants: the cell and the three fractions of every point are computed once
/// here and reused for every grid sampled at them (a field's density and colour grids).
/// Coordinates follow PyTorch's `grid_sample` with `align_corners=True` and border padding:
/// world `x` runs along W, `y` along H, `z` along D; the box face `−b` is the first grid vertex
/// and `+b` the last; points outside the box take the value on its surface.
///
/// ```swift
/// let interp = TrilinearInterpolation(points: samples.points, box: SceneBox(), depth: 32, height: 32, width: 32)
/// let grid = Tensor.parameter([3, 32, 32, 32], data: values)
/// let rgb = interp.sample(grid)          // [P, 3], differentiable in grid
/// ```
public struct TrilinearInterpolation: Sendable {
    /// Number of points `P`.
    public let pointCount: Int
    /// Grid extents.
    public let depth: Int, height: Int, width: Int
    /// Linear index `(d·H + h)·W + w` of each point's lower cell corner, `[P]`.
    let corner: [Int32]
    /// Fractions `(fx, fy, fz)` of each point inside its cell, `[P, 3]`.
    let fraction: [Float]

    /// Prepares interpolation at `points` (`[P, 3]` world coordinates) in grids covering `box`.
    /// Every extent must be at least 2.
    public init(points: Tensor, box: SceneBox, depth: Int, height: Int, width: Int) {
        precondition(points.rank == 2 && points.shape[1] == 3,
                     "TrilinearInterpolation: points must be [P, 3], got \(points.shape)")
        precondition(depth >= 2 && height >= 2 && width >= 2,
                     "TrilinearInterpolation: grid extents must be ≥ 2, got \(depth)×\(height)×\(width)")
        precondition(depth * height * width <= Int(Int32.max), "TrilinearInterpolation: grid too large")
        let P = points.shape[0]
        pointCount = P
        self.depth = depth
        self.height = height
        self.width = width
        var corner = [Int32](repeating: 0, count: P)
        var fraction = [Float](repeating: 0, count: P * 3)
        let inv = 1 / box.halfExtent
        let extents: (Float, Float, Float) = (Float(width - 1), Float(height - 1), Float(depth - 1))
        let W = width, HW = height * width
        points.data.withUnsafeBufferPointer { pp in corner.withUnsafeMutableBufferPointer { cp in
        fraction.withUnsafeMutableBufferPointer { fp in
            nonisolated(unsafe) let pp = pp.baseAddress!, cp = cp.baseAddress!, fp = fp.baseAddress!
            Parallel.forEach(P, minChunk: 4096) { p in
                // Continuous grid coordinate of one axis, clamped to the grid (NaN → 0), split into
                // cell + fraction.
                @inline(__always) func split(_ x: Float, _ n: Float) -> (Int, Float) {
                    let g0 = (x * inv + 1) * 0.5 * n
                    let g = g0 >= 0 ? (g0 <= n ? g0 : n) : 0
                    let i = Swift.min(Int(g), Int(n) &- 1)
                    return (i, g - Float(i))
                }
                let (ix, fx) = split(pp[3 &* p], extents.0)
                let (iy, fy) = split(pp[3 &* p &+ 1], extents.1)
                let (iz, fz) = split(pp[3 &* p &+ 2], extents.2)
                cp[p] = Int32(truncatingIfNeeded: iz &* HW &+ iy &* W &+ ix)
                fp[3 &* p] = fx; fp[3 &* p &+ 1] = fy; fp[3 &* p &+ 2] = fz
            }
        }}}
        self.corner = corner
        self.fraction = fraction
    }

    /// An elementwise function applied to the interpolated values inside the op (one pass,
    /// parallel, derivative fused into the VJP and JVP).
    public enum Activation: Sendable, Equatable {
        /// The interpolated value itself.
        case identity
        /// `softplus(x + bias) = log(1 + exp(x + bias))`.
        case softplus(bias: Float)
        /// `exp(min(x + bias, 15))` (clamped so that no step can overflow; the derivative is
        /// 0 above the clamp).
        case exp(bias: Float)
        /// `tanh(x)`.
        case tanh

        /// Largest argument of ``exp(bias:)`` (`e¹⁵ ≈ 3.3·10⁶`).
        static let expClamp: Float = 15

        /// Applies the activation in place to `n` values at `x`, writing `f'` into `slope` when given.
        /// One tight loop per case, so each one vectorises.
        func apply(_ x: UnsafeMutablePointer<Float>, _ n: Int, slope: UnsafeMutablePointer<Float>?) {
            switch self {
            case .identity:
                if let slope { for i in 0..<n { slope[i] = 1 } }
            case .tanh:
                if let slope {
                    for i in 0..<n { let y = FastMath.tanh(x[i]); x[i] = y; slope[i] = 1 - y * y }
                } else {
                    for i in 0..<n { x[i] = FastMath.tanh(x[i]) }
                }
            case .exp(let b):
                let top = Self.expClamp
                if let slope {
                    for i in 0..<n {
                        let z = x[i] + b
                        let y = FastMath.exp(z < top ? z : top)
                        x[i] = y
                        slope[i] = z < top ? y : 0
                    }
                } else {
                    for i in 0..<n { let z = x[i] + b; x[i] = FastMath.exp(z < top ? z : top) }
                }
            case .softplus(let b):
                // softplus(z) = max(z, 0) + log(1 + e^−|z|);  σ(z) = 1/(1 + e^−z).
                for i in 0..<n {
                    let z = x[i] + b
                    let e = FastMath.exp(-Swift.abs(z))
                    x[i] = Swift.max(z, 0) + (e < 1e-4 ? e * (1 - 0.5 * e) : Foundation.log(1 + e))
                    if let slope { slope[i] = z >= 0 ? 1 / (1 + e) : e / (1 + e) }
                }
            }
        }
    }

    /// The grid `[C, D, H, W]` (or `[1, C, D, H, W]`) interpolated at the points, then passed
    /// through `activation`: `[P, C]`.
    public func sample(_ grid: Tensor, activation: Activation = .identity) -> Tensor {
        let spatial = [depth, height, width]
        precondition((grid.rank == 4 && Array(grid.shape[1...]) == spatial)
                     || (grid.rank == 5 && grid.shape[0] == 1 && Array(grid.shape[2...]) == spatial),
                     "TrilinearInterpolation: grid must be [C, \(depth), \(height), \(width)] or [1, C, …], got \(grid.shape)")
        let C = grid.shape[grid.rank - 4]
        // f'(x) at each output, kept for the VJP and JVP when either can be asked for.
        let needSlope = activation != .identity
            && ((GradMode.isEnabled && grid.requiresGrad) || grid.tangent != nil)
        var slope = [Float](repeating: 0, count: needSlope ? pointCount * C : 0)
        let out = slope.withUnsafeMutableBufferPointer { sp in
            gather(grid.data, channels: C, activation: activation, slopeOut: needSlope ? sp.baseAddress : nil)
        }
        let slopes = slope
        return Tensor.makeResult(
            op: "trilinear", shape: [pointCount, C], data: out, parents: [grid],
            backward: { g in
                guard grid.requiresGrad else { return }
                grid.accumulateGrad(scatter(g, channels: C, scale: needSlope ? slopes : nil))
            },
            jvp: { gather(grid.tangentOrZeros, channels: C, scale: needSlope ? slopes : nil) })
    }

    /// The weights of point `p`'s eight cell corners `(dz, dy, dx)` = 000, 001, …, 111 (products
    /// of `1 − f` and `f` along each axis), from the fractions at `fp`; the gather and the
    /// scatter use the same ones.
    @inline(__always)
    static func cornerWeights(_ fp: UnsafePointer<Float>, _ p: Int)
        -> (Float, Float, Float, Float, Float, Float, Float, Float) {
        let fx = fp[3 &* p], fy = fp[3 &* p &+ 1], fz = fp[3 &* p &+ 2]
        let gx = 1 - fx, gy = 1 - fy, gz = 1 - fz
        return (gz * gy * gx, gz * gy * fx, gz * fy * gx, gz * fy * fx,
                fz * gy * gx, fz * gy * fx, fz * fy * gx, fz * fy * fx)
    }

    /// `out[p, c] = f(Σ_corners weight · values[c, corner])` for `activation` f; writes
    /// `f'` into `slopeOut` when given, multiplies by `scale[p, c]` when given.
    func gather(_ values: [Float], channels C: Int, activation: Activation = .identity,
                slopeOut: UnsafeMutablePointer<Float>? = nil, scale: [Float]? = nil) -> [Float] {
        let P = pointCount, W = width, HW = height * width, DHW = depth * height * width
        var out = [Float](unsafeUninitializedCapacity: P * C) { _, n in n = P * C }   // every entry is written
        let scales = scale ?? []
        let hasScale = scale != nil, isIdentity = activation == .identity
        values.withUnsafeBufferPointer { vp in corner.withUnsafeBufferPointer { cp in
        fraction.withUnsafeBufferPointer { fp in out.withUnsafeMutableBufferPointer { op in
        scales.withUnsafeBufferPointer { sc in
            nonisolated(unsafe) let vp = vp.baseAddress!, cp = cp.baseAddress!, fp = fp.baseAddress!, op = op.baseAddress!
            nonisolated(unsafe) let sc = sc.baseAddress, slopeOut = slopeOut
            // Blocks of points: interpolate, then activate the block's values in one tight loop.
            let block = 512
            Parallel.forEach((P + block - 1) / block, minChunk: 4) { k in
                let lo = k &* block, hi = Swift.min(P, lo &+ block)
                for p in lo..<hi {
                    let (w000, w001, w010, w011, w100, w101, w110, w111) = Self.cornerWeights(fp, p)
                    var v = vp + Int(cp[p])
                    let o = op + p &* C
                    for c in 0..<C {
                        let a = w000 * v[0] + w001 * v[1] + w010 * v[W] + w011 * v[W &+ 1]
                        let b = w100 * v[HW] + w101 * v[HW &+ 1] + w110 * v[HW &+ W] + w111 * v[HW &+ W &+ 1]
                        o[c] = hasScale ? (a + b) * sc![p &* C &+ c] : a + b
                        v += DHW
                    }
                }
                if !isIdentity {
                    activation.apply(op + lo &* C, (hi &- lo) &* C, slope: slopeOut.map { $0 + lo &* C })
                }
            }
        }}}}}
        return out
    }

    /// The VJP: `grad[c, corner] += weight · g[p, c]`, summed over points (``ChunkBuffers``:
    /// one buffer per worker, no atomics, deterministic for a given worker count).
    func scatter(_ g: [Float], channels C: Int, scale: [Float]? = nil) -> [Float] {
        let W = width, HW = height * width, DHW = depth * height * width
        let scales = scale ?? [], hasScale = scale != nil
        return g.withUnsafeBufferPointer { gp in corner.withUnsafeBufferPointer { cp in scales.withUnsafeBufferPointer { sc in
        fraction.withUnsafeBufferPointer { fp in
            nonisolated(unsafe) let gp = gp.baseAddress!, cp = cp.baseAddress!, fp = fp.baseAddress!
            nonisolated(unsafe) let sc = sc.baseAddress
            return ChunkBuffers.scatter(points: pointCount, size: C * DHW) { buffer, points in
                for p in points {
                    let (w000, w001, w010, w011, w100, w101, w110, w111) = Self.cornerWeights(fp, p)
                    var v = buffer + Int(cp[p])
                    let gr = gp + p &* C
                    for c in 0..<C {
                        let x = hasScale ? gr[c] * sc![p &* C &+ c] : gr[c]
                        v[0] += w000 * x; v[1] += w001 * x; v[W] += w010 * x; v[W &+ 1] += w011 * x
                        v[HW] += w100 * x; v[HW &+ 1] += w101 * x; v[HW &+ W] += w110 * x; v[HW &+ W &+ 1] += w111 * x
                        v += DHW
                    }
                }
            }
        }}}}
    }
}
