import TensorCore

/// Which cells of a scene box may hold density: instant-ngp's empty-space skipping, for fields
/// whose every sample costs a network evaluation (``HashGridField``). The renderer evaluates
/// such a field only at samples in occupied cells and treats the others as empty (density 0).
///
/// The grid is a function of the field, refreshed from it: the density at the `(n+1)³` cell
/// corners, a cell occupied when any corner reaches the threshold, then every occupied cell's 26
/// neighbours marked too (a density peak between corners, and room for the surface to grow by a
/// cell between refreshes). The threshold is `min(threshold, mean corner density)`, so a field
/// that starts (or is initialised) below it everywhere still renders and learns.
///
/// What skipping costs: a skipped sample with density `σ < threshold` would have absorbed
/// `1 − e^{−σδ} < threshold·δ` of the light (the default `0.002` at the default spacing,
/// `δ ≈ 0.06`: about 10⁻⁴), and its gradient with respect to the field's raw density output is
/// that small too (`∂/∂h = σ·∂/∂σ` for `σ = exp(h + bias)`).
///
/// ```swift
/// let grid = OccupancyGrid(box: SceneBox(), resolution: 32)
/// grid.refresh(density: { points in field(points).density.data })   // [P, 3] → [P]
/// let active = grid.occupiedIndices(points.data)                      // samples worth evaluating
/// ```
public final class OccupancyGrid: @unchecked Sendable {
    /// The box the cells tile.
    public let box: SceneBox
    /// Cells per axis `n`.
    public let resolution: Int
    /// Density (per unit length) below which a cell counts as empty (capped by the mean).
    public var threshold: Float
    /// Renders on the tape between refreshes (a render without the tape always sees a fresh grid).
    public var refreshInterval: Int
    /// `n³` flags, x fastest, z slowest; empty until the first refresh.
    public private(set) var occupied: [Bool] = []
    /// Renders on the tape since the last refresh.
    private var tapedRendersSinceRefresh = 0

    /// The default threshold: a fifth of ``EmptySpacePrior/emptyDensity``.
    public static let defaultThreshold: Float = EmptySpacePrior.emptyDensity / 5

    public init(box: SceneBox = SceneBox(), resolution: Int = 32, threshold: Float = OccupancyGrid.defaultThreshold,
                refreshInterval: Int = 8) {
        precondition(resolution >= 1, "OccupancyGrid: resolution must be ≥ 1, got \(resolution)")
        precondition(threshold >= 0 && threshold.isFinite, "OccupancyGrid: threshold must be finite and ≥ 0, got \(threshold)")
        precondition(refreshInterval >= 1, "OccupancyGrid: refresh interval must be ≥ 1, got \(refreshInterval)")
        self.box = box
        self.resolution = resolution
        self.threshold = threshold
        self.refreshInterval = refreshInterval
    }

    /// Fraction of the cells that are occupied (1 before the first refresh: nothing is skipped).
    public var occupiedFraction: Float {
        occupied.isEmpty ? 1 : Float(occupied.lazy.filter { $0 }.count) / Float(occupied.count)
    }

    /// Forgets the grid: the next render refreshes it (call after changing the field's
    /// parameters other than by rendering and optimising, e.g. loading them).
    public func invalidate() {
        occupied = []
        tapedRendersSinceRefresh = 0
    }

    /// The cell corners, `[(n+1)³, 3]` world points (x fastest).
    public func corners() -> Tensor { box.lattice(resolution + 1) }

    /// Recomputes the grid from `density` (`[P, 3]` points → `P` densities) at the cell corners.
    public func refresh(density: (Tensor) -> [Float]) {
        let values = density(corners())
        let m = resolution + 1
        precondition(values.count == m * m * m, "OccupancyGrid: density returned \(values.count) values for \(m * m * m) corners")
        var sum = 0.0
        for v in values { sum += Double(v.isFinite ? v : 0) }
        let cut = Swift.min(threshold, Float(sum / Double(values.count)))         // min(threshold, mean)
        let n = resolution
        var cells = [Bool](repeating: false, count: n * n * n)                    // before dilation
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            var any = false
            for k in 0..<8 where !any {
                let v = values[((z + (k >> 2 & 1)) * m + y + (k >> 1 & 1)) * m + x + (k & 1)]
                any = !(v < cut)                                                          // NaN counts as occupied
            }
            cells[(z * n + y) * n + x] = any
        }}}
        occupied = Self.dilated(cells, n)
        tapedRendersSinceRefresh = 0
    }

    /// Refreshes when due: before the first use, before any render off the tape that follows a
    /// taped one, and after ``refreshInterval`` taped renders; then counts this render.
    public func refreshIfDue(taped: Bool, density: (Tensor) -> [Float]) {
        if occupied.isEmpty || (taped ? tapedRendersSinceRefresh >= refreshInterval : tapedRendersSinceRefresh > 0) {
            refresh(density: density)
        }
        if taped { tapedRendersSinceRefresh += 1 }
    }

    /// Indices of the points (`[P, 3]` world coordinates, flat) whose cell is occupied, in order;
    /// points outside the box count in the nearest cell. Every index before the first refresh.
    public func occupiedIndices(_ points: [Float]) -> [Int] {
        let count = points.count / 3
        guard !occupied.isEmpty else { return Array(0..<count) }
        let n = resolution, scale = Float(n) / (2 * box.halfExtent), b = box.halfExtent
        var indices: [Int] = []
        indices.reserveCapacity(count)
        occupied.withUnsafeBufferPointer { occ in points.withUnsafeBufferPointer { p in
            func cell(_ x: Float) -> Int {
                let c = (x + b) * scale
                return c >= 1 ? Swift.min(Int(c), n - 1) : 0                             // NaN → 0
            }
            for i in 0..<count where occ[(cell(p[3 * i + 2]) * n + cell(p[3 * i + 1])) * n + cell(p[3 * i])] {
                indices.append(i)
            }
        }}
        return indices
    }

    /// `cells` with every occupied cell's 26 neighbours set too.
    static func dilated(_ cells: [Bool], _ n: Int) -> [Bool] {
        var out = cells
        for z in 0..<n { for y in 0..<n { for x in 0..<n where cells[(z * n + y) * n + x] {
            for dz in Swift.max(z - 1, 0)...Swift.min(z + 1, n - 1) {
                for dy in Swift.max(y - 1, 0)...Swift.min(y + 1, n - 1) {
                    for dx in Swift.max(x - 1, 0)...Swift.min(x + 1, n - 1) { out[(dz * n + dy) * n + dx] = true }
                }
            }
        }}}
        return out
    }
}
