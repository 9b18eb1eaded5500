import Foundation
import Testing
import Diffreps
import Diffusion
import TensorCore
@testable import Evaluation

/// The NeRF quality numbers on fields whose answers are known.
@Suite struct NerfQualityTests {
    /// `D(x) = x`: the denoiser then changes a render by exactly the added noise.
    struct Identity: Denoiser {
        func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor { x }
    }

    /// A NeRF whose grid is an opaque ball of radius 0.8 with raw colour `rgb` (before tanh).
    static func ball(rgb: [Float]) -> NeRFDiffrep {
        let n = 16
        var density = [Float](repeating: -20, count: n * n * n), color = [Float](repeating: 0, count: 3 * n * n * n)
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            let p = [x, y, z].map { -1.5 + 3 * Float($0) / Float(n - 1) }
            let i = (z * n + y) * n + x
            if (p.map { $0 * $0 }.reduce(0, +)).squareRoot() < 0.8 { density[i] = 12 }
            for c in 0..<3 { color[c * n * n * n + i] = rgb[c] }
        }}}
        return NeRFDiffrep(field: VoxelGridField(density: Tensor([1, 1, n, n, n], data: density),
                                                 color: Tensor([1, 3, n, n, n], data: color)), imageSize: 32)
    }

    @Test func saturatedBallOnWhiteVersusGreyBall() {
        let views = (0..<4).map { OrbitView(azimuth: Float($0) * .pi / 2, elevation: 0.3) }
        let red = NerfQuality.measure(Self.ball(rgb: [5, -5, -5]), views: views, denoiser: Identity(), classLabel: nil, seed: 1)
        let grey = NerfQuality.measure(Self.ball(rgb: [0, 0, 0]), views: views, denoiser: Identity(), classLabel: nil, seed: 1)
        #expect(red["chroma"]! > 0.95, "\(red)")
        #expect(grey["chroma"]! < 0.02, "\(grey)")
        #expect(red["mean_rgb_r"]! > 0.95 && red["mean_rgb_g"]! < 0.05)
        // The ball covers a disc of about π·(0.8/(4·tan 20°))² of the square frame.
        #expect(abs(red["coverage"]! - 0.25) < 0.08, "\(red)")
        #expect(red["background_deviation"]! < 0.02, "\(red)")
        // D = identity changes each render by the added noise: RMS σ = 0.3 in [-1, 1], 0.15 in 0–1 units.
        #expect(abs(red["denoiser_change"]! - 0.15) < 0.01, "\(red)")
    }
}
