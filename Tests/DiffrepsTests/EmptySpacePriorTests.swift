import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The empty-space prior as one op against the same expression from tape ops.
@Suite struct EmptySpacePriorTests {
    @Test func equalsTheComposedSoftplusMean() {
        var rng = RandomGenerator(seed: 3)
        let x = rng.uniform([2, 3, 4, 5], in: -12...8)      // both sides of log σ_empty, and far below it
        x.requiresGrad = true
        let fused = EmptySpacePrior.penalty(logDensity: x)
        fused.backward()
        let fusedGrad = x.grad!
        x.grad = nil
        let composed = (x - Foundation.log(EmptySpacePrior.emptyDensity)).softplus().mean()
        composed.backward()
        #expect(abs(fused.item - composed.item) <= 1e-6 * abs(composed.item))
        assertClose(fusedGrad, x.grad!, rtol: 1e-5, atol: 1e-9, "∂/∂log σ")
    }

    @Test func derivatives() {
        let x = randomParameter([3, 4, 2], seed: 4, in: -8...4)
        checkDerivatives([x], epsilon: 1e-2, tolerance: 1e-2) { EmptySpacePrior.penalty(logDensity: $0[0]) }
    }
}
