import Diffusion
import Foundation
import Testing
@testable import DiffrepCLI

/// `--steps` beyond the model's training timesteps (the embedded model has 1000) is a clear
/// error before any sampling, in every command that samples with DDIM levels.
@Suite struct StepsValidationTests {
    @Test func stepsAboveTheTrainingTimestepsAreRefused() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("steps-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let tooMany = ScheduleStepsError.outOfRange(steps: 1001, trainTimesteps: 1000)
        let sample = try SampleCommand.parse(["--steps", "1001", "--count", "1", "--out", base.appendingPathComponent("sample").path])
        #expect(throws: tooMany) { try sample.run() }
        let image = try ImageCommand.parse(["--steps", "1001", "--count", "1", "--out", base.appendingPathComponent("image").path])
        #expect(throws: tooMany) { try image.run() }
        let nerf = try NerfCommand.parse(["--steps", "1001", "--resolution", "8", "--samples-per-ray", "8", "--frames", "4",
                                          "--display-size", "16", "--out", base.appendingPathComponent("nerf").path])
        #expect(throws: tooMany) { try nerf.run() }
    }
}
