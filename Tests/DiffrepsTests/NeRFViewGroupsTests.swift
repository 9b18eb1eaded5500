import Foundation
import Testing
import TensorCore
import Diffreps

/// A NeRF's views for a multi-view model: groups of four a quarter turn apart.
@Suite struct NeRFViewGroupsTests {
    @Test func viewsComeInQuarterTurnGroups() {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 4), imageSize: 8)
        nerf.viewsInQuarterTurns = true
        var rng = RandomGenerator(seed: 7)
        let views = nerf.sampleViews(count: 6, using: &rng)            // rounded up to two groups
        #expect(views.count == 8)
        for g in 0..<2 {
            let first = views[4 * g]
            #expect(nerf.elevationRange.contains(first.elevation))
            for k in 1..<4 {
                let v = views[4 * g + k]
                #expect(v.elevation == first.elevation && v.radius == first.radius)
                #expect(Swift.abs(v.azimuth - first.azimuth - Float(k) * .pi / 2) < 1e-5)
            }
        }
        #expect(views[0].azimuth != views[4].azimuth)                 // each group its own draw
    }

    @Test func independentViewsByDefault() {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 4), imageSize: 8)
        var rng = RandomGenerator(seed: 7)
        let views = nerf.sampleViews(count: 6, using: &rng)
        #expect(views.count == 6)
        #expect(Set(views.map(\.elevation)).count == 6)
    }

    /// Above `singleGroupAboveSigma` a multi-view NeRF's views come from the quarter-turn group at
    /// 0° only; at and below it from all eight azimuths; other NeRFs ignore σ.
    @Test func oneQuarterTurnGroupAtHighNoise() {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 4), imageSize: 8)
        nerf.viewsInQuarterTurns = true
        #expect(nerf.azimuthSteps == 8 && nerf.singleGroupAboveSigma == NeRFDiffrep.quarterTurnSingleGroupSigma)
        func indices(sigma: Float) -> Set<Int> {
            var rng = RandomGenerator(seed: 11)
            return Set(nerf.sampleViews(count: 64, sigma: sigma, using: &rng).map { NeRFDiffrep.azimuthIndex($0.azimuth, steps: 8) })
        }
        #expect(indices(sigma: 2.01) == [0, 2, 4, 6])
        #expect(indices(sigma: 2) == Set(0..<8))
        // Below the threshold the σ-aware draw is the plain one (same generator, same views).
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        #expect(nerf.sampleViews(count: 8, sigma: 0.1, using: &a) == nerf.sampleViews(count: 8, using: &b))
        nerf.singleGroupAboveSigma = nil
        #expect(indices(sigma: 100) == Set(0..<8))

        let single = NeRFDiffrep(field: VoxelGridField(resolution: 4), imageSize: 8)
        single.singleGroupAboveSigma = 0          // no quarter turns: nothing to restrict
        var c = RandomGenerator(seed: 5), d = RandomGenerator(seed: 5)
        #expect(single.sampleViews(count: 6, sigma: 50, using: &c) == single.sampleViews(count: 6, using: &d))
    }
}
