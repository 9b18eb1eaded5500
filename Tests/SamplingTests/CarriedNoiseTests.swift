import Testing
import TensorCore
import Diffreps
import Diffusion
@testable import Sampling

/// Carried noise for multi-view models (one image per tile slot) and noise attached to azimuths.
@Suite struct CarriedNoiseTests {
    func state(images: Int, rho: Float = 1, carried: [Float]) -> DenoisedState {
        denoisedState(carried: carried) { c in
            c.carriedNoiseImages = images
            c.noiseCorrelation = rho
        }
    }

    @Test func viewKCarriesImageKModuloTheCount() {
        var rng = RandomGenerator(seed: 2)
        let per = 3 * 4 * 4
        let carried = rng.normalValues(4 * per)
        let noise = state(images: 4, carried: carried).mixedNoise(shape: [8, 3, 4, 4], fresh: &rng)
        for k in 0..<8 {
            #expect(Array(noise.data[(k * per)..<((k + 1) * per)]) == Array(carried[((k % 4) * per)..<((k % 4 + 1) * per)]), "view \(k)")
        }
        // Mixed with fresh noise, each view still takes √ρ of its own slot's image.
        var fresh = RandomGenerator(seed: 9), copy = fresh
        let mixed = state(images: 4, rho: 0.36, carried: carried).mixedNoise(shape: [8, 3, 4, 4], fresh: &fresh)
        let e = copy.normalValues(8 * per)
        let j = 6 * per + 5                                    // view 6 → slot 2
        #expect(abs(mixed.data[j] - (0.6 * carried[2 * per + 5] + 0.8 * e[j])) < 1e-5)
    }

    @Test func oneImageIsTheSameInEveryViewAsBefore() {
        var rng = RandomGenerator(seed: 3)
        let carried = rng.normalValues(48)
        let noise = state(images: 1, carried: carried).mixedNoise(shape: [3, 3, 4, 4], fresh: &rng)
        #expect(noise.data == carried + carried + carried)
    }

    @Test func aboveTheSwitchEveryViewTakesItsCarriedImage() {
        let grid = PixelImage(channels: 3, height: 4, width: 4)
        var rng = RandomGenerator(seed: 4)
        let carried = rng.normalValues(48)
        let s = denoisedState(carried: carried) { c in
            c.noiseCorrelation = 0
            c.carriedAboveSigma = 1.5
        }
        let high = s.viewNoise(grid, views: [(), ()], shape: [2, 3, 4, 4], sigma: 2, fresh: &rng)
        #expect(high.data == carried + carried)
        let low = s.viewNoise(grid, views: [(), ()], shape: [2, 3, 4, 4], sigma: 1.5, fresh: &rng)
        #expect(Array(low.data[0..<48]) != carried)            // ρ = 0 at and below the switch: fresh noise
        var bad = PullbackSampler.Configuration(sigmas: [2, 1, 0], state: .denoised)
        bad.carriedAboveSigma = -1
        #expect(throws: SamplingError.invalidConfiguration("carried-above-sigma must be a finite σ ≥ 0, got -1.0")) { try bad.validate() }
    }

    @Test func aBadImageCountIsRefused() {
        var bad = PullbackSampler.Configuration(sigmas: [2, 1, 0], state: .denoised)
        bad.carriedNoiseImages = 0
        #expect(throws: SamplingError.invalidConfiguration("carried noise images must be ≥ 1, got 0")) { try bad.validate() }
    }

    @Test func azimuthNoiseBelongsToTheAzimuth() {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 4), imageSize: 8)
        nerf.azimuthSteps = 16
        let step = 2 * Float.pi / 16
        let views = [OrbitView(azimuth: 3 * step, elevation: 0.1), OrbitView(azimuth: 3 * step + 0.01, elevation: 0.4),
                     OrbitView(azimuth: 4 * step, elevation: 0.1), OrbitView(azimuth: 3 * step - 2 * .pi, elevation: 0)]
        let e = nerf.viewConsistentNoise(views, seed: 5)!                     // [4, 3, 8, 8]
        let per = 3 * 64
        func view(_ k: Int) -> [Float] { Array(e.data[(k * per)..<((k + 1) * per)]) }
        #expect(view(0) == view(1))           // same azimuth step, any elevation
        #expect(view(0) == view(3))           // the same direction a full turn later
        #expect(view(0) != view(2))           // the next step has its own image
        #expect(nerf.viewConsistentNoise([views[0]], seed: 6)!.data != view(0))   // and the seed matters
        let mean = e.data.reduce(0, +) / Float(e.count)
        #expect(abs(mean) < 0.2)

        // Views are drawn on the lattice of azimuths.
        var rng = RandomGenerator(seed: 1)
        for v in nerf.sampleViews(count: 12, using: &rng) {
            let j = v.azimuth / step
            #expect(abs(j - j.rounded()) < 1e-4, "azimuth \(v.azimuth) is not a multiple of 2π/16")
        }
        #expect(NeRFDiffrep.azimuthIndex(-step, steps: 16) == 15)
    }
}
