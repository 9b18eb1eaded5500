import Testing
import TensorCore
import Diffreps
import Diffusion
@testable import Sampling

/// `cameraFromSigma`: the pullback sampler gives a NeRF's views their cameras only at levels at
/// or below the threshold, the class alone above it; without it, the camera at every level.
@Suite struct CameraFromSigmaTests {
    func run(cameraFromSigma: Float?) throws -> [(sigma: Float, conditions: [DenoiserCondition]?)] {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 6), imageSize: 8, renderer: NeRFRenderer(samplesPerRay: 6))
        var config = PullbackSampler.Configuration(sigmas: [4, 2, 1, 0], viewsPerStep: 2, resample: 1,
                                                   solver: .conjugateGradient(iterations: 1), seed: 5, classLabel: 3, state: .denoised)
        config.cameraFromSigma = cameraFromSigma
        let recorder = ConditionRecorder()
        try PullbackSampler(denoiser: recorder, configuration: config).sample(nerf)
        return recorder.calls
    }

    @Test func camerasOnlyAtOrBelowTheThreshold() throws {
        let calls = try run(cameraFromSigma: 2)
        #expect(calls.map(\.sigma) == [4, 2, 1])
        for call in calls {
            let conditions = try #require(call.conditions)
            #expect(conditions.count == 2 && conditions.allSatisfy { $0.classLabel == 3 })
            if call.sigma <= 2 {
                #expect(conditions.allSatisfy { $0.camera != nil }, "σ = \(call.sigma) should see the cameras")
                #expect(conditions[0].camera != conditions[1].camera)
            } else {
                #expect(conditions.allSatisfy { $0.camera == nil }, "σ = \(call.sigma) should see the class alone")
            }
        }
    }

    @Test func everyLevelSeesTheCameraByDefault() throws {
        let calls = try run(cameraFromSigma: nil)
        #expect(calls.count == 3 && calls.allSatisfy { $0.conditions?.allSatisfy { $0.camera != nil } == true })
    }

    @Test func aNegativeOrNonFiniteThresholdIsRefused() {
        for bad: Float in [-1, .nan, .infinity] {
            var config = PullbackSampler.Configuration(sigmas: [2, 0])
            config.cameraFromSigma = bad
            #expect(throws: SamplingError.self) { try config.validate() }
        }
    }
}
