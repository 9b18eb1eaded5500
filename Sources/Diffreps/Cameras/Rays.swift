import TensorCore

/// A bundle of rays: origins and unit directions in world coordinates (constants, never on
/// the tape). Rays of an image are ordered row-major, ray `row·width + column`, row 0 at the top.
///
/// ```swift
/// let rays = Rays(view: OrbitView(azimuth: 0.3, elevation: 0.2), width: 32, height: 32)
/// rays.count                    // 1024
/// rays.directions.shape         // [1024, 3], unit vectors
/// ```
public struct Rays: Sendable {
    /// Ray origins `[R, 3]`.
    public let origins: Tensor
    /// Unit ray directions `[R, 3]`.
    public let directions: Tensor

    /// Number of rays `R`.
    public var count: Int { origins.shape[0] }

    /// Rays from explicit origins and directions (`[R, 3]` each; directions should be unit length
    /// for distances, depth and densities to be in world units).
    public init(origins: Tensor, directions: Tensor) {
        precondition(origins.rank == 2 && origins.shape[1] == 3, "Rays: origins must be [R, 3], got \(origins.shape)")
        precondition(directions.shape == origins.shape,
                     "Rays: directions \(directions.shape) must match origins \(origins.shape)")
        self.origins = origins.detached()
        self.directions = directions.detached()
    }

    /// One ray through each pixel centre of a `width × height` image seen from `view`
    /// (``OrbitView/rayDirection(px:py:width:height:)`` at `(column + 0.5, row + 0.5)`).
    public init(view: OrbitView, width: Int, height: Int) {
        self.init(views: [view], width: width, height: height)
    }

    /// The rays of several views stacked view after view (`views.count · height · width` rays).
    public init(views: [OrbitView], width: Int, height: Int) {
        precondition(width > 0 && height > 0, "Rays: image size must be positive, got \(width)×\(height)")
        let n = views.count * width * height
        var o = [Float](repeating: 0, count: n * 3), d = [Float](repeating: 0, count: n * 3)
        var k = 0
        for view in views {
            let p = view.position
            for row in 0..<height {
                for col in 0..<width {
                    let dir = view.rayDirection(px: Float(col) + 0.5, py: Float(row) + 0.5, width: width, height: height)
                    for a in 0..<3 { o[3 * k + a] = p[a]; d[3 * k + a] = dir[a] }
                    k += 1
                }
            }
        }
        self.origins = Tensor([n, 3], data: o)
        self.directions = Tensor([n, 3], data: d)
    }

    /// The rays at `indices`, in that order (a random batch of rays for training).
    public func subset(_ indices: [Int]) -> Rays {
        var o = [Float](repeating: 0, count: indices.count * 3), d = o
        for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "Rays.subset: index \(i) out of range 0..<\(count)")
            for a in 0..<3 { o[3 * k + a] = origins.data[3 * i + a]; d[3 * k + a] = directions.data[3 * i + a] }
        }
        return Rays(origins: Tensor([indices.count, 3], data: o), directions: Tensor([indices.count, 3], data: d))
    }

    /// Origin of ray `i`.
    public func origin(_ i: Int) -> SIMD3<Float> { SIMD3(origins.data[3 * i], origins.data[3 * i + 1], origins.data[3 * i + 2]) }
    /// Direction of ray `i`.
    public func direction(_ i: Int) -> SIMD3<Float> {
        SIMD3(directions.data[3 * i], directions.data[3 * i + 1], directions.data[3 * i + 2])
    }
}
