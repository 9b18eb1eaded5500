import Testing
import TensorCore
@testable import Diffreps
import TestSupport

@Suite struct TotalVariationTests {
    @Test func valueIsMeanSquaredNeighbourDifferencePerAxis() {
        // [1, D=2, H=1, W=3]: only D and W have pairs.
        let g = Tensor([1, 2, 1, 3], data: [0, 1, 3, 1, 1, 1])
        // W pairs: (0,1)=1, (1,3)=4, (1,1)=0, (1,1)=0 → mean 5/4; D pairs: 1, 0, 4 → mean 5/3; H: none.
        #expect(abs(g.squaredTotalVariation3D().item - (5.0 / 4 + 5.0 / 3)) < 1e-6)
        #expect(Tensor([2, 3, 3, 3], repeating: 0.7).squaredTotalVariation3D().item == 0)
    }

    @Test func derivatives() {
        var rng = RandomGenerator(seed: 2)
        let g = rng.uniform([2, 3, 4, 2], in: -1...1)
        checkDerivatives([g], epsilon: 1e-2, tolerance: 1e-2) { $0[0].squaredTotalVariation3D() }
    }
}
