import DefaultModel
import Diffusion
import Foundation
import RunSupport
import Testing
@testable import DiffrepCLI

/// Runs whose options multiply into more memory than the machine has are refused before they
/// allocate, with the estimate and the limit in the message; `--max-memory` moves the limit.
@Suite struct ResourceLimitTests {
    func temporaryFolder() -> URL { CLITest.temporaryFolder("resources") }

    /// 4096² turntable pixels × 1024 samples per ray would need about a terabyte: refused before
    /// sampling (no checkpoint appears).
    @Test func aTerabyteNerfIsRefusedBeforeSampling() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let nerf = try NerfCommand.parse(["--display-size", "4096", "--samples-per-ray", "1024", "--out", out.path])
        do {
            try nerf.run()
            Issue.record("a terabyte run was started")
        } catch let error as ResourceLimitError {
            #expect(error.estimate.total > pow(1024, 4))
            #expect(error.limit == MemoryLimit.default)
            #expect(error.description.hasPrefix("this run needs about 1."), "\(error)")
            #expect(error.description.contains("turntable renders"))
            #expect(error.description.contains("more than the limit of \(MemoryLimit.default)"))
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("nerf.safetensors").path))
    }

    /// The same run fits under `--max-memory 4T`; the default run fits under the default limit.
    @Test func maxMemoryRaisesTheLimit() throws {
        let config = try UNet2DConfig(contentsOf: DefaultModel.nerfFolder.appendingPathComponent("config.json"))
        let big = try NerfCommand.parse(["--display-size", "4096", "--samples-per-ray", "1024", "--max-memory", "4T"])
        try big.resources.check(big.memoryEstimate(imageSize: 32, unet: config, views: 8))
        let plain = try NerfCommand.parse([])
        try plain.resources.check(plain.memoryEstimate(imageSize: 32, unet: config, views: 8))
        #expect(plain.memoryEstimate(imageSize: 32, unet: config, views: 8).total < 2 * pow(1024, 3))
    }

    @Test func hugeSampleAndTrainingRunsAreRefused() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let sample = try SampleCommand.parse(["--per-class", "--count", "4096", "--steps", "2", "--out", out.path, "--max-memory", "1G"])
        #expect(throws: ResourceLimitError.self) { try sample.run() }
        let train = try TrainCommand.parse(["--channels", "8192,8192,8192", "--size", "1024", "--batch-size", "4096",
                                            "--steps", "1", "--out", out.path])
        #expect(throws: ResourceLimitError.self) { try train.run() }
    }
}
