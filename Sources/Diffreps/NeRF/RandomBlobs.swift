import Foundation
import TensorCore

extension VoxelGridField {
    /// A random 3D starting shape: the union of `count` opaque ellipsoids with random centres
    /// (within 0.35 of the origin), semi-axes (0.25–0.7), orientations and colours, on an
    /// otherwise empty grid. Sampling from it at a moderate noise level (SDEdit) gives every view
    /// one asymmetric 3D layout to explain, instead of the same noise image from every side.
    ///
    /// ```swift
    /// let field = VoxelGridField.randomBlobs(resolution: 32, seed: 3)
    /// ```
    public static func randomBlobs(resolution n: Int = 32, count: Int = 3, seed: UInt64,
                                   box: SceneBox = SceneBox()) -> VoxelGridField {
        var rng = RandomGenerator(seed: seed ^ 0xB10B)
        struct Blob { var centre: SIMD3<Float>; var axes: [SIMD3<Float>]; var radii: SIMD3<Float>; var rgb: SIMD3<Float> }
        var blobs: [Blob] = []
        for _ in 0..<count {
            let u = rng.uniformValues(12)
            let centre = SIMD3<Float>(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * 0.7
            let radii = SIMD3<Float>(0.25 + 0.45 * u[3], 0.25 + 0.45 * u[4], 0.25 + 0.45 * u[5])
            // A random rotation from three angles (yaw, pitch, roll).
            let (a, b, c) = (2 * Float.pi * u[6], Float.pi * (u[7] - 0.5), 2 * Float.pi * u[8])
            func rot(_ v: SIMD3<Float>) -> SIMD3<Float> {
                var w = SIMD3(v.x * Foundation.cos(c) - v.y * Foundation.sin(c), v.x * Foundation.sin(c) + v.y * Foundation.cos(c), v.z)
                w = SIMD3(w.x, w.y * Foundation.cos(b) - w.z * Foundation.sin(b), w.y * Foundation.sin(b) + w.z * Foundation.cos(b))
                return SIMD3(w.x * Foundation.cos(a) + w.z * Foundation.sin(a), w.y, -w.x * Foundation.sin(a) + w.z * Foundation.cos(a))
            }
            blobs.append(Blob(centre: centre, axes: [rot(SIMD3(1, 0, 0)), rot(SIMD3(0, 1, 0)), rot(SIMD3(0, 0, 1))],
                              radii: radii, rgb: SIMD3(u[9], u[10], u[11]) * 1.6 - 0.8))
        }
        let b = box.halfExtent
        var density = [Float](repeating: -6, count: n * n * n), colour = [Float](repeating: 0, count: 3 * n * n * n)
        for k in 0..<n { for i in 0..<n { for j in 0..<n {
            let p = SIMD3<Float>(-b + 2 * b * Float(j) / Float(n - 1), -b + 2 * b * Float(i) / Float(n - 1), -b + 2 * b * Float(k) / Float(n - 1))
            let v = (k * n + i) * n + j
            var best: Float = .infinity, rgb = SIMD3<Float>(0, 0, 0)
            for blob in blobs {
                let d = p - blob.centre
                let q = SIMD3((d * blob.axes[0]).sum() / blob.radii.x, (d * blob.axes[1]).sum() / blob.radii.y, (d * blob.axes[2]).sum() / blob.radii.z)
                let r = (q * q).sum().squareRoot()
                if r < best { best = r; rgb = blob.rgb }
            }
            // Raw density: +6 inside, −6 outside, a smooth step over the boundary.
            density[v] = 6 * Foundation.tanh(4 * (1 - best))
            for c in 0..<3 { colour[c * n * n * n + v] = rgb[c] }
        } } }
        return VoxelGridField(density: Tensor([1, 1, n, n, n], data: density), color: Tensor([1, 3, n, n, n], data: colour), box: box)
    }
}
