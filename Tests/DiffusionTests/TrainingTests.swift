import DefaultModel
import Toys
import Foundation
import Testing
import TensorCore
@testable import Diffusion

/// Tiny deterministic training data: 8×8 colour ramps whose hue follows the class (3 classes),
/// with a random direction and offset per item. Finite (`count` 48) so batches come from
/// seeded per-epoch permutations; any index renders, so indices ≥ 48 serve as held-out items.
struct ColourRamps: TrainingData {
    var count: Int? = 48
    var numClasses: Int? = 3
    let size = 8

    func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        let per = 3 * size * size
        var data = [Float](repeating: 0, count: indices.count * per)
        for (b, i) in indices.enumerated() {
            var rng = RandomGenerator(seed: 99).fork(UInt64(i))
            let u = rng.uniformValues(3)
            let label = i % 3
            let (dx, dy, offset) = (2 * u[0] - 1, 2 * u[1] - 1, u[2] - 0.5)
            for c in 0..<3 {
                let strength: Float = c == label ? 0.9 : -0.6
                for y in 0..<size { for x in 0..<size {
                    let ramp = (dx * Float(x) + dy * Float(y)) / Float(size) + offset
                    data[b * per + (c * size + y) * size + x] = Swift.max(-1, Swift.min(1, strength + 0.4 * ramp))
                } }
            }
        }
        return (Tensor([indices.count, 3, size, size], data: data), indices.map { $0 % 3 })
    }
}

/// A "network" that always predicts zero (its held-out losses are known in closed form).
struct ZeroNetwork: NoisePredictionNetwork {
    func predict(_ x: Tensor, timesteps: [Float], classLabels: [Int]?) -> Tensor {
        Tensor(x.shape, data: [Float](repeating: 0, count: x.count))
    }
}

@Suite struct TrainingTests {
    /// A 2-level UNet (channels 8, 16; attention at the 4×4 level) for 8×8 images.
    static func tinyUNet(classes: Int? = 3, seed: UInt64 = 5) -> UNet2D {
        var c = UNet2DConfig()
        c.sampleSize = 8
        c.blockOutChannels = [8, 16]
        c.downBlockTypes = ["DownBlock2D", "AttnDownBlock2D"]
        c.upBlockTypes = ["AttnUpBlock2D", "UpBlock2D"]
        c.layersPerBlock = 1
        c.normNumGroups = 4
        c.attentionHeadDim = 8
        c.numClassEmbeds = classes.map { $0 + 1 }
        return UNet2D(config: c, seed: seed)
    }

    static func trainingConfig() -> TrainingConfig {
        var t = TrainingConfig()
        t.batchSize = 4
        t.learningRate = 3e-3
        t.warmupSteps = 5
        t.classDropout = 0.3
        t.randomFlip = true
        t.seed = 11
        return t
    }

    static func trainer(seed: UInt64 = 5) -> DenoiserTrainer {
        DenoiserTrainer(unet: tinyUNet(seed: seed), schedule: DDPMSchedule(), data: ColourRamps(), config: trainingConfig())
    }

    static let heldOutItems = Array(1000..<1032)

    @Test func trainingLowersTheLoss() {
        let trainer = Self.trainer()
        let before = trainer.heldOutLoss(network: trainer.unet, items: Self.heldOutItems)
        let losses = (0..<60).map { _ in trainer.trainStep() }
        let after = trainer.heldOutLoss(network: trainer.unet, items: Self.heldOutItems)
        let first = losses.prefix(10).reduce(0, +) / 10, last = losses.suffix(10).reduce(0, +) / 10
        #expect(trainer.step == 60)
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(last < 0.7 * first, "training loss: first 10 steps \(first), last 10 \(last)")
        let meanBefore = before.reduce(0, +) / Float(before.count), meanAfter = after.reduce(0, +) / Float(after.count)
        #expect(meanAfter < 0.6 * meanBefore, "held-out ε-loss per band: before \(before), after \(after)")
        // Every band improves, not just the easy high-noise ones.
        for (b, a) in zip(before, after) { #expect(a < b, "held-out ε-loss per band: before \(before), after \(after)") }
    }

    @Test func resumedRunIsBitIdenticalToAnUninterruptedOne() throws {
        let n = 4
        let straight = Self.trainer()
        let straightLosses = (0..<(2 * n)).map { _ in straight.trainStep() }

        let first = Self.trainer()
        for _ in 0..<n { first.trainStep() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("checkpoint")
        try first.saveCheckpoint(to: ckpt)
        let resumed = try DenoiserTrainer.resume(from: ckpt, data: ColourRamps())
        #expect(resumed.step == n && resumed.config == first.config && resumed.schedule == first.schedule)
        let resumedLosses = (0..<n).map { _ in resumed.trainStep() }

        #expect(resumedLosses == Array(straightLosses.suffix(n)))
        #expect(resumed.step == straight.step && resumed.optimizer.stepCount == straight.optimizer.stepCount)
        #expect(resumed.unet.parameters.names == straight.unet.parameters.names)
        var differing: [String] = [], compared = 0
        for (name, p) in straight.unet.parameters {
            let q = try #require(resumed.unet.parameters[name])
            let same = q.data == p.data && resumed.ema[name] == straight.ema[name]
                && resumed.optimizer.m[name] == straight.optimizer.m[name] && resumed.optimizer.v[name] == straight.optimizer.v[name]
            if !same { differing.append(name) }
            compared += straight.optimizer.m[name] == nil ? 0 : 1
        }
        #expect(differing.isEmpty, "parameters, EMA or Adam moments differ after resuming: \(differing.count) tensors, e.g. \(differing.prefix(3))")
        #expect(compared == straight.unet.parameters.count, "every parameter has Adam state")
        // The model/ folder holds the EMA weights, loadable as a plain diffusers folder.
        let shipped = try UNet2D(contentsOf: ckpt.appendingPathComponent("model"))
        let notEMA = shipped.parameters.filter { $0.1.data != first.ema[$0.0] }.map(\.0)
        #expect(notEMA.isEmpty, "model/ does not hold the EMA weights: \(notEMA.prefix(3))")
    }

    /// Names in `dir` other than the checkpoint itself (temporary or set-aside folders).
    static func leftovers(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "checkpoint" }.sorted()
    }

    @Test func failedSavesLeaveTheOldCheckpointLoadable() throws {
        struct SimulatedFailure: Error {}
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("checkpoint")
        let trainer = Self.trainer()
        trainer.trainStep()
        try trainer.saveCheckpoint(to: ckpt)
        trainer.trainStep()

        for stage in [DenoiserTrainer.CheckpointStage.written, .oldMovedAside] {
            #expect(throws: SimulatedFailure.self) {
                try trainer.saveCheckpoint(to: ckpt) { if $0 == stage { throw SimulatedFailure() } }
            }
            #expect(try DenoiserTrainer.resume(from: ckpt, data: ColourRamps()).step == 1, "after a failure at \(stage)")
            #expect(try Self.leftovers(dir) == [], "after a failure at \(stage)")
        }

        // A real failure: the temporary folder's name (".NAME.tmp-PID") is too long for the file system.
        let long = dir.appendingPathComponent(String(repeating: "c", count: 250))
        try FileManager.default.moveItem(at: ckpt, to: long)
        #expect(throws: CocoaError.self) { try trainer.saveCheckpoint(to: long) }   // the file system's refusal
        #expect(try DenoiserTrainer.resume(from: long, data: ColourRamps()).step == 1)
        try FileManager.default.moveItem(at: long, to: ckpt)
        #expect(try Self.leftovers(dir) == [])

        // A successful save replaces it and cleans up.
        try trainer.saveCheckpoint(to: ckpt)
        #expect(try DenoiserTrainer.resume(from: ckpt, data: ColourRamps()).step == 2)
        #expect(try Self.leftovers(dir) == [])

        // A process killed between the two renames leaves only ".checkpoint.old": resume finds it.
        try FileManager.default.moveItem(at: ckpt, to: DenoiserTrainer.asideURL(ckpt))
        #expect(try DenoiserTrainer.resume(from: ckpt, data: ColourRamps()).step == 2)
        trainer.trainStep()
        try trainer.saveCheckpoint(to: ckpt)
        #expect(try DenoiserTrainer.resume(from: ckpt, data: ColourRamps()).step == 3)
        #expect(try Self.leftovers(dir) == [])
    }

    @Test func heldOutLossesOfAZeroNetworkAreKnown() {
        let schedule = DDPMSchedule()
        let bands = [0..<100, 600..<1000]
        // ε-prediction of zero: ε-MSE = mean ε² ≈ 1; x̂₀ = x₀ + σ_t ε, so x₀-MSE lies within the band's σ².
        let eval = HeldOutEvaluation(data: ColourRamps(), items: Array(0..<32), bands: bands, seed: 3, batchSize: 5)
        let eps = eval.evaluate(network: ZeroNetwork(), schedule: schedule, prediction: .epsilon, nullClass: 3)
        for r in eps {
            #expect(abs(r.epsilonMSE - 1) < 0.05, "\(r)")
            let (lo, hi) = (Double(r.sigmaRange.lowerBound), Double(r.sigmaRange.upperBound))
            #expect(r.x0MSE > 0.9 * lo * lo && r.x0MSE < 1.1 * hi * hi, "\(r)")
            #expect(r.count == 32)
            #expect(r.clippedX0MSE <= r.x0MSE && r.clippedX0MSE <= 4, "\(r)")
        }
        // x₀-prediction of zero: x₀-MSE = mean x₀², whatever the band.
        let x0 = ColourRamps().batch(Array(0..<32)).images.data
        let meanSquare = x0.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x0.count)
        for r in eval.evaluate(network: ZeroNetwork(), schedule: schedule, prediction: .sample, nullClass: nil) {
            #expect(abs(r.x0MSE - meanSquare) < 1e-9, "\(r)")
            #expect(r.clippedX0MSE == r.x0MSE, "x̂₀ = 0 needs no clipping: \(r)")
        }
        // Batching does not change the draws.
        var single = eval
        single.batchSize = 32
        #expect(single.evaluate(network: ZeroNetwork(), schedule: schedule, prediction: .epsilon, nullClass: 3) == eps)
    }

    /// σ = 0.5 on a batch of held-out toys, through the DDPM wrapper, with the null class.
    static func denoisingMSE(_ unet: UNet2D, schedule: DDPMSchedule) -> (model: Double, identity: Double) {
        let toys = ToyDataset(seed: 0, size: unet.config.sampleSize)
        let x0 = toys.batch(Array((1 << 40)..<((1 << 40) + 8))).images          // [8, 3, 32, 32]
        var rng = RandomGenerator(seed: 21)
        let noisy = x0 + rng.normal(x0.shape).scaled(by: 0.5)
        let denoiser = DDPMDenoiser(network: unet, schedule: schedule)
        let null = unet.config.numClassEmbeds.map { [Int](repeating: $0 - 1, count: 8) }
        let d = GradMode.withoutGrad { denoiser.denoise(noisy, sigma: 0.5, condition: null) }
        func mse(_ a: Tensor) -> Double {
            zip(a.data, x0.data).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(x0.count)
        }
        return (mse(d), mse(noisy))
    }

    @Test func shippedWeightsDenoiseToys() throws {
        let folder = DefaultModel.folder
        let unet = try UNet2D(contentsOf: folder)
        let schedule = try DDPMSchedule(contentsOf: folder.appendingPathComponent("scheduler_config.json"))
        let (model, identity) = Self.denoisingMSE(unet, schedule: schedule)
        #expect(abs(identity - 0.25) < 0.02, "the noise itself: \(identity)")
        #expect(model < 0.5 * identity, "denoised MSE \(model) vs noisy \(identity) at σ = 0.5")
    }
}
