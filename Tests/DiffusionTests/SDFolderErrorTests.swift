import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Bad `text_encoder/` and `unet/` folders: every error names the file, and the key or tensor.
@Suite struct SDFolderErrorTests {
    /// A copy of a fixture folder whose `config.json` is edited by `edit` (a JSON object).
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

    /// A JSON value from its text.
    static func json(_ text: String) -> Any { try! JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) }

    func textEncoderError(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = try editedCopy("clip_quick_gelu", edit)
        defer { try? FileManager.default.removeItem(at: dir) }
        do { _ = try CLIPTextModel(contentsOf: dir); return "no error" } catch { return "\(error)" }
    }

    func unetError(_ fixture: String = "sd_unet_sd1", _ edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = try editedCopy(fixture, edit)
        defer { try? FileManager.default.removeItem(at: dir) }
        do { _ = try UNet2DCondition(contentsOf: dir); return "no error" } catch { return "\(error)" }
    }

    @Test(arguments: [
        ("hidden_act", #""relu""#, "hidden_act = 'relu' is not supported"),
        ("model_type", #""bert""#, "model_type = 'bert' is not supported"),
        ("architectures", #"["CLIPVisionModel"]"#, "architectures"),
        ("rotary_embeddings", "true", "unknown key 'rotary_embeddings'"),
        ("num_attention_heads", "5", "not divisible by num_attention_heads = 5"),
        ("layer_norm_eps", "0", "layer_norm_eps = 0.0 is out of range"),
        ("hidden_size", "2.5", "hidden_size = 2.5 should be an integer"),
    ])
    func textEncoderConfigErrorsNameTheKey(_ key: String, _ value: String, _ message: String) throws {
        let text = try textEncoderError { $0[key] = Self.json(value) }
        #expect(text.contains(message) && text.contains("config.json"), "\(text)")
    }

    @Test func textEncoderWeightErrorsNameFileAndTensor() throws {
        // A config that no longer fits the weights: the tensor and the file are named.
        let wider = try textEncoderError { $0["intermediate_size"] = 50 }
        #expect(wider.contains("model.safetensors") && wider.contains("text_model.encoder.layers.0.mlp.fc1.weight")
                && wider.contains("[48, 32]"), "\(wider)")
        let deeper = try textEncoderError { $0["num_hidden_layers"] = 3 }
        #expect(deeper.contains("has no tensor 'text_model.encoder.layers.2.") && deeper.contains("model.safetensors"), "\(deeper)")
        let shallower = try textEncoderError { $0["num_hidden_layers"] = 1 }
        #expect(shallower.contains("encoder.layers.1.") && shallower.contains("does not use"), "\(shallower)")
        // Missing files.
        let dir = try editedCopy("clip_quick_gelu") { _ in }
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
        #expect(throws: UNetLoadError.missingWeights(dir.appendingPathComponent("model.safetensors").path)) { try CLIPTextModel(contentsOf: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        do { _ = try CLIPTextModel(contentsOf: dir); Issue.record("no error") } catch {
            #expect("\(error)".contains("cannot read text encoder config") && "\(error)".contains("config.json"))
        }
    }

    @Test(arguments: [
        ("class_embed_type", #""timestep""#, "class_embed_type = 'timestep' is not supported"),
        ("only_cross_attention", "true", "only_cross_attention = true is not supported"),
        ("dual_cross_attention", "true", "dual_cross_attention = true is not supported"),
        ("num_attention_heads", "8", "num_attention_heads = 8 is not supported"),
        ("addition_embed_type", #""text_time""#, "addition_embed_type"),
        ("mid_block_type", #""UNetMidBlock2DSimpleCrossAttn""#, "mid_block_type = UNetMidBlock2DSimpleCrossAttn is not supported"),
        ("down_block_types", #"["SimpleCrossAttnDownBlock2D", "DownBlock2D"]"#, "down_block_types = SimpleCrossAttnDownBlock2D"),
        ("attention_head_dim", "[2, 2, 2]", "attention_head_dim has 3 entries"),
        ("attention_head_dim", "[2, 32]", "attention_head_dim[1] = 32 heads exceeds"),
        ("conv_in_kernel", "4", "conv_in_kernel = 4"),
        ("time_embedding_type", #""fourier""#, "time_embedding_type = fourier is not supported"),
        ("spatial_frobnicator", "1", "unknown key 'spatial_frobnicator'"),
        ("_class_name", #""UNet2DModel""#, "_class_name = 'UNet2DModel' is not supported"),
    ])
    func unetConfigErrorsNameTheKey(_ key: String, _ value: String, _ message: String) throws {
        let text = try unetError { $0[key] = Self.json(value) }
        #expect(text.contains(message) && text.contains("config.json"), "\(text)")
    }

    @Test func unetWeightErrorsNameFileAndTensor() throws {
        let wrongContext = try unetError { $0["cross_attention_dim"] = 16 }
        #expect(wrongContext.contains("diffusion_pytorch_model.safetensors")
                && wrongContext.contains("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight")
                && wrongContext.contains("[8, 12]"), "\(wrongContext)")
        // SD 2's weights under an SD 1 projection: proj_in is [8, 8] where a 1×1 conv fits too,
        // but the deeper transformer has tensors the config does not expect.
        let projection = try unetError("sd_unet_sd2") { $0["transformer_layers_per_block"] = 1 }
        #expect(projection.contains("transformer_blocks.1.") && projection.contains("does not use"), "\(projection)")
        let dir = try editedCopy("sd_unet_sd1") { _ in }
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent(UNet2DCondition.weightsFileName))
        #expect(throws: UNetLoadError.missingWeights(dir.appendingPathComponent(UNet2DCondition.weightsFileName).path)) {
            try UNet2DCondition(contentsOf: dir)
        }
    }

    @Test func sd2ConfigReadsPerBlockLists() throws {
        let c = try UNet2DConditionConfig(contentsOf: fixtureURL("sd_unet_sd2").appendingPathComponent("config.json"))
        #expect(c.attentionHeads == [2, 4, 4] && c.transformerLayersPerBlock == [1, 2, 1] && c.layersPerBlock == [1, 2, 1])
        #expect(c.useLinearProjection && c.upcastAttention && c.crossAttentionDim == [20, 20, 20])
        let sd1 = try UNet2DConditionConfig(contentsOf: fixtureURL("sd_unet_sd1").appendingPathComponent("config.json"))
        #expect(sd1.attentionHeads == [2, 2] && !sd1.useLinearProjection && sd1.midBlockType == "UNetMidBlock2DCrossAttn")
        // Written back and read again: the same config.
        let text = try c.configJSON().encoded([.sortedKeys])
        #expect(try UNet2DConditionConfig(json: text) == c)
    }
}
