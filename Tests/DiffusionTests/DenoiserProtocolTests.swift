import Testing
import TensorCore
@testable import Diffusion

/// A class-only denoiser as a user writes it: only `denoise(_:sigma:condition:)`. It records the
/// labels it is called with and halves its input.
final class LabelRecordingDenoiser: Denoiser {
    var seen: [[Int]?] = []
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        seen.append(condition)
        return x.scaled(by: 0.5)
    }
}

/// The conditions entry point the samplers call reaches a class-only denoiser with the class
/// labels (cameras dropped), and with nil when an item has no label.
@Test func classOnlyDenoiserGetsTheLabelsThroughConditions() {
    let d = LabelRecordingDenoiser()
    let x = Tensor([2, 1, 1, 2], data: [1, 2, 3, 4])
    let camera = CameraPose(azimuth: 1, elevation: 0)
    let out = d.denoise(x, sigma: 1, conditions: [DenoiserCondition(classLabel: 3, camera: camera), DenoiserCondition(classLabel: 5)])
    #expect(out.data == [0.5, 1, 1.5, 2])
    _ = d.denoise(x, sigma: 1, conditions: [DenoiserCondition(classLabel: 3), DenoiserCondition(camera: camera)])
    _ = d.denoise(x, sigma: 1, conditions: nil)
    #expect(d.seen == [[3, 5], nil, nil])
}
