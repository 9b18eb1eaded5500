import Foundation
import DefaultModel
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Parity with diffusers: fixtures made by Fixtures/make_unet_fixtures.py (random weights in
/// small configs covering every supported block type, the class embedding, both padding modes,
/// both sin/cos orders and centred input).
@Suite struct UNet2DParityTests {
    static func fixture(_ name: String) throws -> (UNet2D, [String: Tensor], [String]) {
        let folder = try #require(Bundle.module.url(forResource: "unet_\(name)", withExtension: nil, subdirectory: "Fixtures"))
        let unet = try UNet2D(contentsOf: folder)
        let io = try SafeTensors.load(contentsOf: folder.appendingPathComponent("io.safetensors"))
        var byName: [String: Tensor] = [:]
        for (n, t) in io { byName[n] = t }
        let gradNames = ["conv_in.weight", "mid_block.attentions.0.to_q.weight", "down_blocks.1.attentions.0.to_k.weight",
                         "up_blocks.0.resnets.0.conv1.weight", "time_embedding.linear_1.weight"]
            .filter { byName["grad." + $0] != nil }
        return (unet, byName, gradNames)
    }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    }

    @Test(arguments: ["small", "cifarlike"])
    func outputsAndGradientsMatchDiffusers(_ name: String) throws {
        let (unet, io, gradNames) = try Self.fixture(name)
        let x = try #require(io["sample"]), expected = try #require(io["output"]), u = try #require(io["u"])
        x.requiresGrad = true
        let labels = io["class_labels"].map { $0.data.map { Int($0) } }
        let out = unet.predict(x, timesteps: try #require(io["timesteps"]).data, classLabels: labels)
        #expect(out.shape == expected.shape)
        let scale = expected.data.reduce(0) { Swift.max($0, abs($1)) }
        let err = Self.maxAbs(out.data, expected.data)
        #expect(err <= 1e-4 * scale, "output max-abs error \(err) (scale \(scale))")

        out.backward(seed: u.data)
        let checks = [("sample", x)] + gradNames.map { ($0, unet.parameters[$0]!) }
        #expect(checks.count >= 4)
        for (n, t) in checks {
            let g = try #require(t.grad, "no gradient reached \(n)")
            let ref = try #require(io["grad." + n])
            let gscale = ref.data.reduce(0) { Swift.max($0, abs($1)) }
            let gerr = Self.maxAbs(g, ref.data)
            #expect(gerr <= 1e-3 * gscale, "gradient \(n): max-abs error \(gerr) (scale \(gscale))")
        }
    }

    @Test func savedFolderRoundTrips() throws {
        let (unet, io, _) = try Self.fixture("small")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unet-roundtrip-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try unet.save(to: dir)
        let again = try UNet2D(contentsOf: dir)
        #expect(again.config == unet.config)
        let x = try #require(io["sample"]), t = try #require(io["timesteps"]).data
        let a = GradMode.withoutGrad { unet.predict(x, timesteps: t, classLabels: [2, 0]) }
        let b = GradMode.withoutGrad { again.predict(x, timesteps: t, classLabels: [2, 0]) }
        #expect(a.data == b.data)
    }

    /// Checkpoints saved by diffusers before 0.14 name the attention `query`/`key`/`value`/`proj_attn`.
    @Test func legacyAttentionNamesLoad() throws {
        let (unet, io, _) = try Self.fixture("small")
        let legacy = unet.parameters.map { name, t in
            (name: name.replacingOccurrences(of: ".to_q.", with: ".query.").replacingOccurrences(of: ".to_k.", with: ".key.")
                .replacingOccurrences(of: ".to_v.", with: ".value.").replacingOccurrences(of: ".to_out.0.", with: ".proj_attn."),
             tensor: t.detached())
        }
        #expect(legacy.contains { $0.name == "mid_block.attentions.0.proj_attn.weight" })
        let again = UNet2D(config: unet.config, seed: 9)
        try again.load(weights: legacy, source: "legacy.safetensors")
        let x = try #require(io["sample"]), t = try #require(io["timesteps"]).data
        let a = GradMode.withoutGrad { unet.predict(x, timesteps: t, classLabels: [2, 0]) }
        let b = GradMode.withoutGrad { again.predict(x, timesteps: t, classLabels: [2, 0]) }
        #expect(a.data == b.data)
    }
}

@Suite struct UNet2DConfigTests {
    func parse(_ json: String) throws -> UNet2DConfig { try UNet2DConfig(json: Data(json.utf8), source: "test") }

    @Test func defaultsAndKeys() throws {
        let c = try parse(#"{"block_out_channels": [32, 64], "down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "up_block_types": ["AttnUpBlock2D", "UpBlock2D"], "norm_num_groups": 8, "num_class_embeds": 7, "attention_head_dim": null}"#)
        #expect(c.blockOutChannels == [32, 64] && c.numClassEmbeds == 7 && c.attentionHeadDim == nil)
        #expect(c.timeEmbedDim == 128)
    }

    /// The config, schedule and training-card writers reproduce the shipped models' files byte
    /// for byte (the files were written by this package; diffusers reads them).
    @Test(arguments: [DefaultModel.folder, DefaultModel.nerfFolder, DefaultModel.singleViewNerfFolder])
    func shippedConfigsAreWrittenBackUnchanged(folder: URL) throws {
        let configURL = folder.appendingPathComponent("config.json")
        let config = try UNet2DConfig(contentsOf: configURL)
        #expect(try config.configJSON().encoded([.prettyPrinted, .sortedKeys]) == Data(contentsOf: configURL))
        let scheduleURL = folder.appendingPathComponent("scheduler_config.json")
        let schedule = try DDPMSchedule(contentsOf: scheduleURL)
        #expect(try schedule.configJSON().encoded([.prettyPrinted, .sortedKeys]) == Data(contentsOf: scheduleURL))
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let card = try #require(try TrainingDataCard.read(modelFolder: folder))
        try TrainingDataCard.write(card, modelFolder: out)
        // (toys-unet's card was added by hand, with a final newline the writer does not add.)
        let shipped = try Data(contentsOf: folder.appendingPathComponent(TrainingDataCard.fileName))
        #expect(try Data(contentsOf: out.appendingPathComponent(TrainingDataCard.fileName))
                == (shipped.last == UInt8(ascii: "\n") ? shipped.dropLast() : shipped))
    }

    @Test func unsupportedThingsAreNamed() {
        let cases: [(String, String)] = [
            (#"{"down_block_types": ["CrossAttnDownBlock2D"], "up_block_types": ["UpBlock2D"], "block_out_channels": [32]}"#, "CrossAttnDownBlock2D"),
            (#"{"time_embedding_type": "fourier"}"#, "fourier"),
            (#"{"resnet_time_scale_shift": "scale_shift"}"#, "scale_shift"),
            (#"{"some_new_option": 3}"#, "some_new_option"),
            (#"{"block_out_channels": [30], "down_block_types": ["DownBlock2D"], "up_block_types": ["UpBlock2D"]}"#, "divisible"),
            (#"{"layers_per_block": "two"}"#, "layers_per_block"),
            (#"[1, 2]"#, "not a JSON object"),
        ]
        for (json, word) in cases {
            do {
                _ = try parse(json)
                Issue.record("accepted \(json)")
            } catch {
                #expect("\(error)".contains(word), "error for \(json) was: \(error)")
            }
        }
    }

    @Test func weightsThatDoNotFitAreNamed() throws {
        var c = UNet2DConfig()
        c.blockOutChannels = [8, 16]
        c.downBlockTypes = ["DownBlock2D", "DownBlock2D"]
        c.upBlockTypes = ["UpBlock2D", "UpBlock2D"]
        c.normNumGroups = 4
        let unet = UNet2D(config: c)
        var weights = unet.parameters.map { (name: $0.0, tensor: $0.1.detached()) }
        let last = weights.removeLast()
        #expect(throws: UNetLoadError.missingTensor("w", last.name)) { try unet.load(weights: weights, source: "w") }
        weights.append(last)
        weights.append((name: "extra.weight", tensor: Tensor.zeros([2])))
        #expect(throws: UNetLoadError.unexpectedTensor("w", "extra.weight")) { try unet.load(weights: weights, source: "w") }
        weights.removeLast()
        let expected = weights[0].tensor.shape
        weights[0] = (name: weights[0].name, tensor: Tensor.zeros([3]))
        #expect(throws: UNetLoadError.shapeMismatch("w", weights[0].name, expected: expected, found: [3])) {
            try unet.load(weights: weights, source: "w")
        }
    }
}
