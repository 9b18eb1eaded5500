import Testing
@testable import TensorCore
import TestSupport

@Suite struct NormalizationTests {
    @Test(arguments: ["groupNorm_affine", "groupNorm_plain"])
    func groupNormMatchesPyTorch(_ name: String) throws {
        let f = try NNFixture.named(name, in: "nn_norm")
        let x = try #require(f.tensor("x"))
        let y = x.groupNorm(groups: f.int("groups", default: 1), weight: f.tensor("weight"), bias: f.tensor("bias"),
                            eps: try #require(f.float("eps")))
        assertClose(y, f.expected.tensor, rtol: 1e-4, atol: 1e-5, name)
    }

    @Test(arguments: ["layerNorm_affine", "layerNorm_plain"])
    func layerNormMatchesPyTorch(_ name: String) throws {
        let f = try NNFixture.named(name, in: "nn_norm")
        let x = try #require(f.tensor("x"))
        let y = x.layerNorm(weight: f.tensor("weight"), bias: f.tensor("bias"), eps: try #require(f.float("eps")))
        assertClose(y, f.expected.tensor, rtol: 1e-4, atol: 1e-5, name)
    }

    @Test func groupNormStatistics() {
        // Without an affine, every (sample, group) has mean 0 and variance ≈ 1, whatever the offset.
        var rng = RandomGenerator(seed: 4)
        let x = rng.normal([3, 8, 5, 5]) * 3 + 10
        let y = x.groupNorm(groups: 4, weight: nil, bias: nil)
        for r in 0..<12 {
            let row = y.data[(r * 50)..<((r + 1) * 50)]
            let mean = row.reduce(0, +) / 50
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 50
            #expect(abs(mean) < 1e-5)
            #expect(abs(variance - 1) < 1e-3)
        }
    }

    @Test(arguments: [true, false])
    func groupNormDerivatives(_ affine: Bool) {
        let x = randomParameter([3, 4, 3, 2], seed: 11, in: -2...2)
        let w = randomParameter([4], seed: 12, in: 0.5...1.5), b = randomParameter([4], seed: 13)
        checkDerivatives(affine ? [x, w, b] : [x], epsilon: 1e-2, "groupNorm affine \(affine)") { t in
            t[0].groupNorm(groups: 2, weight: affine ? t[1] : nil, bias: affine ? t[2] : nil)
        }
    }

    @Test func groupNormWeightOnlyDerivatives() {
        // One group per channel (instance norm), weight without bias, a single spatial axis.
        let x = randomParameter([2, 3, 5], seed: 14, in: -2...2), w = randomParameter([3], seed: 15)
        checkDerivatives([x, w]) { t in t[0].groupNorm(groups: 3, weight: t[1], bias: nil) }
    }

    @Test(arguments: [true, false])
    func layerNormDerivatives(_ affine: Bool) {
        let x = randomParameter([2, 3, 5], seed: 21, in: -2...2)
        let w = randomParameter([5], seed: 22, in: 0.5...1.5), b = randomParameter([5], seed: 23)
        checkDerivatives(affine ? [x, w, b] : [x], "layerNorm affine \(affine)") { t in
            t[0].layerNorm(weight: affine ? t[1] : nil, bias: affine ? t[2] : nil)
        }
    }

    @Test func groupNormLargerShapeJVPAgainstVJP() {
        // UNet-like sizes take the parallel path.
        let x = randomParameter([4, 32, 16, 16], seed: 31), w = randomParameter([32], seed: 32), b = randomParameter([32], seed: 33)
        let (jv, vj) = GradientCheck.jvpAgainstVJP([x, w, b]) { t in t[0].groupNorm(groups: 8, weight: t[1], bias: t[2]) }
        #expect(abs(jv - vj) <= 1e-4 * max(1, abs(jv)), "⟨Jv,u⟩ = \(jv) vs ⟨v,Jᵀu⟩ = \(vj)")
    }
}
