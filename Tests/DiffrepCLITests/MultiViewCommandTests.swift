import Diffusion
import Foundation
import Testing
@testable import DiffrepCLI

/// A multi-view model end to end: `diffrep train --view-tiles` fine-tunes a single-view model on
/// quarter-turn tiles, and `diffrep nerf` then denoises its views four at a time.
@Suite struct MultiViewCommandTests {
    @Test func trainAndSampleANeRFWithAMultiViewModel() throws {
        let base = CLITest.temporaryFolder("multi-view")
        defer { try? FileManager.default.removeItem(at: base) }
        let single = base.appendingPathComponent("single"), multi = base.appendingPathComponent("multi")
        try TrainCommand.parse(CLITest.tinyTrain + ["--out", single.path]).run()
        try TrainCommand.parse(["--init-from", single.appendingPathComponent("checkpoint/model").path, "--camera-bins",
                                "--view-tiles", "--pose", "canonical", "--size", "8", "--steps", "2", "--batch-size", "2",
                                "--checkpoint-every", "1", "--out", multi.path]).run()
        let model = multi.appendingPathComponent("checkpoint/model")
        #expect(try UNet2DConfig(contentsOf: model.appendingPathComponent("config.json")).sampleSize == 16)
        #expect(QuarterTurnTiles.marks(try TrainingDataCard.read(modelFolder: model)))

        // Resuming keeps the tiles (read from the card).
        try TrainCommand.parse(["--resume", "--steps", "3", "--out", multi.path]).run()
        #expect(QuarterTurnTiles.marks(try TrainingDataCard.read(modelFolder: model)))

        // The held-out loss runs on a multi-view model (on tiled held-out toys).
        let evalOut = base.appendingPathComponent("eval")
        try EvalLossCommand.parse(["--model", model.path, "--count", "2", "--batch-size", "2", "--bands", "0,1000",
                                   "--out", evalOut.path]).run()
        #expect(FileManager.default.fileExists(atPath: evalOut.path))

        let nerfOut = base.appendingPathComponent("nerf")
        try NerfCommand.parse(CLITest.tinyNerf + ["--model", model.path, "--out", nerfOut.path]).run()
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: nerfOut.appendingPathComponent("manifest.json"))) as! [String: Any]
        let settings = manifest["settings"] as! [String: Any]
        #expect(settings["multi_view"] as? Bool == true)
        #expect(settings["views_per_step"] as? Int == 4)                 // pullback: one quarter-turn group per step
        // Its default noise: one image per azimuth, eight azimuths, nothing carried.
        #expect(settings["noise"] as? String == "azimuth" && settings["azimuth_steps"] as? Int == 8)
        #expect(settings["noise_correlation"] as? Double == 0)
        #expect(settings["single_group_above_sigma"] as? Double == 2)     // one quarter-turn group above σ = 2
        #expect(settings["guidance"] as? Double == 2)          // pullback's guidance with a multi-view model
        #expect(FileManager.default.fileExists(atPath: nerfOut.appendingPathComponent("turntable.png").path))

        // SDS with its views at the eight azimuths (the like-for-like check of docs/DESIGN.md).
        let sdsOut = base.appendingPathComponent("nerf-sds")
        try NerfCommand.parse(CLITest.tinyNerf + ["--model", model.path, "--sampler", "sds", "--iterations", "2",
                                                  "--azimuth-steps", "8", "--out", sdsOut.path]).run()
        #expect(FileManager.default.fileExists(atPath: sdsOut.appendingPathComponent("turntable.png").path))
        let sdsManifest = try JSONSerialization.jsonObject(with: Data(contentsOf: sdsOut.appendingPathComponent("manifest.json"))) as! [String: Any]
        #expect((sdsManifest["settings"] as! [String: Any])["guidance"] as? Double == 5)   // SDS's own default
        #expect((sdsManifest["settings"] as! [String: Any])["views_per_step"] as? Int == 8)   // SDS keeps two groups per step

        // Azimuth counts that do not hold quarter turns, or that no azimuth noise uses, are refused.
        let notQuarterTurns = CLITest.errorMessage {
            try NerfCommand.parse(CLITest.tinyNerf + ["--model", model.path, "--azimuth-steps", "6",
                                                      "--out", base.appendingPathComponent("nerf-az6").path]).run()
        }
        #expect(notQuarterTurns?.contains("--azimuth-steps 6: a multi-view model's views come in quarter turns") == true, "\(notQuarterTurns ?? "no error")")
        let carried = CLITest.errorMessage {
            try NerfCommand.parse(CLITest.tinyNerf + ["--model", model.path, "--noise", "carried", "--azimuth-steps", "8",
                                                      "--out", base.appendingPathComponent("nerf-carried").path]).run()
        }
        #expect(carried?.contains("--azimuth-steps applies to --noise azimuth or azimuth-shared-mean") == true, "\(carried ?? "no error")")

        let sdsGroups = CLITest.errorMessage {
            try NerfCommand.parse(CLITest.tinyNerf + ["--model", model.path, "--sampler", "sds", "--single-group-above-sigma", "1",
                                                      "--out", base.appendingPathComponent("nerf-sds-groups").path]).run()
        }
        #expect(sdsGroups?.contains("--single-group-above-sigma 1.0 applies to pullback runs of a multi-view model") == true, "\(sdsGroups ?? "no error")")

        let message = CLITest.errorMessage {
            try NerfCommand.parse(CLITest.tinyNerf + ["--model", model.path, "--views-per-step", "6",
                                                      "--out", base.appendingPathComponent("nerf6").path]).run()
        }
        #expect(message?.contains("--views-per-step 6: this multi-view model denoises views in groups of 4") == true, "\(message ?? "no error")")
    }

    @Test func viewTilesNeedCameraBins() {
        let message = CLITest.errorMessage { _ = try TrainCommand.parse(["--view-tiles", "--init-from", "x"]) }
        #expect(message?.contains("--view-tiles needs --data toys and --camera-bins") == true, "\(message ?? "no error")")
    }
}
