import Testing
@testable import TensorCore
import TestSupport

/// The Winograd F(2×2, 3×3) forward (Winograd.swift) against the direct loop and the im2col
/// kernel it replaces, on shapes that exercise its edges: odd output sizes (a last half tile),
/// padding 0, 1 and 2, batches, no bias, channel counts off any block size, chunks of several
/// tile rows, a row wider than a chunk aims at; and conv2d's gradients where it is in use.
@Suite struct WinogradTests {
    /// (x shape, weight shape, padding, bias)
    static let cases: [([Int], [Int], Int, Bool)] = [
        ([1, 3, 6, 6], [2, 3, 3, 3], 1, true),       // one chunk, even sizes
        ([2, 5, 7, 9], [3, 5, 3, 3], 1, true),       // odd height and width: half tiles dropped
        ([3, 4, 9, 8], [5, 4, 3, 3], 0, false),      // no padding (7×6 outputs), batch 3, no bias
        ([2, 3, 5, 6], [4, 3, 3, 3], 2, true),       // padding wider than the kernel's reach (7×8 outputs)
        ([2, 17, 40, 38], [19, 17, 3, 3], 1, true),  // several chunks of tile rows (19 tiles wide: 13 rows a chunk)
        ([1, 2, 6, 531], [3, 2, 3, 3], 1, true),     // a row of 266 tiles: one tile row per chunk, odd width
        ([2, 16, 16, 16], [16, 16, 3, 3], 1, true),  // the smallest shape conv2d sends here
    ]

    @Test(arguments: 0..<cases.count)
    func matchesDirectLoopAndIm2col(_ i: Int) {
        let (xs, ws, padding, hasBias) = Self.cases[i]
        let x = randomParameter(xs, seed: 40 + UInt64(i)), w = randomParameter(ws, seed: 50 + UInt64(i), in: -0.3...0.3)
        let b = hasBias ? randomParameter([ws[0]], seed: 60 + UInt64(i)) : nil
        let geo = ConvGeometry(input: xs, weight: ws, stride: 1, padding: padding)
        let shape = [geo.n, geo.cout, geo.ho, geo.wo]
        let winograd = Tensor(shape, data: Winograd.forward(geo, x: x.data, weight: w.data, bias: b?.data))
        let im2col = Tensor(shape, data: Convolution.im2colForward(geo, x: x.data, weight: w.data, bias: b?.data))
        assertClose(winograd, naiveConv2d(x, w, b, stride: 1, padding: padding), rtol: 1e-5, atol: 1e-5, "case \(i) vs direct loop")
        assertClose(winograd, im2col, rtol: 1e-5, atol: 1e-5, "case \(i) vs im2col")
    }

    @Test func conv2dTakesItOnlyFor3x3Stride1WithEnoughChannelsAndPixels() {
        func applies(_ x: [Int], _ w: [Int], stride: Int = 1, padding: Int = 1) -> Bool {
            Winograd.applies(ConvGeometry(input: x, weight: w, stride: stride, padding: padding))
        }
        #expect(applies([1, 128, 64, 64], [128, 128, 3, 3]))
        #expect(applies([1, 16, 16, 16], [16, 16, 3, 3]))
        #expect(applies([1, 128, 64, 64], [128, 128, 3, 3], padding: 0))               // any padding: 62×62 outputs
        #expect(!applies([1, 128, 64, 64], [128, 128, 3, 3], stride: 2))               // stride 2: im2col
        #expect(!applies([1, 128, 64, 64], [128, 128, 1, 1], padding: 0))              // pointwise
        #expect(!applies([1, 4, 64, 64], [512, 4, 3, 3]))                              // VAE conv_in: 4 channels
        #expect(!applies([1, 128, 64, 64], [3, 128, 3, 3]))                            // conv_out: 3 channels
        #expect(!applies([8, 256, 8, 8], [256, 256, 3, 3]))                            // 8×8: im2col stacks images
    }

    /// conv2d's JVP (forward convolutions, so Winograd) against its VJP (im2col's backward,
    /// checked against finite differences in ConvolutionTests) where the forward runs on Winograd.
    @Test func conv2dDerivativesThroughWinograd() {
        let x = randomParameter([1, 16, 16, 17], seed: 70), w = randomParameter([16, 16, 3, 3], seed: 71, in: -0.2...0.2)
        let b = randomParameter([16], seed: 72)
        #expect(Winograd.applies(ConvGeometry(input: x.shape, weight: w.shape, stride: 1, padding: 1)))
        let (jv, vj) = GradientCheck.jvpAgainstVJP([x, w, b]) { t in t[0].conv2d(t[1], bias: t[2], padding: 1) }
        #expect(abs(jv - vj) <= 1e-4 * max(1, abs(jv)), "⟨Jv,u⟩ = \(jv) vs ⟨v,Jᵀu⟩ = \(vj)")
        let y = x.conv2d(w, bias: b, padding: 1)
        assertClose(y, naiveConv2d(x, w, b, stride: 1, padding: 1), rtol: 1e-5, atol: 1e-5)
    }
}
