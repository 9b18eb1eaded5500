/// Marching cubes (Lorensen & Cline 1987) on a dense scalar grid: the surface where the
/// trilinearly interpolated value equals `isoLevel`, as a welded, consistently oriented
/// triangle mesh.
///
/// - One vertex per grid edge that the surface crosses, at the exact crossing of the linear
///   interpolation along that edge, shared by the (up to four) cubes around the edge.
/// - Faces whose four corners alternate inside/outside (the ambiguous case) are resolved by the
///   asymptotic decider (Nielson & Hamann 1991): the two inside corners are joined when the
///   bilinear interpolant's saddle value lies above `isoLevel`. The decision depends only on
///   the face's four values, so both cubes that share a face cut it the same way and the mesh
///   has no cracks.
/// - "Inside" means value `> isoLevel`; triangles are counter-clockwise seen from the low side,
///   so their normals point toward lower values (out of a density's solid).
/// - With `closeBoundary` the grid is surrounded by a layer of "outside" values, so a solid
///   that touches the grid's faces is capped there (the caps lie on the grid's outer faces)
///   and the mesh is closed whatever the data: every edge is shared by exactly two triangles.
///
/// The case table is not copied from anywhere: ``MarchingCubesTable`` derives it once from
/// the cube's geometry (see there).
///
/// ```swift
/// // A sphere of radius 0.5 sampled on 32³ points over [-1, 1]³.
/// let n = 32, h: Float = 2 / Float(n - 1)
/// var v = [Float](repeating: 0, count: n * n * n)
/// for z in 0..<n { for y in 0..<n { for x in 0..<n {
///     let p = SIMD3<Float>(Float(x), Float(y), Float(z)) * h - 1
///     v[(z * n + y) * n + x] = 0.5 - (p * p).sum().squareRoot()
/// }}}
/// let (vertices, triangles) = MarchingCubes.extract(values: v, depth: n, height: n, width: n,
///                                                   isoLevel: 0, origin: [-1, -1, -1], spacing: [h, h, h])
/// ```
public enum MarchingCubes {
    /// Value given to the outer layer with `closeBoundary` (and to NaN samples): outside at
    /// any iso level, and a crossing toward it lies exactly on the inside corner.
    static let outside = -Float.infinity
    /// Finite samples are clamped to ±this so that differences never overflow.
    static let valueLimit: Float = 1e30

    /// The iso-surface of `values` (`[D, H, W]` row-major: index `(z·H + y)·W + x`) at
    /// `isoLevel`. Sample `(x, y, z)` sits at `origin + spacing · (x, y, z)`; every extent must
    /// be at least 2. NaN samples count as outside.
    ///
    /// ```swift
    /// let (vertices, triangles) = MarchingCubes.extract(values: grid, depth: 16, height: 16, width: 16,
    ///                                                   isoLevel: 0.5)
    /// ```
    public static func extract(values: [Float], depth: Int, height: Int, width: Int, isoLevel: Float,
                               origin: SIMD3<Float> = .zero, spacing: SIMD3<Float> = .one,
                               closeBoundary: Bool = true) -> (vertices: [SIMD3<Float>], triangles: [SIMD3<Int32>]) {
        precondition(depth >= 2 && height >= 2 && width >= 2,
                     "MarchingCubes: grid extents must be ≥ 2, got \(depth)×\(height)×\(width)")
        precondition(values.count == depth * height * width,
                     "MarchingCubes: \(values.count) values for a \(depth)×\(height)×\(width) grid")
        precondition(isoLevel.isFinite && abs(isoLevel) < valueLimit,
                     "MarchingCubes: iso level must be finite and below \(valueLimit) in size, got \(isoLevel)")
        let pad = closeBoundary ? 1 : 0
        let (grid, D, H, W) = prepared(values, depth: depth, height: height, width: width, pad: pad)
        let table = MarchingCubesTable.shared

        // Vertex slots of the grid edges of one slab of cubes (between layers z and z + 1):
        // x-edges and y-edges of both layers, z-edges between them; −1 = no vertex yet.
        let xCount = H * (W - 1), yCount = (H - 1) * W, zCount = H * W
        var slots = [Int32](repeating: -1, count: 2 * xCount + 2 * yCount + zCount)
        var xBase = (lo: 0, hi: xCount), yBase = (lo: 2 * xCount, hi: 2 * xCount + yCount)
        let zBase = 2 * xCount + 2 * yCount
        // Per edge: its slot is base + (y + dy)·stride + x + dx, base picked per slab below.
        let edgeStride = (0..<12).map { [W - 1, W, W][Int(table.edgeAxis[$0])] }
        let edgeDX = (0..<12).map { Int(table.edgeCorners[$0].0) & 1 }
        let edgeDY = (0..<12).map { (Int(table.edgeCorners[$0].0) >> 1) & 1 }
        let edgeDZ = (0..<12).map { (Int(table.edgeCorners[$0].0) >> 2) & 1 }
        let cornerOffset: [Int] = (0..<8).map { c in
            let dx = c & 1, dy = (c >> 1) & 1, dz = (c >> 2) & 1
            return (dz * H + dy) * W + dx
        }
        let cornerStep: [SIMD3<Float>] = (0..<8).map { (c: Int) -> SIMD3<Float> in
            let dx = Float(c & 1), dy = Float((c >> 1) & 1), dz = Float((c >> 2) & 1)
            return SIMD3<Float>(dx, dy, dz)
        }
        let gridOrigin = origin - spacing * Float(pad)

        var vertices: [SIMD3<Float>] = []
        var triangles: [SIMD3<Int32>] = []
        var value = [Float](repeating: 0, count: 8)
        var loopVertex = [Int32](repeating: 0, count: 12)
        grid.withUnsafeBufferPointer { g in
            for z in 0..<(D - 1) {
                // Slab z: the old upper layer becomes the lower one; the new upper layer and the
                // z-edges start empty.
                if z > 0 {
                    swap(&xBase.lo, &xBase.hi)
                    swap(&yBase.lo, &yBase.hi)
                    for i in xBase.hi..<(xBase.hi + xCount) { slots[i] = -1 }
                    for i in yBase.hi..<(yBase.hi + yCount) { slots[i] = -1 }
                    for i in zBase..<(zBase + zCount) { slots[i] = -1 }
                }
                let edgeBase = (0..<12).map { e -> Int in
                    switch table.edgeAxis[e] {
                    case 0: return edgeDZ[e] == 0 ? xBase.lo : xBase.hi
                    case 1: return edgeDZ[e] == 0 ? yBase.lo : yBase.hi
                    default: return zBase
                    }
                }
                for y in 0..<(H - 1) {
                    for x in 0..<(W - 1) {
                        let base = (z &* H &+ y) &* W &+ x
                        var cubeCase = 0
                        for c in 0..<8 {
                            let v = g[base &+ cornerOffset[c]]
                            value[c] = v
                            if v > isoLevel { cubeCase |= 1 << c }
                        }
                        if cubeCase == 0 || cubeCase == 255 { continue }
                        // Asymptotic decider on the ambiguous faces.
                        var faceBits = 0
                        let ambiguous = Int(table.ambiguousFaces[cubeCase])
                        if ambiguous != 0 {
                            for f in 0..<6 where ambiguous & (1 << f) != 0 {
                                let k = table.faceCorners[f]
                                let r0 = value[k.0] - isoLevel, r1 = value[k.1] - isoLevel
                                let r2 = value[k.2] - isoLevel, r3 = value[k.3] - isoLevel
                                if (r0 * r2 > r1 * r3) == (r0 > 0) { faceBits |= 1 << f }
                            }
                        }
                        let cell = SIMD3<Float>(Float(x), Float(y), Float(z))
                        // Welded vertex of edge e, made on first use.
                        func vertex(_ e: Int) -> Int32 {
                            let slot = edgeBase[e] &+ (y &+ edgeDY[e]) &* edgeStride[e] &+ x &+ edgeDX[e]
                            if slots[slot] >= 0 { return slots[slot] }
                            let (c0, c1) = (Int(table.edgeCorners[e].0), Int(table.edgeCorners[e].1))
                            let (cIn, cOut) = value[c0] > isoLevel ? (c0, c1) : (c1, c0)
                            let t = (value[cIn] - isoLevel) / (value[cIn] - value[cOut])   // 0 when outside is −∞
                            let p = cell + cornerStep[cIn] + t * (cornerStep[cOut] - cornerStep[cIn])
                            let index = Int32(vertices.count)
                            vertices.append(gridOrigin + spacing * p)
                            slots[slot] = index
                            return index
                        }
                        // The case's loops: fans, or a centroid vertex where a fan could
                        // share a diagonal with the neighbouring cube (see MarchingCubesTable).
                        var i = Int(table.offsets[cubeCase | faceBits << 8])
                        while table.loops[i] != 0 {
                            let header = Int(table.loops[i])
                            let n = header & 0x7f
                            for j in 0..<n { loopVertex[j] = vertex(Int(table.loops[i + 1 + j])) }
                            if header & 0x80 == 0 {
                                for j in 1..<(n - 1) { triangles.append([loopVertex[0], loopVertex[j], loopVertex[j + 1]]) }
                            } else {
                                var sum = SIMD3<Float>.zero
                                for j in 0..<n { sum += vertices[Int(loopVertex[j])] }
                                let center = Int32(vertices.count)
                                vertices.append(sum / Float(n))
                                for j in 0..<n { triangles.append([center, loopVertex[j], loopVertex[(j + 1) % n]]) }
                            }
                            i += 1 + n
                        }
                    }
                }
            }
        }
        return (vertices, triangles)
    }

    /// A copy of `values` with NaN made ``outside``, finite values clamped to ±``valueLimit``
    /// and, when `pad` is 1, a layer of ``outside`` around it; returns the new extents too.
    static func prepared(_ values: [Float], depth: Int, height: Int, width: Int,
                         pad: Int) -> (grid: [Float], depth: Int, height: Int, width: Int) {
        let D = depth + 2 * pad, H = height + 2 * pad, W = width + 2 * pad
        var grid = [Float](repeating: outside, count: D * H * W)
        let limit = valueLimit
        values.withUnsafeBufferPointer { src in grid.withUnsafeMutableBufferPointer { dst in
            for z in 0..<depth {
                for y in 0..<height {
                    let s = src.baseAddress! + (z * height + y) * width
                    let d = dst.baseAddress! + ((z + pad) * H + y + pad) * W + pad
                    for x in 0..<width {
                        let v = s[x]
                        d[x] = v.isNaN ? outside : Swift.min(Swift.max(v, -limit), limit)
                    }
                }
            }
        }}
        return (grid, D, H, W)
    }
}
