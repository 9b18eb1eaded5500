import Testing
import TensorCore
@testable import Diffusion

/// The identity denoiser's score is zero: a protocol conformance compiles and runs.
struct IdentityDenoiser: Denoiser {
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor { x }
}

@Test func protocolConformance() {
    let x = Tensor([1, 1, 2, 2], data: [1, 2, 3, 4])
    #expect(IdentityDenoiser().denoise(x, sigma: 1, condition: nil).data == x.data)
}
