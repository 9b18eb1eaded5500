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
}
