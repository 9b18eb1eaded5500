import Foundation
import TensorCore

/// The multi-resolution hash encoding of instant-ngp (Müller et al. 2022) at fixed points, as one
/// op: a feature table per level, read by trilinear interpolation of the 8 corners of the
/// point's cell on that level's grid. Coarse levels whose `(N+1)³` vertices fit in the table are
/// indexed densely; finer ones through the spatial hash
/// `(x·1 ⊕ y·2654435761 ⊕ z·805459861) mod T`.
///
/// The encoding is linear in the table, so its JVP is the encoding of the table's tangent and
/// its VJP scatters the output gradient back to the table's entries (the same weights).
/// The points are constants (their cells are recomputed on each pass instead of stored: the
/// 8 corners × levels of a few hundred thousand points would take more memory than the table).
///
/// ```swift
/// let config = HashGridEncoding.Configuration()                 // 8 levels × 2 features
/// let enc = HashGridEncoding(points: points, box: SceneBox(), configuration: config)
/// let table = Tensor.parameter([config.levels, config.tableSize, config.featuresPerLevel], data: values)
/// let features = enc.encode(table)                              // [P, 16], differentiable in table
/// ```
public struct HashGridEncoding: Sendable {
    /// Sizes of the encoding (documented defaults).
    public struct Configuration: Sendable, Equatable {
        /// Number of grid levels `L`.
        public var levels = 8
        /// Features stored per table entry `F`.
        public var featuresPerLevel = 2
        /// log₂ of the entries per level `T`.
        public var log2TableSize = 14
        /// Cells per axis of the coarsest level.
        public var baseResolution = 8
        /// Cells per axis of the finest level (the levels grow geometrically in between).
        public var finestResolution = 128

        public init(levels: Int = 8, featuresPerLevel: Int = 2, log2TableSize: Int = 14,
                    baseResolution: Int = 8, finestResolution: Int = 128) {
            self.levels = levels
            self.featuresPerLevel = featuresPerLevel
            self.log2TableSize = log2TableSize
            self.baseResolution = baseResolution
            self.finestResolution = finestResolution
        }

        /// Entries per level `T = 2^log2TableSize`.
        public var tableSize: Int { 1 << log2TableSize }
        /// Output features per point, `L·F`.
        public var outputFeatures: Int { levels * featuresPerLevel }
        /// The table's shape `[L, T, F]`.
        public var tableShape: [Int] { [levels, tableSize, featuresPerLevel] }

        /// Cells per axis of each level: `round(base·b^l)` with `b` chosen so the last is `finest`.
        public var resolutions: [Int] {
            guard levels > 1 else { return [baseResolution] }
            let growth = Foundation.exp((Foundation.log(Double(finestResolution)) - Foundation.log(Double(baseResolution))) / Double(levels - 1))
            return (0..<levels).map { Int((Double(baseResolution) * Foundation.pow(growth, Double($0))).rounded()) }
        }

        /// Throws a description of the first invalid setting.
        public func validate() throws {
            guard levels >= 1, levels <= 32, featuresPerLevel >= 1, featuresPerLevel <= 8 else {
                throw HashGridError("levels must be in 1...32 and features per level in 1...8 (got \(levels), \(featuresPerLevel))")
            }
            guard log2TableSize >= 4, log2TableSize <= 24 else {
                throw HashGridError("log2 table size must be in 4...24 (got \(log2TableSize))")
            }
            guard baseResolution >= 1, finestResolution >= baseResolution, finestResolution <= 1 << 16 else {
                throw HashGridError("resolutions must satisfy 1 ≤ base ≤ finest ≤ 65536 (got \(baseResolution), \(finestResolution))")
            }
        }
    }

    public let configuration: Configuration
    /// Number of points `P`.
    public let pointCount: Int
    /// Each level's indexing, coarsest first.
    let levels: [Level]
    /// The points mapped into the unit cube (clamped), `[P, 3]`.
    let unit: [Float]

    /// Prepares the encoding of `points` (`[P, 3]` world coordinates; points outside `box` take
    /// the value on its surface).
    public init(points: Tensor, box: SceneBox, configuration: Configuration = Configuration()) {
        precondition(points.rank == 2 && points.shape[1] == 3, "HashGridEncoding: points must be [P, 3], got \(points.shape)")
        precondition((try? configuration.validate()) != nil, "HashGridEncoding: invalid configuration \(configuration)")
        self.configuration = configuration
        pointCount = points.shape[0]
        levels = configuration.resolutions.map { Level(cells: $0, tableSize: configuration.tableSize) }
        let inv = 0.5 / box.halfExtent
        unit = points.data.map { x in
            let u = x * inv + 0.5
            return u >= 0 ? (u <= 1 ? u : 1) : 0                               // NaN → 0
        }
    }

    /// The table `[L, T, F]` encoded at the points: `[P, L·F]` (level-major features).
    public func encode(_ table: Tensor) -> Tensor {
        let c = configuration
        precondition(table.shape == c.tableShape, "HashGridEncoding: table must be \(c.tableShape), got \(table.shape)")
        let out = gather(table.data)
        return Tensor.makeResult(
            op: "hashgrid", shape: [pointCount, c.outputFeatures], data: out, parents: [table],
            backward: { g in
                guard table.requiresGrad else { return }
                table.accumulateGrad(scatter(g))
            },
            jvp: { gather(table.tangentOrZeros) })
    }

    /// What indexing a level needs: cells per axis, corner lattice side, dense or hashed.
    struct Level {
        let cells: Int, cellsF: Float, side: Int32, dense: Bool, mask: UInt32

        init(cells: Int, tableSize: Int) {
            self.cells = cells
            cellsF = Float(cells)
            side = Int32(truncatingIfNeeded: cells &+ 1)
            dense = (cells + 1) * (cells + 1) * (cells + 1) <= tableSize
            mask = UInt32(tableSize &- 1)
        }
    }

    /// Corner `k`'s offsets along x, y and z (`k = dx + 2·dy + 4·dz`).
    static let cornerX = SIMD8<UInt32>(0, 1, 0, 1, 0, 1, 0, 1)
    static let cornerY = SIMD8<UInt32>(0, 0, 1, 1, 0, 0, 1, 1)
    static let cornerZ = SIMD8<UInt32>(0, 0, 0, 0, 1, 1, 1, 1)

    /// The table rows and trilinear weights of the 8 corners of point `p`'s cell on `level`
    /// (corner `k = dx + 2·dy + 4·dz`; weight `w_x·w_y·w_z` with `w = frac` on the far side,
    /// `1 − frac` on the near one).
    @inline(__always)
    static func corners(_ u: UnsafePointer<Float>, point p: Int, level: Level) -> (rows: SIMD8<UInt32>, weights: SIMD8<Float>) {
        var cell = SIMD3<UInt32>(0, 0, 0), far = SIMD3<Float>(0, 0, 0)
        for a in 0..<3 {
            let g = u[3 &* p &+ a] * level.cellsF
            let i = Swift.min(Int(g), level.cells &- 1)
            cell[a] = UInt32(truncatingIfNeeded: i)
            far[a] = g - Float(i)
        }
        let near = 1 - far
        let wx = SIMD8<Float>(near.x, far.x, near.x, far.x, near.x, far.x, near.x, far.x)
        let wy = SIMD8<Float>(near.y, near.y, far.y, far.y, near.y, near.y, far.y, far.y)
        let wz = SIMD8<Float>(near.z, near.z, near.z, near.z, far.z, far.z, far.z, far.z)
        let x = SIMD8(repeating: cell.x) &+ cornerX, y = SIMD8(repeating: cell.y) &+ cornerY
        let z = SIMD8(repeating: cell.z) &+ cornerZ
        let rows: SIMD8<UInt32>
        if level.dense {
            let side = SIMD8(repeating: UInt32(level.side))
            rows = (z &* side &+ y) &* side &+ x
        } else {
            rows = (x ^ (y &* 2_654_435_761) ^ (z &* 805_459_861)) & SIMD8(repeating: level.mask)
        }
        return (rows, wx * wy * wz)
    }

    /// `out[p, l·F + f] = Σ_corners weight · values[l, row, f]`.
    func gather(_ values: [Float]) -> [Float] {
        let P = pointCount, out = configuration.outputFeatures
        return [Float](unsafeUninitializedCapacity: P * out) { result, count in
            values.withUnsafeBufferPointer { vp in
                nonisolated(unsafe) let vp = vp.baseAddress!, rp = result.baseAddress!
                ChunkBuffers.forEachChunk(points: P, size: 2048) { points in
                    gather(vp, points: points, into: rp + points.lowerBound &* out)
                }
            }
            count = P * out
        }
    }

    /// The VJP: `grad[l, row, f] += weight · g[p, l·F + f]` summed over points (``ChunkBuffers``:
    /// one buffer per worker, no atomics, deterministic for a given worker count).
    func scatter(_ g: [Float]) -> [Float] {
        let c = configuration
        return g.withUnsafeBufferPointer { gp in
            nonisolated(unsafe) let gp = gp.baseAddress!
            return ChunkBuffers.scatter(points: pointCount, size: c.levels * c.tableSize * c.featuresPerLevel) { buffer, points in
                scatter(gp + points.lowerBound &* c.outputFeatures, points: points, into: buffer)
            }
        }
    }

    /// Writes the encoding of `points` from the table `values` (`[L, T, F]`) into `out`, one
    /// row of `L·F` features per point, the first point's row first.
    func gather(_ values: UnsafePointer<Float>, points: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let c = configuration
        let F = c.featuresPerLevel, T = c.tableSize, width = c.outputFeatures
        unit.withUnsafeBufferPointer { up in levels.withUnsafeBufferPointer { lp in
            let up = up.baseAddress!
            for p in points {
                let o = out + (p &- points.lowerBound) &* width
                for l in 0..<lp.count {
                    let (rows, w) = Self.corners(up, point: p, level: lp[l])
                    let table = values + l &* T &* F, ol = o + l &* F
                    if F == 2 {
                        var acc = SIMD2<Float>(0, 0)
                        for k in 0..<8 {
                            let v = table + Int(rows[k]) &* 2
                            acc += w[k] * SIMD2(v[0], v[1])
                        }
                        ol[0] = acc.x; ol[1] = acc.y
                    } else {
                        for f in 0..<F { ol[f] = 0 }
                        for k in 0..<8 {
                            let v = table + Int(rows[k]) &* F
                            for f in 0..<F { ol[f] += w[k] * v[f] }
                        }
                    }
                }
            }
        }}
    }

    /// Adds the VJP of ``gather(_:points:into:)`` for the feature gradients `g` (one row of `L·F`
    /// per point, the first point's row first) into `table` (`[L, T, F]`).
    func scatter(_ g: UnsafePointer<Float>, points: Range<Int>, into table: UnsafeMutablePointer<Float>) {
        let c = configuration
        let F = c.featuresPerLevel, T = c.tableSize, width = c.outputFeatures
        unit.withUnsafeBufferPointer { up in levels.withUnsafeBufferPointer { lp in
            let up = up.baseAddress!
            for p in points {
                let gRow = g + (p &- points.lowerBound) &* width
                for l in 0..<lp.count {
                    let (rows, w) = Self.corners(up, point: p, level: lp[l])
                    let level = table + l &* T &* F, gr = gRow + l &* F
                    if F == 2 {
                        let g2 = SIMD2(gr[0], gr[1])
                        for k in 0..<8 {
                            let v = level + Int(rows[k]) &* 2
                            let sum = SIMD2(v[0], v[1]) + w[k] * g2
                            v[0] = sum.x; v[1] = sum.y
                        }
                    } else {
                        for k in 0..<8 {
                            let v = level + Int(rows[k]) &* F
                            for f in 0..<F { v[f] += w[k] * gr[f] }
                        }
                    }
                }
            }
        }}
    }
}

/// An invalid ``HashGridEncoding/Configuration``.
public struct HashGridError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
