import Testing
import TensorCore
import Diffreps
import Diffusion
@testable import Sampling

/// The denoised state's per-view noise when the diffrep carries its own (a NeRF's SurfaceNoise):
/// used as it is, mixed with the carried image by ρ, or with the carried image's channel means.
@Suite struct ViewConsistentNoiseTests {
    let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 8), imageSize: 16, renderer: NeRFRenderer(samplesPerRay: 8))
    let views = [OrbitView(azimuth: 0, elevation: 0.2), OrbitView(azimuth: 1, elevation: 0.3)]

    func state(rho: Float, sharedMean: Bool, carried: [Float]) -> DenoisedState {
        denoisedState(carried: carried) { c in
            c.viewConsistentNoise = true
            c.noiseCorrelation = rho
            c.shareNoiseMean = sharedMean
        }
    }

    @Test func surfaceNoiseAloneMixedOrWithSharedMeans() {
        var rng = RandomGenerator(seed: 1)
        let carried = rng.normalValues(3 * 16 * 16)
        let e = nerf.viewConsistentNoise(views, seed: PullbackSampler.Configuration(sigmas: [1, 0]).seed ^ 0x5E_ED_0F_5E_ED)!
        let alone = state(rho: 0, sharedMean: false, carried: carried).viewNoise(nerf, views: views, shape: [2, 3, 16, 16], fresh: &rng)
        #expect(alone.data == e.data)
        let mixed = state(rho: 0.25, sharedMean: false, carried: carried).viewNoise(nerf, views: views, shape: [2, 3, 16, 16], fresh: &rng)
        let b = Float(0.75).squareRoot()
        let want: Float = 0.5 * carried[5] + b * e.data[5]
        #expect(abs(mixed.data[5] - want) < 1e-5)
        let shared = state(rho: 0, sharedMean: true, carried: carried).viewNoise(nerf, views: views, shape: [2, 3, 16, 16], fresh: &rng)
        let plane = 256
        for k in 0..<2 { for c in 0..<3 {
            let lo = (k * 3 + c) * plane
            let m: Float = shared.data[lo..<(lo + plane)].reduce(0, +) / Float(plane)
            let want: Float = carried[(c * plane)..<((c + 1) * plane)].reduce(0, +) / Float(plane)
            #expect(abs(m - want) < 1e-4, "view \(k) channel \(c): mean \(m) vs carried \(want)")
        } }
        // The layout is still the view's own: what is left after the means is e's.
        let d0 = shared.data[1] - shared.data[0], e0 = e.data[1] - e.data[0]
        #expect(abs(d0 - e0) < 1e-5)
    }
}
