import Testing
@testable import TensorCore
import TestSupport

/// Direct 7-loop convolution, the reference the im2col kernels are checked against.
func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) -> Tensor {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let ho = (h + 2 * padding - kh) / stride + 1, wo = (wd + 2 * padding - kw) / stride + 1
    var y = [Float](repeating: 0, count: n * cout * ho * wo)
    for i in 0..<n { for o in 0..<cout { for oh in 0..<ho { for ow in 0..<wo {
        var s: Float = b?.data[o] ?? 0
        for c in 0..<cin { for ki in 0..<kh { for kj in 0..<kw {
            let ih = oh * stride - padding + ki, iw = ow * stride - padding + kj
            if ih >= 0 && ih < h && iw >= 0 && iw < wd {
                s += x.data[((i * cin + c) * h + ih) * wd + iw] * w.data[((o * cin + c) * kh + ki) * kw + kj]
            }
        } } }
        y[((i * cout + o) * ho + oh) * wo + ow] = s
    } } } }
    return Tensor([n, cout, ho, wo], data: y)
}

@Suite struct ConvolutionTests {
    @Test(arguments: ["s1p1_bias", "s1p0_bias", "s2p1_bias", "s2p0_nobias", "kernel2x3_s1p1", "pointwise_bias", "s1p2_bias"])
    func conv2dMatchesPyTorch(_ name: String) throws {
        let f = try NNFixture.named(name, in: "nn_conv2d")
        let x = try #require(f.tensor("x")), w = try #require(f.tensor("weight"))
        let y = x.conv2d(w, bias: f.tensor("bias"), stride: f.int("stride", default: 1), padding: f.int("padding", default: 0))
        assertClose(y, f.expected.tensor, rtol: 1e-5, atol: 1e-5, name)
    }

    /// (x shape, weight shape, stride, padding, bias)
    static let gradientCases: [([Int], [Int], Int, Int, Bool)] = [
        ([2, 3, 5, 5], [4, 3, 3, 3], 1, 1, true),
        ([3, 2, 6, 5], [3, 2, 3, 3], 2, 1, true),   // uneven split of the batch over workers
        ([1, 2, 5, 4], [2, 2, 3, 2], 2, 0, false),  // batch 1: serial path on threaded BLAS
        ([2, 4, 3, 3], [3, 4, 1, 1], 1, 0, true),   // pointwise: no patch matrix
        ([2, 2, 4, 4], [2, 2, 3, 3], 1, 2, true),   // padding wider than the kernel's reach
    ]

    @Test(arguments: 0..<gradientCases.count)
    func conv2dDerivatives(_ i: Int) {
        let (xs, ws, stride, padding, hasBias) = Self.gradientCases[i]
        let x = randomParameter(xs, seed: 100 + UInt64(i)), w = randomParameter(ws, seed: 200 + UInt64(i))
        let b = randomParameter([ws[0]], seed: 300 + UInt64(i))
        checkDerivatives(hasBias ? [x, w, b] : [x, w], "conv2d case \(i)") { t in
            t[0].conv2d(t[1], bias: hasBias ? t[2] : nil, stride: stride, padding: padding)
        }
    }

    /// (x shape, weight shape, stride, padding) for ``conv2dLargerShapes(_:)``.
    static let largerCases: [([Int], [Int], Int, Int)] = [
        ([3, 16, 23, 22], [24, 16, 3, 3], 1, 1),   // 506 pixels: two patch tiles per image
        ([3, 13, 9, 10], [20, 13, 3, 3], 2, 1),    // channel counts off the 8×8 transpose blocks
        ([2, 13, 9, 10], [20, 13, 3, 3], 1, 0),
        ([3, 12, 8, 8], [10, 12, 1, 1], 1, 0),     // pointwise
        ([10, 128, 4, 4], [32, 128, 3, 3], 1, 1),  // small images stacked into one gemm: groups of 4, 4, 2
        ([6, 64, 8, 8], [48, 64, 3, 3], 2, 1),     // stacked, stride 2
    ]

    /// Larger channel counts against the direct loop; gradients through ⟨Jv,u⟩ = ⟨v,Jᵀu⟩
    /// (the JVP is the forward kernel, so this ties the backward kernels to it).
    @Test(arguments: 0..<largerCases.count)
    func conv2dLargerShapes(_ i: Int) {
        let (xs, ws, stride, padding) = Self.largerCases[i]
        let x = randomParameter(xs, seed: 5), w = randomParameter(ws, seed: 6, in: -0.2...0.2)
        let b = randomParameter([ws[0]], seed: 7)
        let y = x.conv2d(w, bias: b, stride: stride, padding: padding)
        assertClose(y, naiveConv2d(x, w, b, stride: stride, padding: padding), rtol: 1e-4, atol: 1e-4)
        let (jv, vj) = GradientCheck.jvpAgainstVJP([x, w, b]) { t in t[0].conv2d(t[1], bias: t[2], stride: stride, padding: padding) }
        #expect(abs(jv - vj) <= 1e-4 * max(1, abs(jv)), "⟨Jv,u⟩ = \(jv) vs ⟨v,Jᵀu⟩ = \(vj)")
    }

    @Test func conv2dGradientsAccumulate() {
        // A second use of the same inputs adds to the gradients already there.
        let x = randomParameter([2, 3, 4, 4], seed: 1), w = randomParameter([2, 3, 3, 3], seed: 2)
        let once = x.conv2d(w, bias: nil, padding: 1).sum()
        once.backward()
        let gx = x.grad!, gw = w.grad!
        x.zeroGrad(); w.zeroGrad()
        (x.conv2d(w, bias: nil, padding: 1).sum() + x.conv2d(w, bias: nil, padding: 1).sum()).backward()
        assertClose(x.grad!, gx.map { 2 * $0 }, rtol: 1e-5, atol: 1e-5)
        assertClose(w.grad!, gw.map { 2 * $0 }, rtol: 1e-5, atol: 1e-5)
    }

    @Test func upsampleNearest2xMatchesPyTorch() throws {
        let f = try NNFixture.named("upsampleNearest2x", in: "nn_misc")
        assertClose(try #require(f.tensor("x")).upsampleNearest2x(), f.expected.tensor, rtol: 0, atol: 0)
    }

    @Test func upsampleNearest2xDerivatives() {
        let x = randomParameter([2, 3, 3, 2], seed: 9)
        checkDerivatives([x]) { $0[0].upsampleNearest2x() }
    }
}
