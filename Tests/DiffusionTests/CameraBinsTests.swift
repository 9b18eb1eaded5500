import Foundation
import JSON
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion
import TestSupport

/// The second camera route: view bins folded into the class label (``CameraBins``).
@Suite struct CameraBinsTests {
    @Test func binsFollowTheOrbit() {
        let bins = CameraBins(azimuthBins: 8, elevationBins: 2, elevationMinDegrees: -10, elevationMaxDegrees: 50)
        func bin(_ azDeg: Float, _ elDeg: Float) -> Int { bins.bin(CameraPose(azimuth: azDeg * .pi / 180, elevation: elDeg * .pi / 180)) }
        #expect(bin(0, 0) == 0 && bin(0, 25) == 1)                 // azimuth bin 0, elevation bins 0 and 1
        #expect(bin(21, 0) == 0 && bin(-21, 0) == 0)               // bins are centred: ±22.5°
        #expect(bin(24, 0) == 2 && bin(-24, 0) == 7 * 2)           // the next bin each way
        #expect(bin(90, 40) == 2 * 2 + 1 && bin(180, 0) == 4 * 2)
        #expect(bin(0, -60) == 0 && bin(0, 80) == 1)                // clamped into the range
        #expect(bins.bin(nil) == 16 && bins.count == 16)
        #expect(bins.embeddingRow(classLabel: 2, camera: nil) == 2 * 17 + 16)
        #expect(CameraBins(azimuthBins: 0).problem != nil && CameraBins(elevationMinDegrees: 30, elevationMaxDegrees: 10).problem != nil)
    }

    @Test func binnedCopyStartsAsTheBaseAndLearnsPerView() {
        let base = UNet2D(config: CameraConditioningTests.smallConfig(), seed: 5)
        let bins = CameraBins(azimuthBins: 4, elevationBins: 1)
        let aware = UNet2D(cameraBinsFrom: base, bins: bins)
        #expect(aware.isCameraAware && !aware.readsCamera && aware.config.numClassEmbeds == 3 * 5)
        #expect(aware.config.classCount == 3 && aware.config.nullClass == 2)
        var rng = RandomGenerator(seed: 1)
        let x = rng.normal([3, 3, 8, 8])
        let front = CameraPose(azimuth: 0, elevation: 0.2), side = CameraPose(azimuth: .pi / 2, elevation: 0.2)
        let want = base.predict(x, timesteps: [10, 500, 900], classLabels: [0, 1, 2])
        let got = aware.predict(x, timesteps: [10, 500, 900], conditions: [
            DenoiserCondition(classLabel: 0, camera: front), DenoiserCondition(classLabel: 1, camera: side),
            DenoiserCondition(camera: nil)])                                          // no class: the null class
        assertClose(got.data, want.data, rtol: 0, atol: 1e-6, "every view row starts as its class's row")
        // Once the side view's row of class 1 differs, only that view changes.
        let table = aware.parameters["class_embedding.weight"]!, t = table.shape[1]
        let row = bins.embeddingRow(classLabel: 1, camera: side)
        for j in 0..<t { table.data[row * t + j] += 0.5 }
        let x1 = rng.normal([1, 3, 8, 8])
        func out(_ c: CameraPose?) -> [Float] { aware.predict(x1, timesteps: [400], conditions: [DenoiserCondition(classLabel: 1, camera: c)]).data }
        let changed = zip(out(side), out(front)).map { abs($0 - $1) }.max()!
        #expect(changed > 1e-3, "the side view's row changed (max |Δ| \(changed))")
        assertClose(out(front), out(nil), rtol: 0, atol: 0, "other views still share the class row")
        assertClose(aware.predict(x1, timesteps: [400], classLabels: [1]).data, out(nil), rtol: 0, atol: 0, "class-only call = no camera")
    }

    @Test func planesAreDroppedAndTheConfigRoundTrips() throws {
        let planes = UNet2D(cameraAwareFrom: UNet2D(config: CameraConditioningTests.smallConfig(), seed: 6))
        let aware = UNet2D(cameraBinsFrom: planes, bins: CameraBins(azimuthBins: 4, elevationBins: 2))
        #expect(aware.config.inChannels == 3)
        var rng = RandomGenerator(seed: 2)
        let x = rng.normal([1, 3, 8, 8])
        assertClose(aware.predict(x, timesteps: [300], classLabels: [1]).data,
                    planes.predict(x, timesteps: [300], classLabels: [1]).data, rtol: 0, atol: 1e-6, "= the planes model told no camera")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bins-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try aware.save(to: folder)
        let loaded = try UNet2D(contentsOf: folder)
        #expect(loaded.config == aware.config)
        let cam = CameraPose(azimuth: 1, elevation: 0.3)
        assertClose(loaded.predict(x, timesteps: [300], conditions: [DenoiserCondition(classLabel: 0, camera: cam)]).data,
                    aware.predict(x, timesteps: [300], conditions: [DenoiserCondition(classLabel: 0, camera: cam)]).data,
                    rtol: 0, atol: 0, "saved and loaded")
        // A config whose table does not fit the bins is refused, naming the key.
        var json = aware.config.configJSON()
        json["num_class_embeds"] = 10
        let data = try json.encoded()
        let bins = try #require(aware.config.cameraBins)
        #expect(throws: UNetConfigError.inconsistent("config.json", "\(CameraBins.configKey) needs num_class_embeds = classes × \(bins.count + 1) (the view bins and \"no camera\"), got 10")) {
            try UNet2DConfig(json: data)
        }
    }

    /// The documented conditioning equals diffusers' forward on the same weights (fixture by
    /// Fixtures/make_camera_bins_fixture.py, which computes the rows with its own bin function).
    @Test func documentedConditioningEqualsDiffusers() throws {
        let folder = try #require(Bundle.module.url(forResource: "unet_camera_bins", withExtension: nil, subdirectory: "Fixtures"))
        let unet = try UNet2D(contentsOf: folder)
        let bins = try #require(unet.config.cameraBins)
        #expect(bins == CameraBins(azimuthBins: 4, elevationBins: 2, elevationMinDegrees: -10, elevationMaxDegrees: 45))
        let io = try SafeTensors.read(contentsOf: folder.appendingPathComponent("io.safetensors")).dictionary
        let x = try #require(io["sample"]), d = try #require(io["directions"]), want = try #require(io["output"])
        let labels = try #require(io["class_labels"]).data.map { Int($0) }
        let conditions = (0..<x.shape[0]).map { i -> DenoiserCondition in
            let v = SIMD3(d.data[3 * i], d.data[3 * i + 1], d.data[3 * i + 2])
            return DenoiserCondition(classLabel: labels[i], camera: (v * v).sum() > 0 ? CameraPose(direction: v) : nil)
        }
        #expect(conditions.map { bins.embeddingRow(classLabel: $0.classLabel!, camera: $0.camera) }
                == (try #require(io["rows"])).data.map { Int($0) })
        let got = unet.predict(x, timesteps: try #require(io["timesteps"]).data, conditions: conditions)
        let scale = want.data.map(abs).max()!
        assertClose(got.data, want.data, rtol: 0, atol: 1e-4 * scale, "camera-bins UNet vs diffusers")
    }
}
