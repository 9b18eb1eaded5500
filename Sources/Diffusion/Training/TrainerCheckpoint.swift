import Foundation
import SafeTensors
import TensorCore

/// Checkpoints: a folder holding the EMA model as a diffusers folder (`model/`, loadable by
/// ``UNet2D/init(contentsOf:)`` and by diffusers) and the exact training state
/// (`state.safetensors`: weights, AdamW moments, EMA; step and settings in its metadata).
/// Written to a temporary folder first and then renamed into place.
extension DenoiserTrainer {
    public static let stateFileName = "state.safetensors"

    /// Writes the checkpoint folder atomically: everything goes into a temporary sibling folder
    /// first; only once it is complete is the existing checkpoint moved aside (to
    /// `.NAME.old`), the new one renamed into place and the old one removed. A save that fails
    /// removes its temporary folder and leaves the existing checkpoint where it was; should the
    /// process die between the two renames, ``resume(from:data:)`` finds the complete
    /// `.NAME.old` and resumes from it.
    ///
    /// ```swift
    /// try trainer.saveCheckpoint(to: out.appendingPathComponent("checkpoint"))
    /// ```
    public func saveCheckpoint(to folder: URL) throws {
        try saveCheckpoint(to: folder, faultInjection: nil)
    }

    /// The points of a save where tests make it fail (``saveCheckpoint(to:faultInjection:)``).
    enum CheckpointStage {
        /// The new checkpoint is complete in the temporary folder; the old one is untouched.
        case written
        /// The old checkpoint has just been moved aside; the new one is not yet in place.
        case oldMovedAside
    }

    /// ``saveCheckpoint(to:)`` with a hook called at each ``CheckpointStage`` (a throw there
    /// simulates a failure at that point).
    func saveCheckpoint(to folder: URL, faultInjection: ((CheckpointStage) throws -> Void)?) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".\(folder.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: tmp)
        do {
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            try writeCheckpointContents(to: tmp)
            try faultInjection?(.written)
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }

        // Swap into place: folder → .old, tmp → folder, remove .old (rolled back on failure).
        let old = Self.asideURL(folder)
        let replacing = fm.fileExists(atPath: folder.path)
        do {
            if replacing {
                try? fm.removeItem(at: old)
                try fm.moveItem(at: folder, to: old)
                try faultInjection?(.oldMovedAside)
            }
            try fm.moveItem(at: tmp, to: folder)
        } catch {
            if replacing && !fm.fileExists(atPath: folder.path) { try? fm.moveItem(at: old, to: folder) }
            try? fm.removeItem(at: tmp)
            throw error
        }
        try? fm.removeItem(at: old)
    }

    /// Where the previous checkpoint waits while a new one is renamed into place.
    static func asideURL(_ folder: URL) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).old")
    }

    /// The EMA model (`model/`, with the scheduler config and the data's card) and `state.safetensors`.
    func writeCheckpointContents(to folder: URL) throws {
        try emaUNet().save(to: folder.appendingPathComponent("model"))
        try schedule.writeConfig(to: folder.appendingPathComponent("model/scheduler_config.json"))
        if let card = data.card { try TrainingDataCard.write(card, modelFolder: folder.appendingPathComponent("model")) }
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
                             to: folder.appendingPathComponent(Self.stateFileName))
    }

    /// Restores a trainer from a checkpoint folder written by ``saveCheckpoint(to:)``; it
    /// continues exactly where the saved run stopped (bit-identical parameters, EMA and AdamW
    /// state to a run never interrupted). The training settings come from the checkpoint. If
    /// `folder` holds no state but `.NAME.old` beside it does (a save died mid-swap), that one
    /// is used.
    ///
    /// ```swift
    /// let trainer = try DenoiserTrainer.resume(from: out.appendingPathComponent("checkpoint"), data: toys)
    /// while trainer.step < 10_000 { trainer.trainStep() }
    /// ```
    public static func resume(from folder: URL, data: TrainingData) throws -> DenoiserTrainer {
        let fm = FileManager.default
        var folder = folder
        let aside = asideURL(folder)
        if !fm.fileExists(atPath: folder.appendingPathComponent(stateFileName).path),
           fm.fileExists(atPath: aside.appendingPathComponent(stateFileName).path) {
            folder = aside          // a save died between its two renames: the previous checkpoint is complete here
        }
        let model = folder.appendingPathComponent("model")
        let config = try UNet2DConfig(contentsOf: model.appendingPathComponent("config.json"))
        let schedule = try DDPMSchedule(contentsOf: model.appendingPathComponent("scheduler_config.json"))
        let stateURL = folder.appendingPathComponent(stateFileName)
        let stateData: Data
        do { stateData = try Data(contentsOf: stateURL, options: .mappedIfSafe) } catch {
            throw CheckpointError.unreadable(stateURL.path, FileReadFailure.reason(stateURL, error))
        }
        let state = try TrainingCheckpointState(stateData, source: stateURL.path)
        let trainer = DenoiserTrainer(unet: UNet2D(config: config), schedule: schedule, data: data, config: state.config)
        try state.restore(into: trainer)
        return trainer
    }
}

/// A checkpoint that cannot be resumed; every case names the file.
public enum CheckpointError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The state file lacks its `step`, `adam_step` or `training_config` metadata.
    case badMetadata(String)
    /// A parameter's weights or EMA (the tensor's name) are not in the state file.
    case missingTensor(String, String)
    /// The state file could not be read: path, reason.
    case unreadable(String, String)
    /// The state file is not a valid safetensors file.
    case invalidFile(String, SafeTensorsError)
    /// A metadata value (or a `training_config` setting) outside what a run can take.
    case invalidValue(String, key: String, value: String, allowed: String)
    /// A state tensor whose shape is not its parameter's.
    case shapeMismatch(String, String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .badMetadata(f): return "checkpoint '\(f)' lacks its step/config metadata (not written by diffrep train?)"
        case let .missingTensor(f, n): return "checkpoint '\(f)' lacks the training state '\(n)'"
        case let .unreadable(f, why): return "cannot read checkpoint '\(f)': \(why)"
        case let .invalidFile(f, e): return "checkpoint '\(f)': \(e)"
        case let .invalidValue(f, key, value, allowed):
            return "checkpoint '\(f)': \(key) = \(value) is out of range (allowed: \(allowed)); the file was damaged or altered"
        case let .shapeMismatch(f, n, want, got): return "checkpoint '\(f)': '\(n)' has shape \(got), the model's is \(want)"
        }
    }

    public var errorDescription: String? { description }
}
