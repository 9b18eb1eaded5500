import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The occupancy grid (which cells it keeps, when it refreshes) and the renderer's evaluation of
/// a field at its occupied samples only: exact where the skipped samples are exactly empty, close
/// for a hash-grid field whose skipped cells are merely faint.
@Suite struct EmptySpaceSkippingTests {
    /// A voxel grid seen only in the half-space `x < 0` (density 0 elsewhere), which may report
    /// exactly those samples as occupied: skipping the others changes nothing.
    final class HalfSpaceField: RadianceField {
        let inner: VoxelGridField
        var reportsOccupancy: Bool
        init(_ inner: VoxelGridField, reportsOccupancy: Bool) {
            self.inner = inner
            self.reportsOccupancy = reportsOccupancy
        }
        var box: SceneBox { inner.box }
        var channels: Int { inner.channels }
        var parameters: Parameters { inner.parameters }
        func callAsFunction(_ points: Tensor) -> (density: Tensor, color: Tensor) {
            let (sigma, rgb) = inner(points)
            let mask = Tensor([points.shape[0]], data: (0..<points.shape[0]).map { points.data[3 * $0] < 0 ? 1 : 0 })
            return (sigma * mask, rgb)
        }
        func occupiedSamples(_ points: Tensor) -> [Int]? {
            reportsOccupancy ? (0..<points.shape[0]).filter { points.data[3 * $0] < 0 } : nil
        }
        func regularizer(smoothness: Float, sparsity: Float) -> Tensor? { nil }
        func extractMesh(threshold: Float?, resolution: Int?, closeBoundary: Bool) -> TriangleMesh {
            inner.extractMesh(threshold: threshold, resolution: resolution, closeBoundary: closeBoundary)
        }
    }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    static func randomGrid(seed: UInt64) -> VoxelGridField {
        let grid = VoxelGridField(resolution: 8)
        var rng = RandomGenerator(seed: seed)
        grid.density.data = rng.normalValues(grid.density.count).map { 2 * $0 + 1 }
        grid.color.data = rng.normalValues(grid.color.count)
        return grid
    }

    @Test func skippingExactlyEmptySamplesChangesNeitherRenderNorGradient() {
        let grid = Self.randomGrid(seed: 1)
        let full = HalfSpaceField(grid, reportsOccupancy: false), skipping = HalfSpaceField(grid, reportsOccupancy: true)
        let rays = Rays(view: OrbitView(azimuth: 0.7, elevation: 0.3), width: 12, height: 12)
        let renderer = NeRFRenderer(samplesPerRay: 24)
        var results: [([Float], [Float], [Float])] = []
        for field in [full, skipping] {
            let out = renderer.render(field, rays: rays)
            (out.color.square().sum() + out.opacity.sum()).backward()
            results.append((out.color.data, grid.density.grad!, grid.color.grad!))
            grid.parameters.zeroGrad()
        }
        let skipped = renderer.sampler(grid).samples(along: rays).points.data.enumerated().filter { $0.offset % 3 == 0 && $0.element >= 0 }.count
        #expect(skipped > 500, "the view must put many samples in the skipped half (\(skipped))")
        #expect(Self.maxAbsDifference(results[0].0, results[1].0) <= 1e-6)
        #expect(Self.maxAbsDifference(results[0].1, results[1].1) <= 1e-6)
        #expect(Self.maxAbsDifference(results[0].2, results[1].2) <= 1e-6)
        #expect(results[0].1.contains { $0 != 0 }, "the render must reach the density")
    }

    @Test func skippingPathHasExactDerivatives() {
        let grid = Self.randomGrid(seed: 2)
        let field = HalfSpaceField(grid, reportsOccupancy: true)
        let rays = Rays(view: OrbitView(azimuth: 2.0, elevation: 0.4), width: 5, height: 5)
        let renderer = NeRFRenderer(samplesPerRay: 12)
        checkDerivatives([grid.density, grid.color], "skipping render") { _ in renderer.render(field, rays: rays).color }
    }

    /// A ball of density 10 (radius 0.5) in empty space, as corner densities.
    static func ball(_ corners: Tensor) -> [Float] {
        (0..<corners.shape[0]).map { i in
            let p = SIMD3(corners.data[3 * i], corners.data[3 * i + 1], corners.data[3 * i + 2])
            return (p * p).sum() <= 0.25 ? 10 : 1e-6
        }
    }

    @Test func gridKeepsTheBallAndItsNeighboursOnly() {
        let grid = OccupancyGrid(box: SceneBox(), resolution: 12)                    // cells of 0.25
        #expect(grid.occupiedFraction == 1, "nothing skipped before the first refresh")
        grid.refresh(density: Self.ball)
        let n = 12
        func cell(_ x: Int, _ y: Int, _ z: Int) -> Bool { grid.occupied[(z * n + y) * n + x] }
        #expect(cell(5, 5, 5) && cell(6, 6, 6), "the cells at the centre hold the ball")
        #expect(cell(3, 5, 5) && cell(8, 6, 6), "a ball cell's neighbour is kept (dilation)")
        #expect(!cell(0, 0, 0) && !cell(11, 11, 11) && !cell(1, 5, 5), "cells two away from the ball are skipped")
        #expect(grid.occupiedFraction > 0.05 && grid.occupiedFraction < 0.2, "fraction \(grid.occupiedFraction)")
        // Points map to their cells; indices stay in order.
        let points: [Float] = [0, 0, 0, 1.4, 1.4, 1.4, 0.1, -0.2, 0.3, -1.4, 0, 0]
        #expect(grid.occupiedIndices(points) == [0, 2])
        grid.invalidate()
        #expect(grid.occupiedIndices(points) == [0, 1, 2, 3])
    }

    @Test func thresholdFallsToTheMeanAndNaNCountsAsOccupied() {
        let grid = OccupancyGrid(box: SceneBox(), resolution: 4)
        grid.refresh { Array(repeating: 1e-7, count: $0.shape[0]) }                  // faint everywhere
        #expect(grid.occupiedFraction == 1, "a field below the threshold everywhere must still render")
        grid.refresh { corners in (0..<corners.shape[0]).map { $0 == 0 ? .nan : 0 } }
        #expect(grid.occupied[0], "a NaN corner keeps its cell")
    }

    @Test func refreshesFirstThenEveryIntervalAndBeforeUntapedRenders() {
        let grid = OccupancyGrid(box: SceneBox(), resolution: 2, refreshInterval: 3)
        var refreshes = 0
        func render(taped: Bool) { grid.refreshIfDue(taped: taped) { refreshes += 1; return Array(repeating: 1, count: $0.shape[0]) } }
        render(taped: true)
        #expect(refreshes == 1, "the first render refreshes")
        render(taped: true); render(taped: true)
        #expect(refreshes == 1)
        render(taped: true)
        #expect(refreshes == 2, "the fourth taped render follows three since the refresh")
        render(taped: false)
        #expect(refreshes == 3, "a render off the tape after a taped one sees a fresh grid")
        render(taped: false)
        #expect(refreshes == 3, "two renders off the tape in a row share it")
    }

    @Test func hashFieldSkipsFaintCellsAtAlmostNoCost() {
        let field = HashGridField(encoding: .init(levels: 4, log2TableSize: 12, baseResolution: 4, finestResolution: 32),
                                  hiddenWidth: 16, seed: 3)
        // Dense (σ = e⁸) where x > 0, σ = e⁻¹² ≪ 0.002 where x < −0.375, through feature 0 of the
        // dense coarsest level (±1 on its corners) and an MLP that passes it on: h₀ = 20·relu(f₀).
        let T = field.encoding.tableSize, F = field.encoding.featuresPerLevel, side = 5
        var table = [Float](repeating: 0, count: field.table.count)
        for z in 0..<side { for y in 0..<side { for x in 0..<side { table[((z * side + y) * side + x) * F] = x >= 2 ? 1 : -1 } } }
        field.table.data = table
        precondition(T >= side * side * side)
        for w in [field.w1, field.w2, field.w3, field.b1, field.b2, field.b3] { w.data = [Float](repeating: 0, count: w.count) }
        field.w1.data[0] = 1; field.w2.data[0] = 1; field.w3.data[0] = 20
        field.densityBias = -12
        let view = OrbitView(azimuth: 0.4, elevation: 0.3)
        let renderer = NeRFRenderer(samplesPerRay: 32)
        let grid = field.emptySpace!
        let skipped = renderer.render(field, view: view, width: 16, height: 16)
        let fraction = grid.occupiedFraction
        field.emptySpace = nil
        let full = renderer.render(field, view: view, width: 16, height: 16)
        #expect(fraction > 0.05 && fraction < 0.9, "the test field must have faint and dense cells (occupied \(fraction))")
        let opacity = full.opacity.data.max() ?? 0
        #expect(opacity > 0.2, "the field must be visible (opacity up to \(opacity))")
        let error = Self.maxAbsDifference(skipped.image.data, full.image.data)
        #expect(error < 5e-3, "skipping changed a pixel by \(error)")
        print("hash field, empty-space skipping: \(fraction) of cells occupied, largest pixel change \(error), opacity up to \(opacity)")
    }

    @Test func restoringParametersInvalidatesTheGrid() throws {
        let field = HashGridField(encoding: .init(levels: 2, log2TableSize: 8, baseResolution: 4, finestResolution: 8),
                                  hiddenWidth: 8, seed: 5)
        let nerf = NeRFDiffrep(field: field, imageSize: 8)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("occupancy-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try NeRFCheckpoint.save(nerf, step: 1, settings: [:], to: url)
        _ = GradMode.withoutGrad { nerf.render([OrbitView()]) }
        #expect(!field.emptySpace!.occupied.isEmpty)
        _ = try NeRFCheckpoint.restore(contentsOf: url, into: nerf)
        #expect(field.emptySpace!.occupied.isEmpty, "a restored field is re-examined at its next render")
    }
}
