import Foundation
import Testing
import TensorCore
import Diffreps
import Sampling

/// The inner-Adam pullback solve on a voxel-grid NeRF through the fused render path (the squared
/// error and its gradient in one march per ray) against the tape path, from the same state and
/// targets: the same residual and the same parameters.
@Suite struct FusedGridSolveTests {
    /// A 12³ grid holding a ball, and targets that move it and change its colour.
    static func solve(_ path: NeRFRenderer.VoxelGridPath) -> (residual: Float, parameters: [[Float]]) {
        let n = 12
        var density = [Float](repeating: -3, count: n * n * n), color = [Float](repeating: 0, count: 3 * n * n * n)
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            let p = SIMD3(Float(x), Float(y), Float(z)) / Float(n - 1) * 3 - 1.5
            let v = (z * n + y) * n + x
            density[v] = Swift.min(8, Swift.max(-3, 12 * (0.6 - (p * p).sum().squareRoot()) + 4))
            color[v] = 0.5; color[n * n * n + v] = -0.3
        }}}
        let field = VoxelGridField(density: Tensor([1, 1, n, n, n], data: density), color: Tensor([1, 3, n, n, n], data: color))
        let nerf = NeRFDiffrep(field: field, imageSize: 8, renderer: NeRFRenderer(samplesPerRay: 24, voxelGridPath: path))
        let views = (0..<4).map { OrbitView(azimuth: 0.4 + Float($0) * .pi / 2, elevation: 0.3) }
        let x = GradMode.withoutGrad { nerf.render(views) }
        var rng = RandomGenerator(seed: 2)
        let y = x + rng.normal(x.shape).scaled(by: 0.2)
        let stats = LeastSquaresSolver.adam().pullBack(nerf, views: views, targets: y)
        return (stats.relativeResidual, nerf.parameters.tensors.map(\.data))
    }

    @Test func fusedSolveMatchesTheTapeSolve() {
        let tape = Self.solve(.tape)
        #expect(tape.residual > 0.3 && tape.residual < 0.99, "the solve explains part of the change: \(tape.residual)")
        for path in [NeRFRenderer.VoxelGridPath.fused(transmittanceThreshold: 0), .default] {
            let fused = Self.solve(path)
            #expect(abs(fused.residual - tape.residual) <= 1e-3 * tape.residual, "\(path): residual \(fused.residual) vs \(tape.residual)")
            // Adam divides by each gradient's running RMS, so rounding in a tiny gradient can move a
            // parameter by up to a step (learning rate · RMS change ≈ 0.04): compare most of them tightly.
            for (a, b) in zip(fused.parameters, tape.parameters) {
                let gaps = zip(a, b).map { abs($0 - $1) }.sorted()
                #expect(gaps[gaps.count * 99 / 100] <= 1e-3, "\(path): 99th percentile gap \(gaps[gaps.count * 99 / 100])")
            }
        }
    }
}
