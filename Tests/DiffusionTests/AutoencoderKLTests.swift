import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Parity with diffusers' `AutoencoderKL`: fixtures made by Fixtures/make_vae_fixtures.py (an
/// SD 1-like VAE, two levels, quant convs, scaling 0.18215, F32 weights; an SDXL-like one, three
/// levels, two layers per block, no quant convs, scaling 0.13025 and shift 0.0609, F16 weights).
@Suite struct AutoencoderKLParityTests {
    static func fixture(_ name: String) throws -> (AutoencoderKL, [String: Tensor], URL) {
        let folder = try fixtureURL("vae_\(name)")
        let vae = try AutoencoderKL(contentsOf: folder)
        let io = try SafeTensors.loadDictionary(contentsOf: folder.appendingPathComponent("io.safetensors"))
        return (vae, io, folder)
    }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) } }
    static func scale(_ a: [Float]) -> Float { a.reduce(0) { Swift.max($0, abs($1)) } }

    static func expectClose(_ got: Tensor, _ expected: Tensor, _ what: String, rtol: Float = 1e-4) {
        #expect(got.shape == expected.shape, "\(what): shape \(got.shape), expected \(expected.shape)")
        let err = maxAbs(got.data, expected.data), scale = scale(expected.data)
        #expect(err <= rtol * scale, "\(what): max-abs error \(err) (scale \(scale))")
    }

    @Test(arguments: ["sd1", "sdxl"])
    func encodeMatchesDiffusers(_ name: String) throws {
        let (vae, io, _) = try Self.fixture(name)
        let image = try #require(io["image"]), noise = try #require(io["noise"])
        let posterior = GradMode.withoutGrad { vae.encode(image) }
        Self.expectClose(posterior.mean, try #require(io["mean"]), "\(name) mean")
        Self.expectClose(posterior.logVariance, try #require(io["logvar"]), "\(name) logvar")
        let sample = GradMode.withoutGrad { posterior.sample(noise: noise) }
        Self.expectClose(sample, try #require(io["sample"]), "\(name) sample")
    }

    @Test(arguments: ["sd1", "sdxl"])
    func decodeAndItsGradientsMatchDiffusers(_ name: String) throws {
        let (vae, io, _) = try Self.fixture(name)
        let z = try #require(io["latents"]), u = try #require(io["u"])
        z.requiresGrad = true
        let out = vae.decode(z)
        Self.expectClose(out, try #require(io["decoded"]), "\(name) decoded")
        out.backward(seed: u.data)
        let weights = ["decoder.conv_in.weight", "decoder.mid_block.attentions.0.to_q.weight",
                       "decoder.up_blocks.0.resnets.0.conv1.weight", "post_quant_conv.weight", "decoder.conv_out.bias"]
        var checks = [("latents", z)]
        for w in weights { if let p = vae.parameters[w] { checks.append((w, p)) } }
        #expect(checks.count == (name == "sd1" ? 6 : 5))
        for (n, t) in checks {
            let g = try #require(t.grad, "no gradient reached \(n)")
            let ref = try #require(io["grad." + n])
            Self.expectClose(Tensor(ref.shape, data: g), ref, "\(name) gradient \(n)", rtol: 1e-3)
        }
    }

    @Test func scalingAndShiftFactorsComeFromTheConfig() throws {
        let (sd1, _, _) = try Self.fixture("sd1")
        let (sdxl, io, _) = try Self.fixture("sdxl")
        #expect(sd1.config.scalingFactor == 0.18215 && sd1.config.shiftFactor == nil)
        #expect(sdxl.config.scalingFactor == 0.13025 && sdxl.config.shiftFactor == 0.0609)
        #expect(sd1.downsamplingFactor == 2 && sdxl.downsamplingFactor == 4)
        let z = try #require(io["latents"])
        let x = sdxl.scaledLatents(z)
        #expect(Self.maxAbs(x.data, z.data.map { ($0 - 0.0609) * 0.13025 }) < 1e-6)
        let viaScaled = GradMode.withoutGrad { sdxl.decode(scaledLatents: x) }
        let direct = GradMode.withoutGrad { sdxl.decode(z) }
        #expect(Self.maxAbs(viaScaled.data, direct.data) <= 1e-5 * Self.scale(direct.data))
    }

    /// Released SD 1.x `vae/` files still name the mid-block attention `query`/`key`/`value`/`proj_attn`.
    @Test func legacyAttentionNamesLoad() throws {
        let (vae, io, folder) = try Self.fixture("sd1")
        let weights = try SafeTensors.load(contentsOf: folder.appendingPathComponent(AutoencoderKL.weightsFileName))
        let legacy = weights.map { w in
            (name: w.name.replacingOccurrences(of: "attentions.0.to_q.", with: "attentions.0.query.")
                .replacingOccurrences(of: "attentions.0.to_k.", with: "attentions.0.key.")
                .replacingOccurrences(of: "attentions.0.to_v.", with: "attentions.0.value.")
                .replacingOccurrences(of: "attentions.0.to_out.0.", with: "attentions.0.proj_attn."), tensor: w.tensor)
        }
        #expect(legacy.contains { $0.name == "decoder.mid_block.attentions.0.proj_attn.weight" })
        let again = AutoencoderKL(config: vae.config, seed: 9)
        try again.load(weights: legacy, source: "legacy.safetensors")
        let z = try #require(io["latents"])
        let a = GradMode.withoutGrad { again.decode(z) }, b = GradMode.withoutGrad { vae.decode(z) }
        #expect(a.data == b.data)
    }
}

/// Bad `vae/` folders: every error names the file, and the key or tensor.
@Suite struct AutoencoderKLFolderErrorTests {
    /// A copy of a VAE fixture folder with `config.json` edited by `edit`.
    func editedCopy(_ fixture: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = try temporaryDirectory()
        let source = try fixtureURL(fixture)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        let url = dir.appendingPathComponent("config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return dir
    }

    func loadError(_ fixture: String = "vae_sd1", _ edit: (inout [String: Any]) -> Void = { _ in },
                   files: (URL) throws -> Void = { _ in }) throws -> String {
        let dir = try editedCopy(fixture, edit)
        defer { try? FileManager.default.removeItem(at: dir) }
        try files(dir)
        do { _ = try AutoencoderKL(contentsOf: dir); return "no error" } catch { return "\(error)" }
    }

    static func json(_ text: String) -> Any { try! JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) }

    @Test func theFixturesLoad() throws {
        #expect(try loadError("vae_sd1") == "no error")
        #expect(try loadError("vae_sdxl") == "no error")
    }

    @Test(arguments: [
        ("act_fn", #""relu""#, "act_fn = relu is not supported"),
        ("latents_mean", "[0.1, 0.2, 0.3, 0.4]", "latents_mean"),
        ("latents_std", "[1, 1, 1, 1]", "latents_std"),
        ("down_block_types", #"["DownEncoderBlock2D", "AttnDownEncoderBlock2D"]"#, "down_block_types[1] = AttnDownEncoderBlock2D is not supported"),
        ("up_block_types", #"["UpDecoderBlock2D"]"#, "up_block_types has 1 entries"),
        ("_class_name", #""AutoencoderTiny""#, "_class_name"),
        ("norm_type", #""spatial""#, "unknown key 'norm_type'"),
        ("norm_num_groups", "3", "not divisible by norm_num_groups = 3"),
        ("scaling_factor", "0", "scaling_factor = 0.0 is out of range"),
        ("shift_factor", #""0.1""#, "shift_factor"),
        ("layers_per_block", "1.5", "layers_per_block = 1.5 should be an integer"),
    ])
    func configErrorsNameFileAndKey(_ key: String, _ value: String, _ message: String) throws {
        let text = try loadError { $0[key] = Self.json(value) }
        #expect(text.contains(message) && text.contains("config.json") && text.contains("VAE config"), "\(text)")
    }

    @Test func weightErrorsNameFileAndTensor() throws {
        let wider = try loadError { $0["latent_channels"] = 3 }
        #expect(wider.contains("diffusion_pytorch_model.safetensors") && wider.contains("encoder.conv_out.weight")
                && wider.contains("[8, 16, 3, 3]"), "\(wider)")
        let deeper = try loadError { $0["layers_per_block"] = 2 }
        #expect(deeper.contains("has no tensor 'encoder.down_blocks.0.resnets.1.") && deeper.contains("diffusion_pytorch_model.safetensors"), "\(deeper)")
        let noQuant = try loadError { $0["use_quant_conv"] = false }
        #expect(noQuant.contains("'quant_conv.") && noQuant.contains("does not use"), "\(noQuant)")
        let noAttention = try loadError { $0["mid_block_add_attention"] = false }
        #expect(noAttention.contains("mid_block.attentions.0.") && noAttention.contains("does not use"), "\(noAttention)")
    }

    @Test func missingFilesAreNamed() throws {
        let noWeights = try loadError(files: { dir in
            try FileManager.default.removeItem(at: dir.appendingPathComponent(AutoencoderKL.weightsFileName))
        })
        #expect(noWeights.contains("diffusion_pytorch_model.safetensors") && noWeights.contains("no weights"), "\(noWeights)")
        let noConfig = try loadError(files: { dir in try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json")) })
        #expect(noConfig.contains("config.json") && noConfig.contains("cannot read VAE config"), "\(noConfig)")
    }

    @Test func wrongShapeIsNamed() throws {
        let text = try loadError(files: { dir in
            let file = dir.appendingPathComponent(AutoencoderKL.weightsFileName)
            var weights = try SafeTensors.load(contentsOf: file)
            let i = try #require(weights.firstIndex { $0.name == "decoder.conv_in.weight" })
            weights[i].tensor = Tensor([16, 4, 1, 9], data: weights[i].tensor.data)
            try SafeTensors.save(weights, to: file)
        })
        #expect(text.contains("decoder.conv_in.weight") && text.contains("[16, 4, 1, 9]")
                && text.contains("diffusion_pytorch_model.safetensors"), "\(text)")
    }
}

/// The released SD 1.5 and SDXL `vae/` configs build exactly diffusers' parameters — every name and
/// shape (Fixtures/vae_full_size_shapes.json, made on PyTorch's meta device by make_vae_fixtures.py).
@Suite struct AutoencoderKLFullSizeArchitectureTests {
    @Test(arguments: ["sd15", "sdxl"])
    func vaeMatchesDiffusers(_ name: String) throws {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("vae_full_size_shapes.json"))) as? [String: Any]
        let item = try #require(root?["vae_\(name)"] as? [String: Any])
        let json = try JSONSerialization.data(withJSONObject: try #require(item["config"]))
        let shapes = try #require(item["shapes"] as? [String: [Int]])
        let config = try AutoencoderKLConfig(json: json, source: "\(name) vae/config.json")
        #expect(config.scalingFactor == (name == "sd15" ? 0.18215 : 0.13025))
        let ours = AutoencoderKL.parameterShapes(config)
        SDFullSizeArchitectureTests.compare(ours, shapes)
        #expect(ours.values.reduce(0) { $0 + $1.reduce(1, *) } == 83_653_863)
    }
}
