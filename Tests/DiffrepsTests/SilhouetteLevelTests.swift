import Testing
import TensorCore
@testable import Diffreps

/// The mesh level of `diffrep nerf --mesh`: a soft NeRF (as sampled ones are), which the fixed
/// default level misses entirely, gets a closed mesh whose silhouettes are its opacity maps'.
@Suite struct SilhouetteLevelTests {
    /// A soft ball: raw density falling linearly with radius, so densities stay far below the
    /// default mesh threshold while rays through the middle still become opaque.
    func softBall() -> NeRFDiffrep {
        let n = 24, b = SceneBox.defaultHalfExtent
        var density = [Float](repeating: 0, count: n * n * n)
        for k in 0..<n { for i in 0..<n { for j in 0..<n {
            let p = SIMD3<Float>(-b + 2 * b * Float(j) / Float(n - 1), -b + 2 * b * Float(i) / Float(n - 1), -b + 2 * b * Float(k) / Float(n - 1))
            density[(k * n + i) * n + j] = 5.9 - 3 * (p * p).sum().squareRoot()      // σ = exp(raw − 4): 6.7 at the centre
        } } }
        let grid = VoxelGridField(density: Tensor([1, 1, n, n, n], data: density), color: Tensor.zeros([1, 3, n, n, n]))
        return NeRFDiffrep(field: grid, imageSize: 32, renderer: NeRFRenderer(samplesPerRay: 64))
    }

    @Test func softNeRFGetsAMeshWithItsSilhouette() throws {
        let nerf = softBall()
        #expect(nerf.field.extractMesh(threshold: nil, resolution: nil, closeBoundary: true).triangles.isEmpty,
                "the fixed default level should miss this soft field (else the test shows nothing)")
        let (level, iou) = try #require(nerf.silhouetteDensityLevel(views: nerf.turntable(frames: 8)))
        #expect(iou >= 0.8, "silhouette IoU \(iou) at level \(level)")
        let mesh = nerf.field.extractMesh(threshold: level, resolution: nil, closeBoundary: true)
        #expect(mesh.triangles.count > 100)
        // The opacity-½ disc and the mesh agree on the radius (in world units).
        let radii = mesh.vertices.map { ($0 * $0).sum().squareRoot() }
        let meanRadius = radii.reduce(0, +) / Float(radii.count)
        let centre = nerf.display(OrbitView(azimuth: 0, elevation: 0), size: 64)
        var halfWidth = 0
        for j in 32..<64 where centre.opacity.data[32 * 64 + j] >= 0.5 { halfWidth += 1 }
        let pixel = 2 * 4 * Float(0.36397) / 64              // world units per pixel at the centre's depth
        #expect(abs(meanRadius - Float(halfWidth) * pixel) < 0.12, "mesh radius \(meanRadius) vs opacity radius \(Float(halfWidth) * pixel)")
    }

    @Test func anEmptyNeRFHasNoLevel() {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 8), imageSize: 16)
        #expect(nerf.silhouetteDensityLevel(views: nerf.turntable(frames: 4)) == nil)
    }
}
