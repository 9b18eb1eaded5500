import Foundation
import Testing
@testable import TensorCore
import TestSupport

@Suite struct AttentionTests {
    @Test(arguments: ["softmax_last", "softmax_middle", "logSoftmax_last", "logSoftmax_first"])
    func softmaxMatchesPyTorch(_ name: String) throws {
        let f = try NNFixture.named(name, in: "nn_misc")
        let x = try #require(f.tensor("x")), axis = f.int("axis", default: -1)
        let y = name.hasPrefix("log") ? x.logSoftmax(axis: axis) : x.softmax(axis: axis)
        assertClose(y, f.expected.tensor, rtol: 1e-5, atol: 1e-6, name)
    }

    @Test func softmaxIsStableForLargeInputs() {
        // [1000, 1000, 1001]: e¹⁰⁰⁰ overflows Float, the shifted form does not.
        let x = Tensor([1, 3], data: [1000, 1000, 1001])
        let e = Float(M_E), z = 2 + e
        assertClose(x.softmax().data, [1 / z, 1 / z, e / z], rtol: 1e-5, atol: 1e-6)
        assertClose(x.logSoftmax().data, [-Foundation.log(z), -Foundation.log(z), 1 - Foundation.log(z)], rtol: 1e-5, atol: 1e-5)
    }

    @Test func vectorExpMatchesFoundation() {
        // The 8-lane exp used by softmax: relative error of a few ulp over its domain, exact edges.
        var worst: Float = 0
        for i in 0..<2000 {
            let base = -87 + 88 * Float(i) / 2000
            let x = SIMD8<Float>((0..<8).map { base + Float($0) * 0.0055 })
            let y = FastMath.exp8(x)
            for l in 0..<8 {
                let ref = Foundation.exp(x[l])
                worst = max(worst, abs(y[l] - ref) / ref)
            }
        }
        #expect(worst < 5e-7, "worst relative error \(worst)")
        let edges = FastMath.exp8(SIMD8<Float>(0, -.infinity, -100, -87.5, .nan, 1, -1e-8, 88))
        #expect(edges[0] == 1 && edges[1] == 0 && edges[2] == 0 && edges[3] == 0)
        #expect(edges[4].isNaN)
        assertClose([edges[5], edges[6], edges[7]], [Float(M_E), 1, Foundation.exp(Float(88))], rtol: 1e-6, atol: 0)
    }

    @Test(arguments: [-1, 0, 1])
    func softmaxDerivatives(_ axis: Int) {
        let x = randomParameter([3, 4, 2], seed: 40 + UInt64(axis + 1), in: -2...2)
        checkDerivatives([x], "softmax axis \(axis)") { $0[0].softmax(axis: axis) }
        checkDerivatives([x], "logSoftmax axis \(axis)") { $0[0].logSoftmax(axis: axis) }
    }

    @Test(arguments: ["attention_default_scale", "attention_scale"])
    func attentionMatchesPyTorch(_ name: String) throws {
        let f = try NNFixture.named(name, in: "nn_misc")
        let y = Tensor.attention(query: try #require(f.tensor("query")), key: try #require(f.tensor("key")),
                                 value: try #require(f.tensor("value")), scale: f.float("scale"))
        assertClose(y, f.expected.tensor, rtol: 1e-5, atol: 1e-5, name)
    }

    @Test func attentionEqualsComposedOps() {
        // softmax(s·Q·Kᵀ)·V written with matmul and softmax, values and gradients.
        let q = randomParameter([3, 4, 5], seed: 50), k = randomParameter([3, 6, 5], seed: 51), v = randomParameter([3, 6, 2], seed: 52)
        let fused = Tensor.attention(query: q, key: k, value: v, scale: 0.8)
        let composed = (q.matmul(k.transposed()) * 0.8).softmax().matmul(v)
        assertClose(fused, composed, rtol: 1e-5, atol: 1e-6)
    }

    @Test(arguments: [1, 3])
    func attentionDerivatives(_ batch: Int) {
        let q = randomParameter([batch, 3, 4], seed: 60), k = randomParameter([batch, 5, 4], seed: 61)
        let v = randomParameter([batch, 5, 2], seed: 62)
        checkDerivatives([q, k, v], "attention batch \(batch)") { t in Tensor.attention(query: t[0], key: t[1], value: t[2]) }
    }

    @Test func selfAttentionSharedInputDerivatives() {
        // The same tensor as query, key and value: all three gradients add up.
        let x = randomParameter([2, 4, 3], seed: 70)
        checkDerivatives([x]) { t in Tensor.attention(query: t[0], key: t[0], value: t[0], scale: 1.3) }
    }

    @Test func attentionPartialGradients() {
        // Only the value on the tape (query and key constants), then only the query.
        let q = randomParameter([2, 3, 4], seed: 80), k = randomParameter([2, 5, 4], seed: 81), v = randomParameter([2, 5, 3], seed: 82)
        let qc = q.detached(), kc = k.detached(), vc = v.detached()
        checkDerivatives([v]) { t in Tensor.attention(query: qc, key: kc, value: t[0]) }
        checkDerivatives([q]) { t in Tensor.attention(query: t[0], key: kc, value: vc) }
    }

    @Test func causalAttentionSeesEarlierKeysOnly() {
        // Row r of a causal call equals a plain call on keys 0…r; values and derivatives.
        let q = randomParameter([2, 5, 4], seed: 90), k = randomParameter([2, 5, 4], seed: 91), v = randomParameter([2, 5, 3], seed: 92)
        let causal = Tensor.attention(query: q, key: k, value: v, causal: true)
        for r in 0..<5 {
            let row = Tensor.attention(query: q.slice(axis: 1, r..<(r + 1)), key: k.slice(axis: 1, 0..<(r + 1)),
                                       value: v.slice(axis: 1, 0..<(r + 1)))
            assertClose(causal.slice(axis: 1, r..<(r + 1)), row, rtol: 1e-5, atol: 1e-6, "row \(r)")
        }
        checkDerivatives([q, k, v], "causal attention") { t in Tensor.attention(query: t[0], key: t[1], value: t[2], causal: true) }
    }

    /// Off the tape (inference) attention runs in blocks of query rows without keeping the
    /// probabilities: the same values as the recorded path, causal or not, over several blocks.
    @Test(arguments: [false, true])
    func inferenceBlocksEqualRecordedAttention(_ causal: Bool) {
        let q = randomParameter([2, 37, 3], seed: 100), k = randomParameter([2, 20_000, 3], seed: 101)
        let v = randomParameter([2, 20_000, 2], seed: 102)
        let geo = AttentionGeometry(b: 2, lq: 37, lk: 20_000, d: 3, dv: 2, scale: 0.5, causal: causal)
        #expect(geo.blockRows == 3)                                                    // 12 blocks of 3 rows and one of 1
        let recorded = Tensor.attention(query: q, key: k, value: v, scale: 0.5, causal: causal)
        #expect(recorded.requiresGrad)
        let inference = GradMode.withoutGrad { Tensor.attention(query: q, key: k, value: v, scale: 0.5, causal: causal) }
        #expect(!inference.requiresGrad)
        assertClose(inference, recorded, rtol: 1e-6, atol: 1e-7)
    }
}
