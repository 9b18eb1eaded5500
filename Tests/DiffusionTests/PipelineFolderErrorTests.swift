import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Bad pipeline folders (a part missing, parts that do not fit together, configurations this
/// package does not implement, broken shards and variants): each error names the file and the key.
@Suite struct PipelineFolderErrorTests {
    /// A copy of a pipeline fixture, changed by `change` (given the copy's folder), and the error
    /// loading it gives (`"no error"` when it loads).
    func loadError(_ fixture: String = "sd1", variant: String? = nil, _ change: (URL) throws -> Void) throws -> String {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("pipeline")
        try FileManager.default.copyItem(at: try fixtureURL("sd_pipeline_\(fixture)"), to: copy)
        try change(copy)
        do { _ = try StableDiffusionPipeline(contentsOf: copy, variant: variant); return "no error" } catch { return "\(error)" }
    }

    /// Edits the JSON object in `file` under `folder`.
    func editJSON(_ folder: URL, _ file: String, _ edit: (inout [String: Any]) -> Void) throws {
        let url = folder.appendingPathComponent(file)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    func remove(_ folder: URL, _ path: String) throws {
        try FileManager.default.removeItem(at: folder.appendingPathComponent(path))
    }

    @Test func theFixturesLoad() throws {
        #expect(try loadError("sd1") { _ in } == "no error")
        #expect(try loadError("sd2") { _ in } == "no error")
        #expect(try loadError("sd2", variant: "fp16") { _ in } == "no error")
    }

    @Test func missingParts() throws {
        let noIndex = try loadError { try remove($0, "model_index.json") }
        #expect(noIndex.contains("no model_index.json") && noIndex.contains("pipeline'"), "\(noIndex)")

        let noEntry = try loadError { try editJSON($0, "model_index.json") { $0["vae"] = nil } }
        #expect(noEntry.contains("model_index.json") && noEntry.contains("no 'vae' entry"), "\(noEntry)")

        let nullEntry = try loadError { try editJSON($0, "model_index.json") { $0["text_encoder"] = [NSNull(), NSNull()] } }
        #expect(nullEntry.contains("model_index.json") && nullEntry.contains("no 'text_encoder' entry"), "\(nullEntry)")

        let noFolder = try loadError { try remove($0, "unet") }
        #expect(noFolder.contains("model_index.json") && noFolder.contains("'unet'") && noFolder.contains("pipeline/unet' is missing"), "\(noFolder)")

        let noScheduler = try loadError { try remove($0, "scheduler/scheduler_config.json") }
        #expect(noScheduler.contains("'scheduler'") && noScheduler.contains("scheduler_config.json' is missing"), "\(noScheduler)")

        let noWeights = try loadError { try remove($0, "vae/diffusion_pytorch_model.safetensors") }
        #expect(noWeights.contains("vae/diffusion_pytorch_model.safetensors"), "\(noWeights)")

        let noTokenizer = try loadError { try remove($0, "tokenizer/merges.txt") }
        #expect(noTokenizer.contains("tokenizer") && noTokenizer.contains("merges.txt"), "\(noTokenizer)")
    }

    @Test func partsThatDoNotFit() throws {
        let channels = try loadError { try editJSON($0, "vae/config.json") { $0["latent_channels"] = 8 } }
        #expect(channels.contains("unet/config.json' has in_channels = 4") && channels.contains("vae/config.json' has latent_channels = 8"), "\(channels)")

        let width = try loadError { try editJSON($0, "unet/config.json") { $0["cross_attention_dim"] = 48 } }
        #expect(width.contains("unet/config.json' has cross_attention_dim = 48") && width.contains("text_encoder/config.json' has hidden_size = 32"), "\(width)")

        let vocabulary = try loadError { try editJSON($0, "text_encoder/config.json") { $0["vocab_size"] = 1000 } }
        #expect(vocabulary.contains("tokenizer") && vocabulary.contains("text_encoder/config.json' has vocab_size = 1000"), "\(vocabulary)")

        let positions = try loadError { try editJSON($0, "text_encoder/config.json") { $0["max_position_embeddings"] = 64 } }
        #expect(positions.contains("model_max_length = 77") && positions.contains("max_position_embeddings = 64"), "\(positions)")

        // A weight of the wrong shape: the file and the tensor.
        let shape = try loadError { folder in
            let url = folder.appendingPathComponent("unet/diffusion_pytorch_model.safetensors")
            var tensors = try SafeTensors.load(contentsOf: url)
            let i = try #require(tensors.firstIndex { $0.name == "conv_in.weight" })
            tensors[i].tensor = Tensor.zeros([8, 4, 1, 1])
            try SafeTensors.save(tensors, to: url)
        }
        #expect(shape.contains("unet/diffusion_pytorch_model.safetensors") && shape.contains("conv_in.weight"), "\(shape)")
    }

    @Test func unsupportedConfigurations() throws {
        let xl = try loadError { try editJSON($0, "model_index.json") { $0["_class_name"] = "StableDiffusionXLPipeline" } }
        #expect(xl.contains("model_index.json") && xl.contains("_class_name") && xl.contains("StableDiffusionXLPipeline"), "\(xl)")

        let secondEncoder = try loadError { try editJSON($0, "model_index.json") { $0["text_encoder_2"] = ["transformers", "CLIPTextModelWithProjection"] } }
        #expect(secondEncoder.contains("model_index.json") && secondEncoder.contains("text_encoder_2"), "\(secondEncoder)")

        let pixelUNet = try loadError { try editJSON($0, "model_index.json") { $0["unet"] = ["diffusers", "UNet2DModel"] } }
        #expect(pixelUNet.contains("model_index.json") && pixelUNet.contains("unet = \"UNet2DModel\""), "\(pixelUNet)")

        let clip = try loadError { try editJSON($0, "scheduler/scheduler_config.json") { $0["clip_sample"] = true } }
        #expect(clip.contains("scheduler/scheduler_config.json") && clip.contains("'clip_sample'"), "\(clip)")

        let alpha = try loadError { try editJSON($0, "scheduler/scheduler_config.json") { $0["set_alpha_to_one"] = "yes" } }
        #expect(alpha.contains("scheduler/scheduler_config.json") && alpha.contains("'set_alpha_to_one'"), "\(alpha)")

        let betas = try loadError { try editJSON($0, "scheduler/scheduler_config.json") { $0["beta_schedule"] = "sigmoid" } }
        #expect(betas.contains("scheduler/scheduler_config.json") && betas.contains("beta_schedule"), "\(betas)")

        let unetKey = try loadError { try editJSON($0, "unet/config.json") { $0["addition_embed_type"] = "text_time" } }
        #expect(unetKey.contains("unet/config.json") && unetKey.contains("addition_embed_type"), "\(unetKey)")

        let vaeKey = try loadError { try editJSON($0, "vae/config.json") { $0["act_fn"] = "gelu" } }
        #expect(vaeKey.contains("vae/config.json") && vaeKey.contains("act_fn"), "\(vaeKey)")
    }

    @Test func shardsAndVariants() throws {
        let index = "unet/diffusion_pytorch_model.safetensors.index.fp16.json"
        let shard = try loadError("sd2") { try remove($0, "unet/diffusion_pytorch_model.fp16-00002-of-00004.safetensors") }
        #expect(shard.contains(index) && shard.contains("fp16-00002-of-00004.safetensors") && shard.contains("missing"), "\(shard)")

        let moved = try loadError("sd2") { try editJSON($0, index) { object in
            var map = object["weight_map"] as! [String: Any]
            map["conv_in.weight"] = "diffusion_pytorch_model.fp16-00004-of-00004.safetensors"
            object["weight_map"] = map
        } }
        #expect(moved.contains(index) && moved.contains("conv_in.weight") && moved.contains("00004-of-00004"), "\(moved)")

        let noMap = try loadError("sd2") { try editJSON($0, index) { $0["weight_map"] = nil } }
        #expect(noMap.contains(index) && noMap.contains("weight_map"), "\(noMap)")

        let otherVariant = try loadError("sd2", variant: "bf16") { _ in }
        #expect(otherVariant.contains("text_encoder") && otherVariant.contains("variant 'bf16'") && otherVariant.contains("fp16"), "\(otherVariant)")

        let twoVariants = try loadError("sd2") { folder in
            try FileManager.default.copyItem(at: folder.appendingPathComponent("vae/diffusion_pytorch_model.fp16.safetensors"),
                                             to: folder.appendingPathComponent("vae/diffusion_pytorch_model.ema.safetensors"))
        }
        #expect(twoVariants.contains("vae") && twoVariants.contains("ema, fp16"), "\(twoVariants)")
        // …and naming one of them resolves it.
        #expect(try loadError("sd2", variant: "fp16") { folder in
            try FileManager.default.copyItem(at: folder.appendingPathComponent("vae/diffusion_pytorch_model.fp16.safetensors"),
                                             to: folder.appendingPathComponent("vae/diffusion_pytorch_model.ema.safetensors"))
        } == "no error")
        let unet = try fixtureURL("sd_pipeline_sd2").appendingPathComponent("unet")
        #expect(WeightsFile.variants(of: "diffusion_pytorch_model.safetensors", stem: "diffusion_pytorch_model", in: unet) == ["fp16"])
    }
}
