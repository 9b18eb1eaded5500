import Foundation
import Testing
import TensorCore
@testable import Diffusion
import TestSupport

/// ``UNet2D/widened(by:noise:seed:)``: twice the channels, the same function.
@Suite struct WidenTests {
    /// A class-conditional UNet with attention at level 1 (heads of 32, 8 GroupNorm groups).
    static func config(channels: [Int] = [32, 64], layers: Int = 1, sampleSize: Int = 16) -> UNet2DConfig {
        var c = UNet2DConfig()
        c.sampleSize = sampleSize
        c.blockOutChannels = channels
        c.downBlockTypes = channels.indices.map { $0 == 1 ? "AttnDownBlock2D" : "DownBlock2D" }
        c.upBlockTypes = channels.indices.reversed().map { $0 == 1 ? "AttnUpBlock2D" : "UpBlock2D" }
        c.layersPerBlock = layers
        c.normNumGroups = 8
        c.attentionHeadDim = 32
        c.numClassEmbeds = 4
        return c
    }

    /// A random UNet whose norm parameters are random too (freshly built ones are 1 and 0,
    /// which would hide a wrong map of the norm parameters).
    static func network(_ c: UNet2DConfig, seed: UInt64) -> UNet2D {
        let unet = UNet2D(config: c, seed: seed)
        var rng = RandomGenerator(seed: seed &+ 100)
        for (name, p) in unet.parameters where name.contains("norm") {
            let z = rng.normalValues(p.count)
            p.data = zip(p.data, z).map { $0 + 0.3 * $1 }
        }
        return unet
    }

    /// The largest |a − b| relative to the largest |b|.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.data.map(abs).max()!
        return zip(a.data, b.data).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: [1, 2])
    func exactCopyComputesTheSameFunction(layers: Int) throws {
        let base = Self.network(Self.config(layers: layers), seed: 7)
        let wide = try base.widened(by: 2, noise: 0, seed: 0)
        #expect(wide.config.blockOutChannels == [64, 128])
        #expect(wide.config.timeEmbedDim == 256 && wide.config.attentionHeadDim == 32 && wide.config.normNumGroups == 8)
        #expect(wide.parameters["down_blocks.1.attentions.0.to_q.weight"]!.shape == [128, 128])
        #expect(wide.parameters["class_embedding.weight"]!.shape == [4, 256])
        #expect(wide.parameters["conv_in.weight"]!.shape == [64, 3, 3, 3])
        var rng = RandomGenerator(seed: 3)
        let x = rng.normal([3, 3, 16, 16])
        let t: [Float] = [3, 420.5, 999], labels = [0, 2, 3]
        let want = base.predict(x, timesteps: t, classLabels: labels)
        let got = wide.predict(x, timesteps: t, classLabels: labels)
        let err = Self.relativeError(got, want)
        #expect(err < 1e-4, "widened output differs by \(err) of the output scale")
    }

    @Test func threeLevelsLikeTheToysModel() throws {
        let base = Self.network(Self.config(channels: [32, 64, 64]), seed: 11)
        let wide = try base.widened(noise: 0)
        #expect(wide.config.blockOutChannels == [64, 128, 128])
        var rng = RandomGenerator(seed: 4)
        let x = rng.normal([2, 3, 16, 16])
        let err = Self.relativeError(wide.predict(x, timesteps: [50, 700], classLabels: [1, 3]),
                                     base.predict(x, timesteps: [50, 700], classLabels: [1, 3]))
        #expect(err < 1e-4, "relative error \(err)")
    }

    @Test func multiViewCameraBinsModelKeepsItsFunctionAndConfig() throws {
        var c = Self.config(channels: [32, 64, 64], sampleSize: 32)
        let bins = CameraBins(azimuthBins: 4, elevationBins: 1)
        c.numClassEmbeds = 3 * (bins.count + 1)
        c.cameraBins = bins
        c.viewTiles = true
        try c.validate()
        let base = Self.network(c, seed: 12)
        let wide = try base.widened(noise: 0)
        #expect(wide.config.cameraBins == bins && wide.config.viewTiles && wide.config.numClassEmbeds == 15)
        #expect(wide.parameters["class_embedding.weight"]!.shape == [15, 256])
        var rng = RandomGenerator(seed: 5)
        let x = rng.normal([2, 3, 32, 32])                                         // two items of 2×2 views
        let conditions = [DenoiserCondition(classLabel: 1, camera: CameraPose(azimuth: 0.4, elevation: 0.1)),
                          DenoiserCondition(classLabel: nil, camera: nil)]
        let err = Self.relativeError(wide.predict(x, timesteps: [100, 800], conditions: conditions),
                                     base.predict(x, timesteps: [100, 800], conditions: conditions))
        #expect(err < 1e-4, "relative error \(err)")

        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try wide.save(to: folder)
        let loaded = try UNet2D(contentsOf: folder)
        #expect(loaded.config == wide.config)
    }

    @Test func cameraPlanesStayUnwidened() throws {
        let base = UNet2D(cameraAwareFrom: Self.network(Self.config(), seed: 13))
        for (name, p) in base.parameters where name == "conv_in.weight" {       // make the camera inputs matter
            var rng = RandomGenerator(seed: 9)
            p.data = rng.uniform(p.shape, in: -0.2...0.2).data
        }
        let wide = try base.widened(noise: 0)
        #expect(wide.readsCamera && wide.parameters["conv_in.weight"]!.shape == [64, 6, 3, 3])
        var rng = RandomGenerator(seed: 6)
        let x = rng.normal([2, 3, 16, 16])
        let cond = [DenoiserCondition(classLabel: 0, camera: CameraPose(azimuth: 1, elevation: 0.3)),
                    DenoiserCondition(classLabel: 2, camera: CameraPose(azimuth: -2, elevation: 0))]
        let err = Self.relativeError(wide.predict(x, timesteps: [10, 600], conditions: cond),
                                     base.predict(x, timesteps: [10, 600], conditions: cond))
        #expect(err < 1e-4, "relative error \(err)")
    }

    @Test func noiseBreaksTheSymmetryButKeepsTheFunctionClose() throws {
        let base = Self.network(Self.config(), seed: 8)
        let exact = try base.widened(noise: 0)
        let noisy = try base.widened(noise: 1e-3, seed: 21)
        let again = try base.widened(noise: 1e-3, seed: 21)
        var changedWeights = 0
        for (name, p) in noisy.parameters {
            let e = exact.parameters[name]!
            #expect(p.data == again.parameters[name]!.data, "\(name): the same seed gives the same noise")
            if p.rank >= 2 {
                if p.data != e.data { changedWeights += 1 }
            } else {
                #expect(p.data == e.data, "\(name): biases and norm parameters stay exact")
            }
        }
        #expect(changedWeights == noisy.parameters.filter { $0.1.rank >= 2 }.count, "every weight tensor gets noise")
        // The two copies of a channel now differ: conv_in's output channels 0 and 4 copy old channel 0.
        let w = noisy.parameters["conv_in.weight"]!, k = 3 * 3 * 3
        #expect(Array(w.data[0..<k]) != Array(w.data[(4 * k)..<(5 * k)]))
        let ew = exact.parameters["conv_in.weight"]!
        #expect(Array(ew.data[0..<k]) == Array(ew.data[(4 * k)..<(5 * k)]))

        var rng = RandomGenerator(seed: 2)
        let x = rng.normal([2, 3, 16, 16])
        let want = base.predict(x, timesteps: [30, 900], classLabels: [0, 1])
        let err = Self.relativeError(noisy.predict(x, timesteps: [30, 900], classLabels: [0, 1]), want)
        #expect(err > 1e-6 && err < 1e-2, "noise 1e-3 moves the output by \(err) of its scale")
    }

    /// The test above can fail: a widened network with the attention heads mixed (the hidden
    /// map on q and k) or with the timestep features duplicated instead of re-indexed is wrong.
    @Test func wrongMapsAreDetected() throws {
        let base = Self.network(Self.config(), seed: 14)
        var rng = RandomGenerator(seed: 1)
        let x = rng.normal([2, 3, 16, 16])
        let want = base.predict(x, timesteps: [200, 700], classLabels: [0, 3])
        func error(after damage: (UNet2D) -> Void) throws -> Float {
            let wide = try base.widened(noise: 0)
            damage(wide)
            return Self.relativeError(wide.predict(x, timesteps: [200, 700], classLabels: [0, 3]), want)
        }
        #expect(try error { _ in } < 1e-4)
        let mixedHeads = try error { wide in
            for part in ["to_q", "to_k"] {
                let name = "down_blocks.1.attentions.0.\(part).weight"
                let p = wide.parameters[name]!
                p.data = UNet2D.widen(base.parameters[name]!, axes: [.duplicated(block: 4), .halved(block: 4)]).values
            }
        }
        #expect(mixedHeads > 1e-3, "heads mixed: error \(mixedHeads)")
        let duplicatedFeatures = try error { wide in
            let name = "time_embedding.linear_1.weight"
            let p = wide.parameters[name]!
            p.data = UNet2D.widen(base.parameters[name]!, axes: [.duplicated(block: 4), .halved(block: 4)]).values
        }
        #expect(duplicatedFeatures > 1e-3, "timestep features duplicated: error \(duplicatedFeatures)")
    }

    @Test func widerTimestepFeaturesHoldTheNarrowerOnes() {
        let t: [Float] = [0, 1, 17.5, 999]
        let narrow = timestepFeatures(t, dim: 32, flipSinToCos: true, shift: 0)
        let wide = timestepFeatures(t, dim: 64, flipSinToCos: true, shift: 0)
        let sources = WidenMap.Axis.timestepFrequencies.sources(oldWidth: 32)
        for b in t.indices {
            for (j, s) in sources.enumerated() {
                guard let (c, _) = s else { continue }
                #expect(wide.data[b * 64 + j] == narrow.data[b * 32 + c], "t \(t[b]): new column \(j), old \(c)")
            }
        }
    }

    @Test func unsupportedConfigsAreRefusedWithTheReason() throws {
        let base = Self.network(Self.config(), seed: 1)
        #expect(throws: UNetWidenError.unsupportedFactor(3)) { try base.widened(by: 3, noise: 0) }
        #expect(throws: UNetWidenError.badNoise(-1)) { try base.widened(noise: -1) }

        let small = UNet2D(config: CameraConditioningTests.smallConfig(), seed: 1)   // [8, 16], 4 groups: groups of 2
        #expect(throws: UNetWidenError.groupSize(key: "block_out_channels[0]", width: 8, groups: 4)) { try small.widened(noise: 0) }

        var oneHead = Self.config()
        oneHead.attentionHeadDim = nil
        #expect(throws: UNetWidenError.oneHeadAttention) { try UNet2D(config: oneHead, seed: 1).widened(noise: 0) }

        var shifted = Self.config()
        shifted.freqShift = 1
        #expect(throws: UNetWidenError.freqShift(1)) { try UNet2D(config: shifted, seed: 1).widened(noise: 0) }
        #expect(UNetWidenError.freqShift(1).description.contains("freq_shift"))
    }
}
