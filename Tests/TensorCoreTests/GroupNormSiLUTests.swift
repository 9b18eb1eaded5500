import Testing
import TensorCore
import TestSupport

/// The fused `groupNormSiLU` against the composed `groupNorm(…).silu()`: values, gradients to the
/// input, weight and bias, tangents; and its own derivatives against finite differences.
@Suite struct GroupNormSiLUTests {
    /// Runs the composed and the fused op on copies of the same inputs and compares values,
    /// gradients of a random projection, and tangents.
    func compareWithComposed(shape: [Int], groups: Int, affine: Bool, seed: UInt64) {
        let c = shape[1]
        func inputs() -> [Tensor] {
            [randomParameter(shape, seed: seed, in: -3...3), randomParameter([c], seed: seed + 1, in: 0.5...1.5),
             randomParameter([c], seed: seed + 2)]
        }
        let (a, b) = (inputs(), inputs())
        let composed = a[0].groupNorm(groups: groups, weight: affine ? a[1] : nil, bias: affine ? a[2] : nil).silu()
        let fused = b[0].groupNormSiLU(groups: groups, weight: affine ? b[1] : nil, bias: affine ? b[2] : nil)
        assertClose(fused, composed, rtol: 1e-5, atol: 1e-6, "values")
        let seedGradient = randomParameter(shape, seed: seed + 3).data
        composed.backward(seed: seedGradient)
        fused.backward(seed: seedGradient)
        assertClose(b[0].grad!, a[0].grad!, rtol: 1e-4, atol: 1e-5, "input gradient")
        if affine {
            assertClose(b[1].grad!, a[1].grad!, rtol: 1e-4, atol: 1e-4, "weight gradient")
            assertClose(b[2].grad!, a[2].grad!, rtol: 1e-4, atol: 1e-4, "bias gradient")
        }
        // tangents: the same direction on both sides
        let (ta, tb) = (inputs(), inputs())
        for (i, (p, q)) in zip(ta, tb).enumerated() {
            let v = randomParameter(p.shape, seed: seed + 10 + UInt64(i)).data
            p.requiresGrad = false; q.requiresGrad = false
            p.tangent = v; q.tangent = v
        }
        let jc = ta[0].groupNorm(groups: groups, weight: affine ? ta[1] : nil, bias: affine ? ta[2] : nil).silu()
        let jf = tb[0].groupNormSiLU(groups: groups, weight: affine ? tb[1] : nil, bias: affine ? tb[2] : nil)
        assertClose(jf.tangent!, jc.tangent!, rtol: 1e-4, atol: 1e-5, "tangent")
    }

    @Test(arguments: [true, false])
    func matchesComposedOps(_ affine: Bool) {
        compareWithComposed(shape: [3, 4, 5, 3], groups: 2, affine: affine, seed: 41)   // runs shorter than eight lanes
    }

    @Test func matchesComposedOpsAtUNetSizes() {
        // UNet-like sizes take the parallel, eight-lane path (and a 4×4 level).
        compareWithComposed(shape: [4, 32, 16, 16], groups: 8, affine: true, seed: 51)
        compareWithComposed(shape: [2, 64, 4, 4], groups: 32, affine: true, seed: 61)
    }

    @Test(arguments: [true, false])
    func derivatives(_ affine: Bool) {
        let x = randomParameter([3, 4, 3, 2], seed: 71, in: -2...2)
        let w = randomParameter([4], seed: 72, in: 0.5...1.5), b = randomParameter([4], seed: 73)
        checkDerivatives(affine ? [x, w, b] : [x], epsilon: 1e-2, "groupNormSiLU affine \(affine)") { t in
            t[0].groupNormSiLU(groups: 2, weight: affine ? t[1] : nil, bias: affine ? t[2] : nil)
        }
    }
}
