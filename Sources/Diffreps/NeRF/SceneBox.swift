import TensorCore

/// The axis-aligned cube `[-b, b]³` that bounds a NeRF scene: rays are sampled only inside it
/// and grid fields cover exactly it.
///
/// ```swift
/// let box = SceneBox()                               // b = 1.5
/// box.intersect(origin: [0, 0, 4], direction: [0, 0, -1])   // (near: 2.5, far: 5.5)
/// ```
public struct SceneBox: Sendable, Equatable {
    /// Half the side length `b`.
    public var halfExtent: Float

    /// The default half extent (1.5: the toys' objects fit well inside).
    public static let defaultHalfExtent: Float = 1.5

    public init(halfExtent: Float = SceneBox.defaultHalfExtent) {
        precondition(halfExtent > 0, "SceneBox: half extent must be positive, got \(halfExtent)")
        self.halfExtent = halfExtent
    }

    /// Entry and exit distances of the ray `origin + t·direction` (`t ≥ 0`) through the box,
    /// by the slab method, or nil when the ray misses it (or only grazes it: `far ≤ near`).
    /// A ray starting inside the box gets `near = 0`.
    public func intersect(origin: SIMD3<Float>, direction: SIMD3<Float>) -> (near: Float, far: Float)? {
        let b = halfExtent
        var near: Float = 0, far: Float = .infinity
        for a in 0..<3 {
            let o = origin[a], d = direction[a]
            if d == 0 {
                if o < -b || o > b { return nil }
                continue
            }
            let inv = 1 / d
            var t0 = (-b - o) * inv, t1 = (b - o) * inv
            if t0 > t1 { swap(&t0, &t1) }
            near = max(near, t0)
            far = min(far, t1)
        }
        return far > near ? (near, far) : nil
    }

    /// The lattice of `n³` points spanning the box, corners included (z slowest, x fastest),
    /// `[n³, 3]`: where hash-grid priors, meshes and occupancy grids read a field.
    func lattice(_ n: Int) -> Tensor {
        let b = halfExtent, h = 2 * b / Float(n - 1)
        var points = [Float](repeating: 0, count: n * n * n * 3)
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            let i = 3 * ((z * n + y) * n + x)
            points[i] = -b + h * Float(x); points[i + 1] = -b + h * Float(y); points[i + 2] = -b + h * Float(z)
        }}}
        return Tensor([n * n * n, 3], data: points)
    }

    /// Whether `p` lies in the closed box.
    public func contains(_ p: SIMD3<Float>) -> Bool {
        abs(p.x) <= halfExtent && abs(p.y) <= halfExtent && abs(p.z) <= halfExtent
    }
}
