import DefaultModel
import Diffusion
import Foundation
import Testing
@testable import DiffrepCLI

/// `--class` takes the toys' class names only for models trained on the toys (the embedded ones,
/// or a `training_data.json` that says so); any other model's classes are numbers, whatever
/// their count.
@Suite struct ClassNamesTests {
    /// A copy of the embedded class-only model (7 class rows, like the toys) without its provenance.
    func anonymousSevenClassModel() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("class-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in ["config.json", "diffusion_pytorch_model.safetensors", "scheduler_config.json"] {
            try FileManager.default.copyItem(at: DefaultModel.folder.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        return folder
    }

    @Test func namesOnlyForToyModels() throws {
        let folder = try anonymousSevenClassModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(ModelOptions.classNames(of: DefaultModel.folder, classCount: 6) == DefaultModel.classNames)
        #expect(ModelOptions.classNames(of: DefaultModel.nerfFolder, classCount: 6) == DefaultModel.classNames)
        #expect(ModelOptions.classNames(of: folder, classCount: 6) == [])

        let byName = try ModelOptions.parse(["--model", folder.path, "--class", "box"])
        var message = "loaded"
        do { _ = try byName.load() } catch { message = "\(error)" }
        #expect(message.contains("unknown class 'box'; use 0..<6") && !message.contains("sphere"), "\(message)")
        #expect(try ModelOptions.parse(["--model", folder.path, "--class", "1"]).load().classLabel == 1)

        try TrainingDataCard.write(["data": "toys"], modelFolder: folder)
        #expect(ModelOptions.classNames(of: folder, classCount: 6) == DefaultModel.classNames)
        #expect(try byName.load().classLabel == 1)
        #expect(ModelOptions.classNames(of: folder, classCount: 5) == [])
    }
}
