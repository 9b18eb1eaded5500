import Foundation
import Testing
import TensorCore
import Diffreps
import Diffusion
@testable import Sampling

/// The pullback sampler draws each level's views at that level's σ, so a multi-view NeRF's
/// `singleGroupAboveSigma` keeps the high-noise levels on the quarter-turn group at 0°.
@Suite struct SingleGroupAboveSigmaTests {
    @Test func highLevelsSeeOneQuarterTurnGroup() throws {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 6), imageSize: 8, renderer: NeRFRenderer(samplesPerRay: 6))
        nerf.viewsInQuarterTurns = true
        nerf.singleGroupAboveSigma = 2
        let config = PullbackSampler.Configuration(sigmas: [8, 6, 4, 3, 2, 1, 0.5, 0], viewsPerStep: 8, resample: 1,
                                                   solver: .conjugateGradient(iterations: 1), seed: 5, classLabel: 1, state: .denoised)
        let recorder = ConditionRecorder()
        try PullbackSampler(denoiser: recorder, configuration: config).sample(nerf)
        #expect(recorder.calls.map(\.sigma) == [8, 6, 4, 3, 2, 1, 0.5])
        // Each call's view azimuths, read back from the cameras (azimuth 0 looks from +z).
        let calls = recorder.calls.map { call in
            (sigma: call.sigma, azimuths: (call.conditions ?? []).compactMap { $0.camera.map { Foundation.atan2($0.direction.x, $0.direction.z) } })
        }
        func eighth(_ a: Float) -> Int { NeRFDiffrep.azimuthIndex(a, steps: 8) }
        for call in calls where call.sigma > 2 {
            #expect(call.azimuths.count == 8)
            #expect(call.azimuths.allSatisfy { eighth($0) % 2 == 0 }, "σ = \(call.sigma): \(call.azimuths)")
        }
        // At and below σ = 2 the in-between azimuths are drawn too (4 levels × 2 groups: seed 5 draws some).
        let low = calls.filter { $0.sigma <= 2 }.flatMap(\.azimuths)
        #expect(low.contains { eighth($0) % 2 == 1 })
    }
}
