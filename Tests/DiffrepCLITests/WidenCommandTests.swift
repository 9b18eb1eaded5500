import Diffusion
import Foundation
import Testing
@testable import DiffrepCLI

/// `diffrep train --init-from M --widen 2`: training continues from a twice-as-wide copy of M.
@Suite struct WidenCommandTests {
    @Test func trainWidensTheInitFromModelAndRecordsIt() throws {
        let base = CLITest.temporaryFolder("widen")
        defer { try? FileManager.default.removeItem(at: base) }
        let narrow = base.appendingPathComponent("narrow"), wide = base.appendingPathComponent("wide")
        try TrainCommand.parse(CLITest.tinyTrain + ["--out", narrow.path]).run()
        try TrainCommand.parse(["--init-from", narrow.appendingPathComponent("checkpoint/model").path, "--widen", "2",
                                "--size", "8", "--steps", "1", "--batch-size", "1", "--out", wide.path]).run()
        let model = wide.appendingPathComponent("checkpoint/model")
        #expect(try UNet2DConfig(contentsOf: model.appendingPathComponent("config.json")).blockOutChannels == [64, 64])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: wide.appendingPathComponent("manifest.json"))) as! [String: Any]
        let settings = manifest["settings"] as! [String: Any]
        #expect(settings["widen"] as? Int == 2)
        #expect(settings["widen_noise"] as? Double != nil)
    }

    @Test(arguments: [
        (["--widen", "2"], "--widen widens a trained model: give --init-from"),
        (["--widen", "3", "--init-from", "x"], "--widen 3: only 2 is supported"),
        (["--resume", "--widen", "2"], "drop --camera, --camera-bins, --view-tiles, --init-from and --widen"),
        (["--widen", "2", "--init-from", "x", "--widen-noise", "-1"], "--widen-noise must be a finite number ≥ 0"),
    ])
    func widenOptionsAreValidated(arguments: [String], expected: String) {
        let message = CLITest.errorMessage { _ = try TrainCommand.parse(arguments) }
        #expect(message?.contains(expected) == true, "\(message ?? "no error")")
    }
}
