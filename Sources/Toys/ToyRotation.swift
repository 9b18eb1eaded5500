import Foundation

/// A 3D rotation as an orthonormal matrix taking local coordinates to world coordinates:
/// `world = columns.0 * local.x + columns.1 * local.y + columns.2 * local.z`.
///
/// ```swift
/// let r = ToyRotation(axis: SIMD3(0, 1, 0), angle: .pi / 2)
/// r.apply(SIMD3(1, 0, 0))      // ≈ (0, 0, -1)
/// ```
public struct ToyRotation: Sendable, Equatable {
    /// The images of the local x, y and z axes.
    public var columns: (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>)

    /// The rotation with the given columns (they must be orthonormal, right-handed).
    public init(columns: (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>)) { self.columns = columns }

    /// No rotation.
    public static let identity = ToyRotation(columns: (SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)))

    /// The rotation by `angle` radians about unit `axis` (right-hand rule).
    public init(axis: SIMD3<Float>, angle: Float) {
        let h = angle / 2, s = Foundation.sin(h)
        self.init(quaternion: SIMD4(axis.x * s, axis.y * s, axis.z * s, Foundation.cos(h)))
    }

    /// The rotation of a quaternion `(x, y, z, w)` (normalised here).
    public init(quaternion q0: SIMD4<Float>) {
        let n = (q0 * q0).sum().squareRoot()
        let x = q0.x / n, y = q0.y / n, z = q0.z / n, w = q0.w / n
        columns = (SIMD3(1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)),
                   SIMD3(2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)),
                   SIMD3(2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)))
    }

    /// A uniformly distributed rotation from three uniforms in `[0, 1)` (Shoemake 1992).
    public init(uniform u1: Float, _ u2: Float, _ u3: Float) {
        let a = (1 - u1).squareRoot(), b = u1.squareRoot()
        let t2 = 2 * Float.pi * u2, t3 = 2 * Float.pi * u3
        self.init(quaternion: SIMD4(a * Foundation.sin(t2), a * Foundation.cos(t2),
                                    b * Foundation.sin(t3), b * Foundation.cos(t3)))
    }

    /// Rotates a local vector into world coordinates.
    public func apply(_ v: SIMD3<Float>) -> SIMD3<Float> {
        columns.0 * v.x + columns.1 * v.y + columns.2 * v.z
    }

    /// Rotates a world vector into local coordinates (the transpose).
    public func inverseApply(_ v: SIMD3<Float>) -> SIMD3<Float> {
        SIMD3((columns.0 * v).sum(), (columns.1 * v).sum(), (columns.2 * v).sum())
    }

    public static func == (a: ToyRotation, b: ToyRotation) -> Bool {
        a.columns.0 == b.columns.0 && a.columns.1 == b.columns.1 && a.columns.2 == b.columns.2
    }
}
