import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion
import TestSupport

/// Conditioning beyond a class label: cameras reach a camera-aware network, class-only models
/// and user denoisers are unchanged, guidance keeps each item's camera, and the documented
/// conditioning equals diffusers' forward (fixture made by Fixtures/make_camera_fixture.py).
@Suite struct CameraConditioningTests {
    /// A 2-level UNet config for 8×8 images (channels 8, 16; heads of 4), `classes` class labels.
    static func smallConfig(classes: Int? = 3) -> UNet2DConfig {
        var c = UNet2DConfig()
        c.sampleSize = 8
        c.blockOutChannels = [8, 16]
        c.downBlockTypes = ["DownBlock2D", "AttnDownBlock2D"]
        c.upBlockTypes = ["AttnUpBlock2D", "UpBlock2D"]
        c.layersPerBlock = 1
        c.normNumGroups = 4
        c.attentionHeadDim = 4
        c.numClassEmbeds = classes
        return c
    }

    let cams = [CameraPose(azimuth: 0.3, elevation: 0.2), CameraPose(azimuth: 2.5, elevation: -0.1)]

    @Test func cameraAwareCopyStartsAsExactlyTheBaseModel() {
        let base = UNet2D(config: Self.smallConfig(), seed: 3)
        let aware = UNet2D(cameraAwareFrom: base)
        #expect(aware.readsCamera && !base.readsCamera)
        #expect(aware.config.inChannels == 6)
        var rng = RandomGenerator(seed: 1)
        let x = rng.normal([2, 3, 8, 8])
        let want = base.predict(x, timesteps: [10, 500], classLabels: [0, 2])
        let got = aware.predict(x, timesteps: [10, 500], conditions: zip([0, 2], cams).map { DenoiserCondition(classLabel: $0, camera: $1) })
        assertClose(got.data, want.data, rtol: 0, atol: 1e-6, "zero-initialised camera inputs")
    }

    @Test func aCameraChangeChangesTheOutputOfACameraAwareModel() {
        let aware = UNet2D(cameraAwareFrom: UNet2D(config: Self.smallConfig(), seed: 3))
        var rng = RandomGenerator(seed: 2)
        let w = aware.parameters["conv_in.weight"]!
        w.data = w.data.enumerated().map { i, v in (i / 9) % 6 >= 3 ? rng.normalValues(1)[0] * 0.3 : v }
        let x = rng.normal([1, 3, 8, 8])
        func out(_ camera: CameraPose?) -> [Float] {
            aware.predict(x, timesteps: [300], conditions: [DenoiserCondition(classLabel: 1, camera: camera)]).data
        }
        let a = out(cams[0]), b = out(cams[1]), none = out(nil)
        let diff = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(diff > 1e-3, "another camera should change the prediction (max |Δ| \(diff))")
        // "No camera" is the zero planes, and the image-only entry point means no camera.
        let imageOnly = aware.predict(x, timesteps: [300], classLabels: [1]).data
        assertClose(imageOnly, none, rtol: 0, atol: 0, "class-only call = no camera")
    }

    @Test func classOnlyModelsIgnoreCameras() {
        let unet = UNet2D(config: Self.smallConfig(), seed: 4)
        let d = DDPMDenoiser(network: unet, schedule: DDPMSchedule())
        var rng = RandomGenerator(seed: 3)
        let x = rng.normal([2, 3, 8, 8])
        let withCams = d.denoise(x, sigma: 0.7, conditions: zip([1, 2], cams).map { DenoiserCondition(classLabel: $0, camera: $1) })
        let classOnly = d.denoise(x, sigma: 0.7, condition: [1, 2])
        assertClose(withCams.data, classOnly.data, rtol: 0, atol: 0, "cameras must not change a class-only model")
    }

    /// A user's class-only denoiser gets the class labels through the protocol's default.
    @Test func userDenoisersKeepWorking() {
        final class Recorder: Denoiser, @unchecked Sendable {
            var seen: [[Int]?] = []
            func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor { seen.append(condition); return x }
        }
        let r = Recorder()
        let x = Tensor([2, 1, 1, 1], data: [1, 2])
        _ = r.denoise(x, sigma: 1, conditions: [DenoiserCondition(classLabel: 4, camera: cams[0]), DenoiserCondition(classLabel: 5)])
        _ = r.denoise(x, sigma: 1, conditions: [DenoiserCondition(camera: cams[0]), DenoiserCondition(classLabel: 5)])
        #expect(r.seen.count == 2 && r.seen[0] == [4, 5] && r.seen[1] == nil)
    }

    /// Guidance mixes conditional and null class while keeping each item's camera.
    @Test func guidanceKeepsTheCameraInBothHalves() {
        final class Recorder: Denoiser, @unchecked Sendable {
            var seen: [[DenoiserCondition]?] = []
            func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor { x }
            func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor { seen.append(conditions); return x }
        }
        let r = Recorder()
        let guided = GuidedDenoiser(base: r, guidance: 3, nullClass: 6)
        let x = Tensor([2, 1, 1, 1], data: [1, 2])
        _ = guided.denoise(x, sigma: 1, conditions: zip([0, 4], cams).map { DenoiserCondition(classLabel: $0, camera: $1) })
        #expect(r.seen.count == 1)
        let all = r.seen[0]!
        #expect(all.map(\.classLabel) == [0, 4, 6, 6])
        #expect(all.map(\.camera) == [cams[0], cams[1], cams[0], cams[1]])
    }

    @Test func documentedConditioningEqualsDiffusers() throws {
        let folder = try #require(Bundle.module.url(forResource: "unet_camera", withExtension: nil, subdirectory: "Fixtures"))
        let unet = try UNet2D(contentsOf: folder)
        #expect(unet.readsCamera)
        let io = try SafeTensors.read(contentsOf: folder.appendingPathComponent("io.safetensors")).dictionary
        let x = try #require(io["sample"]), d = try #require(io["directions"]), want = try #require(io["output"])
        let labels = try #require(io["class_labels"]).data.map { Int($0) }
        let conditions = (0..<x.shape[0]).map { i -> DenoiserCondition in
            let v = SIMD3(d.data[3 * i], d.data[3 * i + 1], d.data[3 * i + 2])
            return DenoiserCondition(classLabel: labels[i], camera: (v * v).sum() > 0 ? CameraPose(direction: v) : nil)
        }
        let got = unet.predict(x, timesteps: try #require(io["timesteps"]).data, conditions: conditions)
        let scale = want.data.map(abs).max()!
        assertClose(got.data, want.data, rtol: 0, atol: 1e-4 * scale, "camera-aware UNet vs diffusers")
    }

    /// Checkpoints written before cameras existed still decode (camera dropout takes its default).
    @Test func oldTrainingConfigsDecode() throws {
        let old = #"{"batchSize":16,"learningRate":0.0005,"warmupSteps":200,"weightDecay":0.0001,"gradientClip":1,"emaDecay":0.999,"classDropout":0.1,"randomFlip":true,"seed":0}"#
        let c = try JSONDecoder().decode(TrainingConfig.self, from: Data(old.utf8))
        #expect(c.batchSize == 16 && c.cameraDropout == 0.1 && c.classEmbeddingLearningRateScale == 1 && c.randomFlip)
    }

    /// A camera-aware training step reads the data's cameras (a data source without cameras
    /// trains the camera inputs on "no camera" only, so they get no gradient).
    @Test func trainingPassesCamerasToTheNetwork() {
        struct Views: TrainingData {
            var count: Int? { 8 }
            var numClasses: Int? { 2 }
            let withCameras: Bool
            func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
                var rng = RandomGenerator(seed: 9)
                return (rng.normal([indices.count, 3, 8, 8]), indices.map { $0 % 2 })
            }
            func cameras(_ indices: [Int]) -> [CameraPose]? {
                withCameras ? indices.map { CameraPose(azimuth: Float($0), elevation: 0.2) } : nil
            }
        }
        var config = TrainingConfig()
        config.batchSize = 4
        config.randomFlip = false
        config.cameraDropout = 0
        func cameraWeightGradient(_ data: Views) -> Float {
            let unet = UNet2D(cameraAwareFrom: UNet2D(config: Self.smallConfig(), seed: 5))
            let trainer = DenoiserTrainer(unet: unet, schedule: DDPMSchedule(), data: data, config: config)
            let batch = trainer.noisyBatch(step: 0, indices: [0, 1, 2, 3])
            let pred = unet.predict(batch.input, timesteps: batch.timesteps,
                                    conditions: DenoiserCondition.combining(classLabels: batch.labels, cameras: batch.cameras))
            (pred - batch.noise).square().mean().backward()
            let g = unet.parameters["conv_in.weight"]!.grad!
            return g.enumerated().filter { ($0.offset / 9) % 6 >= 3 }.map { abs($0.element) }.max()!
        }
        #expect(cameraWeightGradient(Views(withCameras: true)) > 0)
        #expect(cameraWeightGradient(Views(withCameras: false)) == 0)
    }
}

/// A denoiser that records what it is told and returns its input halved.
private final class RecordingDenoiser: Denoiser, @unchecked Sendable {
    var seen: [[DenoiserCondition]?] = []
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        denoise(x, sigma: sigma, conditions: DenoiserCondition.classes(condition))
    }
    func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor {
        seen.append(conditions)
        return x.scaled(by: 0.5)
    }
}

/// Image samplers pass each item's camera (what `diffrep sample --views` draws with), and a
/// shared starting noise makes every item start from the same draw.
@Suite struct SamplerCameraTests {
    @Test func samplersPassClassAndCameraPerItem() throws {
        let cams: [CameraPose?] = [CameraPose(azimuth: 0, elevation: 0.3), nil]
        let config = SamplerConfig(sigmas: [2, 1, 0], seed: 3, condition: [4, 5], cameras: cams)
        #expect(config.conditions == [DenoiserCondition(classLabel: 4, camera: cams[0]), DenoiserCondition(classLabel: 5)])
        #expect(SamplerConfig(sigmas: [2, 0], seed: 3, condition: [1]).conditions == [DenoiserCondition(classLabel: 1)])
        #expect(SamplerConfig(sigmas: [2, 0], seed: 3).conditions == nil)
        for sampler in [DDIMSampler() as any ImageSampler, EulerSampler(), HeunSampler()] {
            let d = RecordingDenoiser()
            _ = try sampler.sample(d, shape: [2, 1, 2, 2], config: config, progress: nil)
            #expect(!d.seen.isEmpty && d.seen.allSatisfy { $0 == config.conditions }, "\(type(of: sampler))")
        }
    }

    @Test func sharedInitialNoiseRepeatsOneDraw() {
        var config = SamplerConfig(sigmas: [2, 0], seed: 9)
        let independent = config.initialNoise(shape: [3, 2, 4, 4]).data
        #expect(independent[0..<32] != independent[32..<64])
        config.sharedInitialNoise = true
        let shared = config.initialNoise(shape: [3, 2, 4, 4]).data
        #expect(shared[0..<32] == shared[32..<64] && shared[0..<32] == shared[64..<96])
        #expect(Array(shared[0..<32]) == SamplerConfig(sigmas: [2, 0], seed: 9).initialNoise(shape: [1, 2, 4, 4]).data)
    }
}
