import DefaultModel
import Diffusion
import Foundation
import Testing
@testable import DiffrepCLI

/// A camera-aware model (`diffrep train --camera`) works with every command that takes `--model`:
/// plain samples (no camera), images, and NeRFs (each view's camera).
@Suite struct CameraModelCommandTests {
    @Test(arguments: ["planes", "bins"])
    func everyCommandRunsWithACameraAwareModel(route: String) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("camera-model-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let model = base.appendingPathComponent("model")
        let classOnly = try UNet2D(contentsOf: DefaultModel.folder)
        let aware = route == "planes" ? UNet2D(cameraAwareFrom: classOnly) : UNet2D(cameraBinsFrom: classOnly, bins: CameraBins())
        try aware.save(to: model)
        try FileManager.default.copyItem(at: DefaultModel.folder.appendingPathComponent("scheduler_config.json"),
                                         to: model.appendingPathComponent("scheduler_config.json"))
        try TrainingDataCard.write(["data": "toys", "pose": "random"], modelFolder: model)   // so --class takes toy names
        var sample = try SampleCommand.parse(["--model", model.path, "--count", "2", "--steps", "3",
                                              "--out", base.appendingPathComponent("sample").path])
        try sample.run()
        var image = try ImageCommand.parse(["--model", model.path, "--count", "1", "--steps", "3", "--class", "box",
                                            "--out", base.appendingPathComponent("image").path])
        try image.run()
        var nerf = try NerfCommand.parse(["--model", model.path, "--steps", "3", "--resolution", "8", "--samples-per-ray", "8",
                                          "--frames", "4", "--display-size", "16", "--class", "box",
                                          "--out", base.appendingPathComponent("nerf").path])
        try nerf.run()
        var views = try SampleCommand.parse(["--model", model.path, "--count", "1", "--steps", "3", "--class", "box",
                                             "--views", "3", "--out", base.appendingPathComponent("views").path])
        try views.run()
        for file in ["sample/samples.png", "views/samples.png", "image/images.png", "nerf/turntable.png"] {
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent(file).path), "missing \(file)")
        }
    }

    @Test func viewsNeedACameraAwareModel() throws {
        var views = try SampleCommand.parse(["--count", "1", "--steps", "2", "--class", "box", "--views", "3",
                                             "--out", FileManager.default.temporaryDirectory.appendingPathComponent("views-\(UUID().uuidString)").path])
        #expect { try views.run() } throws: { "\($0)".contains("--views needs a camera-aware model") }
    }
}
