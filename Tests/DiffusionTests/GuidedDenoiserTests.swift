import Testing
import TensorCore
import Diffusion
import TestSupport

/// A toy class-conditional denoiser: label c gives (c+1)·x + c, the null label (or nil) gives x/2.
/// It counts its calls and remembers the batch sizes and labels.
private final class ToyConditional: Denoiser, @unchecked Sendable {
    let nullClass: Int
    var calls: [(batch: Int, labels: [Int]?)] = []
    init(nullClass: Int) { self.nullClass = nullClass }

    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        let b = x.shape[0]
        calls.append((b, condition))
        let scale = (0..<b).map { i -> Float in
            guard let c = condition?[i], c != nullClass else { return 0.5 }
            return Float(c + 1)
        }
        let shift = (0..<b).map { i -> Float in
            guard let c = condition?[i], c != nullClass else { return 0 }
            return Float(c)
        }
        // tensor ops, so gradients and tangents flow through the toy too
        let s = Tensor([b] + Array(repeating: 1, count: x.rank - 1), data: scale)
        let t = Tensor([b] + Array(repeating: 1, count: x.rank - 1), data: shift)
        return x * s + t
    }
}

@Suite struct GuidedDenoiserTests {
    /// D_w = D_uncond + w·(D_cond − D_uncond), in one batched call of 2B items.
    @Test func guidanceFormulaInOneBatchedCall() {
        let toy = ToyConditional(nullClass: 10)
        let w: Float = 3
        let guided = GuidedDenoiser(base: toy, guidance: w, nullClass: 10)
        let x = Tensor([2, 1, 1, 3], data: [1, -2, 0.5, 4, 0, -1])
        let labels = [2, 5]
        let d = guided.denoise(x, sigma: 1.5, condition: labels)
        var want = [Float]()
        for i in 0..<2 {
            for j in 0..<3 {
                let v = x.data[i * 3 + j]
                let cond = Float(labels[i] + 1) * v + Float(labels[i]), uncond = 0.5 * v
                want.append(uncond + w * (cond - uncond))
            }
        }
        assertClose(d.data, want, rtol: 1e-6, atol: 1e-6)
        #expect(d.shape == x.shape)
        #expect(toy.calls.count == 1 && toy.calls[0].batch == 4 && toy.calls[0].labels == [2, 5, 10, 10])
    }

    /// w = 1 is the conditional denoiser and w = 0 the unconditional one; a nil condition is unguided.
    @Test func limitsAndUnconditional() {
        let x = Tensor([1, 1, 1, 2], data: [3, -1])
        let toy = ToyConditional(nullClass: 7)
        assertClose(GuidedDenoiser(base: toy, guidance: 1, nullClass: 7).denoise(x, sigma: 1, condition: [1]).data,
                    [7, -1], rtol: 1e-6, atol: 1e-6)
        assertClose(GuidedDenoiser(base: toy, guidance: 0, nullClass: 7).denoise(x, sigma: 1, condition: [1]).data,
                    [1.5, -0.5], rtol: 1e-6, atol: 1e-6)
        toy.calls = []
        let u = GuidedDenoiser(base: toy, guidance: 5, nullClass: 7).denoise(x, sigma: 1, condition: nil)
        assertClose(u.data, [1.5, -0.5], rtol: 1e-6, atol: 1e-6)
        #expect(toy.calls.count == 1 && toy.calls[0].labels == [7])
    }

    /// Without a null class the unconditional half is a second call with condition nil.
    @Test func withoutNullClassCallsTwice() {
        let toy = ToyConditional(nullClass: -1)
        let x = Tensor([1, 1, 1, 1], data: [2])
        let d = GuidedDenoiser(base: toy, guidance: 2, nullClass: nil).denoise(x, sigma: 1, condition: [0])
        assertClose(d.data, [1 + 2 * (2 - 1)], rtol: 1e-6, atol: 1e-6)
        #expect(toy.calls.count == 2 && toy.calls[0].labels == [0] && toy.calls[1].labels == nil)
    }

    /// The batched split keeps gradients and tangents: dD_w/dx = 0.5 + w·(c + 0.5) per item.
    @Test func gradientsFlowThroughTheBatchedCall() {
        let toy = ToyConditional(nullClass: 9)
        let w: Float = 2
        let guided = GuidedDenoiser(base: toy, guidance: w, nullClass: 9)
        let x = Tensor.parameter([2, 1, 1, 2], data: [1, 2, 3, 4])
        guided.denoise(x, sigma: 1, condition: [1, 3]).sum().backward()
        let slope: [Float] = [0.5 + w * 1.5, 0.5 + w * 3.5]
        assertClose(x.grad ?? [], [slope[0], slope[0], slope[1], slope[1]], rtol: 1e-6, atol: 1e-6)
        let y = Tensor([2, 1, 1, 2], data: [1, 2, 3, 4])
        y.tangent = [1, 0, 0, 1]
        let jvp = guided.denoise(y, sigma: 1, condition: [1, 3]).tangent ?? []
        assertClose(jvp, [slope[0], 0, 0, slope[1]], rtol: 1e-6, atol: 1e-6)
    }
}
