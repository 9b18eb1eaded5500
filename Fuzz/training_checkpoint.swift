// libFuzzer target: a training checkpoint's `state.safetensors` bytes → TrainingCheckpointState,
// restored into a trainer of a tiny UNet (what `diffrep train --resume` does after reading the
// model folder's config.json and scheduler_config.json, which have their own targets). A state
// that restores (with a batch small enough to be cheap) must also take a training step.
import Foundation
import Diffusion
import TensorCore

/// A few constant images: enough data for a trainer (the target never trains).
struct Ramps: TrainingData {
    var count: Int? { 2 }
    var numClasses: Int? { 1 }
    func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        (Tensor([indices.count, 1, 4, 4], data: [Float](repeating: 0.1, count: indices.count * 16)), indices.map { _ in 0 })
    }
}

nonisolated(unsafe) let trainer: DenoiserTrainer = {
    var c = UNet2DConfig()
    c.sampleSize = 4
    c.inChannels = 1
    c.outChannels = 1
    c.blockOutChannels = [2]           // one level, no attention: a state file of 38 kB
    c.downBlockTypes = ["DownBlock2D"]
    c.upBlockTypes = ["UpBlock2D"]
    c.addAttention = false
    c.layersPerBlock = 1
    c.normNumGroups = 1
    c.attentionHeadDim = 2
    c.numClassEmbeds = 2
    var settings = TrainingConfig()
    settings.batchSize = 2
    let t = DenoiserTrainer(unet: UNet2D(config: c, seed: 0), schedule: DDPMSchedule(), data: Ramps(), config: settings)
    // FUZZ_WRITE_SEED=DIR writes this trainer's checkpoint (DIR/state.safetensors is the valid seed).
    if let dir = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEED"] {
        t.trainStep()
        try! t.saveCheckpoint(to: URL(fileURLWithPath: dir))
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrainingCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let trainer = trainer   // made (and any seed written) before the first input
    guard let state = try? TrainingCheckpointState(Data(bytes: data, count: size), source: "fuzz/state.safetensors"),
          (try? state.restore(into: trainer)) != nil, state.config.batchSize <= 4 else { return 0 }
    let resumed = DenoiserTrainer(unet: UNet2D(config: trainer.unet.config, seed: 0), schedule: trainer.schedule,
                                  data: Ramps(), config: state.config)
    do { try state.restore(into: resumed) } catch { preconditionFailure("a state restored once fails the second time: \(error)") }
    resumed.trainStep()
    return 0
}
