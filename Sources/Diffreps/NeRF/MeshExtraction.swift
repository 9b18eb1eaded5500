import Foundation
import TensorCore

extension VoxelGridField {
    /// The default density threshold of ``extractMesh(threshold:resolution:closeBoundary:)``:
    /// the density at which one voxel-length step of a ray is half opaque,
    /// `α = 1 − exp(−σ·δ) = ½`, i.e. `σ = ln 2 / δ` with `δ = 2b / (N − 1)` the grid's voxel size
    /// (about 7.2 for the default 32³ grid over `[-1.5, 1.5]³`).
    ///
    /// ```swift
    /// VoxelGridField(resolution: 32).defaultMeshThreshold   // ≈ 7.16
    /// ```
    public var defaultMeshThreshold: Float {
        Float(M_LN2) / (2 * box.halfExtent / Float(resolution - 1))
    }

    /// The surface where the field's density equals `threshold`, by ``MarchingCubes``, with
    /// vertex colours from the colour field.
    ///
    /// - `threshold`: a density `σ > 0` (per unit length); nil uses ``defaultMeshThreshold``.
    /// - `resolution`: grid points per axis to extract on; nil uses the field's own grid. Any
    ///   other value first resamples the raw density trilinearly, as the field itself reads it
    ///   (finer resolutions give smoother, larger meshes).
    /// - `closeBoundary`: cap the solid where it reaches the scene box, so the mesh is always
    ///   closed (see ``MarchingCubes``).
    ///
    /// The density activation is monotonic, so the surface is found on the raw grid at
    /// `activation⁻¹(threshold) − densityBias`: along every grid edge the crossing is exactly
    /// where the field's density equals the threshold. Normals point toward lower density.
    /// Vertex colours are the colour field (`tanh` of the trilinearly sampled raw colour,
    /// `[-1, 1]`) mapped to 0–255; a one-channel field gives grey.
    ///
    /// ```swift
    /// let mesh = field.extractMesh()                          // default threshold, own grid
    /// try mesh.write(to: URL(fileURLWithPath: "nerf.ply"))
    /// let fine = field.extractMesh(threshold: 20, resolution: 128)
    /// ```
    public func extractMesh(threshold: Float? = nil, resolution: Int? = nil, closeBoundary: Bool = true) -> TriangleMesh {
        let sigma = threshold ?? defaultMeshThreshold
        precondition(sigma > 0 && sigma.isFinite, "extractMesh: threshold must be a positive density, got \(sigma)")
        let m = resolution ?? self.resolution
        precondition(m >= 2, "extractMesh: resolution must be ≥ 2, got \(m)")
        let empty = TriangleMesh(vertices: [], colors: [], triangles: [])
        // The raw level whose activation is the threshold.
        let rawLevel: Float
        switch densityActivation {
        case .exp:
            let z = Foundation.log(sigma)
            // exp is clamped at e¹⁵: a higher threshold is never reached.
            if z >= TrilinearInterpolation.Activation.expClamp { return empty }
            rawLevel = z - densityBias
        case .softplus:
            rawLevel = (sigma > 20 ? sigma : Foundation.log(Foundation.expm1(sigma))) - densityBias
        }
        let raw = m == self.resolution ? density.data : Self.resampled(density.data, from: self.resolution, to: m)
        let b = box.halfExtent, h = 2 * b / Float(m - 1)
        let (vertices, triangles) = MarchingCubes.extract(
            values: raw, depth: m, height: m, width: m, isoLevel: rawLevel,
            origin: SIMD3(repeating: -b), spacing: SIMD3(repeating: h), closeBoundary: closeBoundary)
        return TriangleMesh(vertices: vertices, colors: vertexColors(at: vertices), triangles: triangles)
    }

    /// The colour field at `points`, as 0–255 RGB.
    func vertexColors(at points: [SIMD3<Float>]) -> [SIMD3<UInt8>] {
        guard !points.isEmpty else { return [] }
        var flat = [Float](repeating: 0, count: 3 * points.count)
        for (i, p) in points.enumerated() { flat[3 * i] = p.x; flat[3 * i + 1] = p.y; flat[3 * i + 2] = p.z }
        let n = resolution
        let rgb = GradMode.withoutGrad {
            TrilinearInterpolation(points: Tensor([points.count, 3], data: flat), box: box, depth: n, height: n, width: n)
                .sample(color, activation: .tanh)                               // [P, C]
        }.data
        return TriangleMesh.colors(rgb, channels: channels)
    }

    /// A cubic `[n, n, n]` grid resampled to `[m, m, m]` by trilinear interpolation with
    /// aligned corners (both grids span the same box), one axis at a time.
    static func resampled(_ values: [Float], from n: Int, to m: Int) -> [Float] {
        // Source index and fraction of each target point along an axis.
        let scale = Float(n - 1) / Float(m - 1)
        let taps: [(Int, Float)] = (0..<m).map { i in
            let g = Float(i) * scale
            let k = Swift.min(Int(g), n - 2)
            return (k, g - Float(k))
        }
        // Resample the last axis of `src` viewed as [outer, len, inner] → [outer, m, inner].
        func along(_ src: [Float], outer: Int, inner: Int) -> [Float] {
            var dst = [Float](repeating: 0, count: outer * m * inner)
            src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
                for o in 0..<outer {
                    for (i, (k, f)) in taps.enumerated() {
                        let a = s.baseAddress! + (o * n + k) * inner, out = d.baseAddress! + (o * m + i) * inner
                        for j in 0..<inner { out[j] = a[j] + f * (a[j + inner] - a[j]) }
                    }
                }
            }}
            return dst
        }
        let x = along(values, outer: n * n, inner: 1)           // [n, n, m]
        let y = along(x, outer: n, inner: m)                     // [n, m, m]
        return along(y, outer: 1, inner: m * m)                  // [m, m, m]
    }
}
