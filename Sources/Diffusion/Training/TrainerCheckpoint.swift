import Foundation
import TensorCore

/// Checkpoints: a folder holding the EMA model as a diffusers folder (`model/`, loadable by
/// ``UNet2D/init(contentsOf:)`` and by diffusers) and the exact training state
/// (`state.safetensors`: weights, AdamW moments, EMA; step and settings in its metadata).
/// Written to a temporary folder first and then renamed into place.
extension DenoiserTrainer {
    public static let stateFileName = "state.safetensors"

    /// Writes the checkpoint folder atomically (an existing one is replaced only once the new
    /// one is complete).
    public func saveCheckpoint(to folder: URL) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".\(folder.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)

        try emaUNet().save(to: tmp.appendingPathComponent("model"))
        try schedule.writeConfig(to: tmp.appendingPathComponent("model/scheduler_config.json"))
        var tensors: [(name: String, tensor: Tensor)] = []
        for (name, p) in unet.parameters {
            tensors.append((name: "param." + name, tensor: p.detached()))
            tensors.append((name: "ema." + name, tensor: Tensor(p.shape, data: ema[name]!)))
            if let m = optimizer.m[name], let v = optimizer.v[name] {
                tensors.append((name: "adam_m." + name, tensor: Tensor(p.shape, data: m)))
                tensors.append((name: "adam_v." + name, tensor: Tensor(p.shape, data: v)))
            }
        }
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try SafeTensors.save(tensors, metadata: ["step": "\(step)", "adam_step": "\(optimizer.stepCount)",
                                                 "training_config": configJSON],
                             to: tmp.appendingPathComponent(Self.stateFileName))

        // Swap into place: old → .old, tmp → folder, remove .old.
        let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old")
        try? fm.removeItem(at: old)
        if fm.fileExists(atPath: folder.path) { try fm.moveItem(at: folder, to: old) }
        try fm.moveItem(at: tmp, to: folder)
        try? fm.removeItem(at: old)
    }

    /// Restores a trainer from a checkpoint folder written by ``saveCheckpoint(to:)``; it
    /// continues exactly where the saved run stopped. The training settings come from the
    /// checkpoint.
    public static func resume(from folder: URL, data: TrainingData) throws -> DenoiserTrainer {
        let model = folder.appendingPathComponent("model")
        let config = try UNet2DConfig(contentsOf: model.appendingPathComponent("config.json"))
        let schedule = try DDPMSchedule(contentsOf: model.appendingPathComponent("scheduler_config.json"))
        let stateURL = folder.appendingPathComponent(stateFileName)
        let contents = try SafeTensors.read(contentsOf: stateURL)
        let (tensors, metadata) = (contents.tensors, contents.metadata ?? [:])
        guard let stepText = metadata["step"], let step = Int(stepText),
              let adamText = metadata["adam_step"], let adamStep = Int(adamText),
              let cfgText = metadata["training_config"],
              let trainingConfig = try? JSONDecoder().decode(TrainingConfig.self, from: Data(cfgText.utf8)) else {
            throw CheckpointError.badMetadata(stateURL.path)
        }
        var byName: [String: Tensor] = [:]
        for (n, t) in tensors { byName[n] = t }
        let trainer = DenoiserTrainer(unet: UNet2D(config: config), schedule: schedule, data: data, config: trainingConfig)
        for (name, p) in trainer.unet.parameters {
            guard let w = byName["param." + name], let e = byName["ema." + name], w.count == p.count, e.count == p.count else {
                throw CheckpointError.missingTensor(stateURL.path, name)
            }
            p.data = w.data
            trainer.ema[name] = e.data
            if let m = byName["adam_m." + name], let v = byName["adam_v." + name] {
                trainer.optimizer.m[name] = m.data
                trainer.optimizer.v[name] = v.data
            }
        }
        trainer.optimizer.restore(stepCount: adamStep)
        trainer.step = step
        return trainer
    }
}

/// A checkpoint that cannot be resumed.
public enum CheckpointError: Error, CustomStringConvertible {
    case badMetadata(String)
    case missingTensor(String, String)

    public var description: String {
        switch self {
        case let .badMetadata(f): return "checkpoint '\(f)' lacks its step/config metadata (not written by diffrep train?)"
        case let .missingTensor(f, n): return "checkpoint '\(f)' lacks the training state of '\(n)'"
        }
    }
}
