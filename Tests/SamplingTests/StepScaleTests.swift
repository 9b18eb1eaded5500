import Foundation
import Testing
import TensorCore
import Diffreps
import Sampling

/// Per-parameter step scales reach the inner-Adam solve: a hash-grid NeRF's table moves by its
/// ``HashGridField/tableStepScale`` times the MLP's step, and not at all at scale 0.
@Suite struct StepScaleTests {
    /// One inner-Adam solve on a small hash-grid NeRF towards perturbed renders: how far the
    /// table and the MLP's first weight moved (largest change of an entry).
    static func moves(tableStepScale: Float) -> (table: Float, network: Float) {
        let field = HashGridField(encoding: .init(levels: 2, featuresPerLevel: 2, log2TableSize: 8, baseResolution: 4,
                                                  finestResolution: 8), hiddenWidth: 8, seed: 4)
        field.tableStepScale = tableStepScale
        var rng = RandomGenerator(seed: 5)
        field.table.data = rng.uniformValues(field.table.count).map { $0 - 0.5 }
        field.emptySpace = nil
        let nerf = NeRFDiffrep(field: field, imageSize: 6, renderer: NeRFRenderer(samplesPerRay: 16))
        let views = (0..<2).map { OrbitView(azimuth: Float($0) * .pi / 2, elevation: 0.3) }
        let x = GradMode.withoutGrad { nerf.render(views) }
        let y = x + rng.normal(x.shape).scaled(by: 0.2)
        let table0 = field.table.data, w0 = field.w1.data
        _ = LeastSquaresSolver.adam(steps: 3).pullBack(nerf, views: views, targets: y)
        func largest(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
        return (largest(field.table.data, table0), largest(field.w1.data, w0))
    }

    @Test func tableStepScaleScalesTheTablesSteps() {
        let frozen = Self.moves(tableStepScale: 0), one = Self.moves(tableStepScale: 1), ten = Self.moves(tableStepScale: 10)
        #expect(frozen.table == 0 && frozen.network > 0, "scale 0 freezes the table only: \(frozen)")
        // Adam's first steps move each entry by about its rate: ten times the rate, about ten times the move.
        #expect(ten.table > 5 * one.table && ten.table < 20 * one.table, "\(ten) against \(one)")
        #expect(HashGridField().optimizerStepScales == ["table": 10])
        #expect(VoxelGridField(resolution: 4).optimizerStepScales.isEmpty)
    }
}
