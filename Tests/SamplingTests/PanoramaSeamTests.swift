import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
import Sampling

/// A panorama's width wraps around, and its windows wrap across the seam, so a sampled panorama
/// tiles seamlessly: the column pair across the seam (`W−1`, `0`) differs no more than any
/// interior pair of neighbouring columns (statistically, over seeds).
@Suite struct PanoramaSeamTests {
    static let (height, width, window) = (4, 24, 8)

    @Test func seamIsAsSmoothAsTheInterior() throws {
        // Smooth data: Gaussian windows with correlation length 2 px, so neighbouring columns of a
        // sample differ by about √(2(1 − e^{−1/8})) ≈ 0.48, independent columns by √2.
        let denoiser = GaussianDenoiser(mean: Tensor.zeros([1, Self.height, Self.window]),
                                        covariance: smoothCovariance(channels: 1, height: Self.height, width: Self.window, length: 2))
        let sigmas = KarrasSchedule.sigmas(steps: 25, sigmaMin: 0.01, sigmaMax: 20)
        var seam: [Float] = [], interior: [Float] = []
        for seed: UInt64 in 1...60 {
            let pano = PanoramaGrid(channels: 1, height: Self.height, width: Self.width, windowWidth: Self.window)
            let config = PullbackSampler.Configuration(sigmas: sigmas, viewsPerStep: 6, seed: seed)
            try PullbackSampler(denoiser: denoiser, configuration: config).sample(pano)   // random pixel-aligned windows
            let p = pano.pixels.data
            for i in 0..<Self.height {
                let row = i * Self.width
                let wrap = p[row + Self.width - 1] - p[row]
                seam.append(wrap * wrap)
                for j in 0..<(Self.width - 1) { let d = p[row + j + 1] - p[row + j]; interior.append(d * d) }
            }
        }
        let seamMean = seam.reduce(0, +) / Float(seam.count)
        let interiorMean = interior.reduce(0, +) / Float(interior.count)
        #expect(interiorMean > 0.1 && interiorMean < 0.5,
                "interior neighbours differ by \(interiorMean) in mean square: the samples are not the smooth data")
        #expect(seamMean > 0.6 * interiorMean && seamMean < 1.6 * interiorMean,
                "mean squared difference across the seam \(seamMean) vs between interior neighbours \(interiorMean)")
    }
}
