import Foundation
import Testing
import SafeTensors
import TensorCore
@testable import Diffusion

/// Tampered or corrupt training checkpoints (`state.safetensors`) throw an error naming the file,
/// the key and the value (NeRF checkpoints: Tests/SafeTensorsTests/ParameterCheckpointTests).
/// Inputs like these are also in the fuzz corpus (Fuzz/corpus/*_checkpoint/).
@Suite struct CheckpointValidationTests {
    /// A checkpoint of ``TrainingTests/trainer(seed:)`` after one step, in a fresh folder.
    static func savedCheckpoint() throws -> (dir: URL, checkpoint: URL) {
        let dir = try temporaryDirectory()
        let ckpt = dir.appendingPathComponent("checkpoint")
        let trainer = TrainingTests.trainer()
        trainer.trainStep()
        try trainer.saveCheckpoint(to: ckpt)
        return (dir, ckpt)
    }

    /// Rewrites the metadata of the safetensors file at `url` (nil removes a key).
    static func tamper(_ url: URL, _ changes: [String: String?]) throws {
        let contents = try SafeTensors.read(contentsOf: url)
        var metadata = contents.metadata ?? [:]
        for (k, v) in changes { metadata[k] = v }
        try SafeTensors.save(contents.tensors, metadata: metadata, to: url)
    }

    /// The saved training config as JSON with one key replaced.
    static func trainingConfig(_ url: URL, _ key: String, _ value: Any) throws -> String {
        let text = try #require(SafeTensors.read(contentsOf: url).metadata?["training_config"])
        var object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        object[key] = value
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func negativeStepIsRefused() throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        try Self.tamper(state, ["step": "-1"])
        #expect(throws: CheckpointError.invalidValue(state.path, key: "step", value: "-1", allowed: "an integer in 0…1099511627776")) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }

    /// A step so large that `step · batchSize` (the first item of its batch) overflows.
    @Test func hugeAdamStepIsRefused() throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        try Self.tamper(state, ["adam_step": "9223372036854775807"])
        #expect(throws: CheckpointError.invalidValue(state.path, key: "adam_step", value: "9223372036854775807",
                                                     allowed: "an integer in 0…1099511627776")) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }

    @Test(arguments: [0, -4]) func batchSizeBelowOneIsRefused(batchSize: Int) throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        try Self.tamper(state, ["training_config": try Self.trainingConfig(state, "batchSize", batchSize)])
        #expect(throws: CheckpointError.invalidValue(state.path, key: "training_config.batchSize", value: "\(batchSize)",
                                                     allowed: "an integer in 1…65536")) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }

    @Test func dropoutAboveOneIsRefused() throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        try Self.tamper(state, ["training_config": try Self.trainingConfig(state, "classDropout", 1.5)])
        #expect(throws: CheckpointError.invalidValue(state.path, key: "training_config.classDropout", value: "1.5",
                                                     allowed: "a number in [0, 1]")) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }

    @Test func missingMetadataIsRefused() throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        try Self.tamper(state, ["training_config": nil])
        #expect(throws: CheckpointError.badMetadata(state.path)) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }

    @Test func truncatedStateNamesTheFile() throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        try Data([1, 2, 3]).write(to: state)
        #expect(throws: CheckpointError.invalidFile(state.path, .fileTooShort(byteCount: 3))) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }

    /// A state tensor with the parameter's element count but another shape.
    @Test func reshapedStateTensorIsRefused() throws {
        let (dir, ckpt) = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = ckpt.appendingPathComponent(DenoiserTrainer.stateFileName)
        let contents = try SafeTensors.read(contentsOf: state)
        let name = "ema.conv_in.weight"
        let reshaped = contents.tensors.map { e -> (name: String, tensor: Tensor) in
            e.name == name ? (e.name, Tensor([e.tensor.count], data: e.tensor.data)) : e
        }
        let original = try #require(contents.tensors.first { $0.name == name }?.tensor)
        try SafeTensors.save(reshaped, metadata: contents.metadata, to: state)
        #expect(throws: CheckpointError.shapeMismatch(state.path, name, expected: original.shape, found: [original.count])) {
            _ = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        }
    }
}
