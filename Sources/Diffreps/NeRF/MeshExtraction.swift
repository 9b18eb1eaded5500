import Foundation
import TensorCore

// Mesh extraction, one pipeline for every field (`isoSurface`): the surface where the density
// equals a threshold, by MarchingCubes on a lattice spanning the field's box, coloured by the
// field itself at the vertices. A field supplies only what is its own: its raw density on the
// lattice (any strictly increasing function of the density, e.g. the value before `exp`, on
// which the surface interpolates best) and the raw value of a given density.

/// The density at which one step of length `step` along a ray is half opaque:
/// `α = 1 − exp(−σ·δ) = ½`, i.e. `σ = ln 2 / δ` (the fields' default mesh threshold).
func halfOpaqueDensity(step: Float) -> Float { Float(M_LN2) / step }

/// The raw value `x` at which `exp(min(x + bias, 15))` (both fields' exp activation) equals
/// `density`; nil when `density` is above the clamp, so the field never reaches it.
func expRawLevel(density: Float, bias: Float) -> Float? {
    let z = Foundation.log(density)
    return z < TrilinearInterpolation.Activation.expClamp ? z - bias : nil
}

extension RadianceField {
    /// The surface where the density equals `threshold` (a density `σ > 0`), found by
    /// ``MarchingCubes`` on the `resolution`³ lattice spanning ``box`` (closed where it meets the
    /// box with `closeBoundary`), with vertex colours from the field; empty when the field never
    /// reaches the threshold. `rawLevel(σ)` is the raw value at density `σ` (nil: never reached);
    /// `rawDensity(m)` the raw density at the `m³` lattice points (z slowest, x fastest).
    func isoSurface(threshold sigma: Float, resolution m: Int, closeBoundary: Bool,
                    rawLevel: (Float) -> Float?, rawDensity: (Int) -> [Float]) -> TriangleMesh {
        precondition(m >= 2, "extractMesh: resolution must be ≥ 2, got \(m)")
        precondition(sigma > 0 && sigma.isFinite, "extractMesh: threshold must be a positive density, got \(sigma)")
        let empty = TriangleMesh(vertices: [], colors: [], triangles: [])
        guard let level = rawLevel(sigma) else { return empty }
        let b = box.halfExtent, spacing = 2 * b / Float(m - 1)
        let (vertices, triangles) = MarchingCubes.extract(
            values: rawDensity(m), depth: m, height: m, width: m, isoLevel: level,
            origin: SIMD3(repeating: -b), spacing: SIMD3(repeating: spacing), closeBoundary: closeBoundary)
        guard !vertices.isEmpty else { return empty }
        let points = Tensor([vertices.count, 3], data: vertices.flatMap { [$0.x, $0.y, $0.z] })
        let rgb = GradMode.withoutGrad { self(points).color }.data                              // [V, C]
        return TriangleMesh(vertices: vertices, colors: TriangleMesh.colors(rgb, channels: channels), triangles: triangles)
    }
}

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
        halfOpaqueDensity(step: 2 * box.halfExtent / Float(resolution - 1))
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
        isoSurface(threshold: threshold ?? defaultMeshThreshold, resolution: resolution ?? self.resolution,
                   closeBoundary: closeBoundary,
                   rawLevel: { sigma in
                       switch densityActivation {
                       case .exp: return expRawLevel(density: sigma, bias: densityBias)
                       case .softplus: return (sigma > 20 ? sigma : Foundation.log(Foundation.expm1(sigma))) - densityBias
                       }
                   },
                   rawDensity: { m in m == self.resolution ? density.data : Self.resampled(density.data, from: self.resolution, to: m) })
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
