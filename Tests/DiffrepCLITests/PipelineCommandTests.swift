import Foundation
import PNGIO
import Testing
@testable import DiffrepCLI

/// `diffrep sample` and `diffrep image` with a Stable Diffusion pipeline folder (the tiny
/// random-weight pipelines of DiffusionTests/Fixtures, made by diffusers).
@Suite struct PipelineCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DiffusionTests/Fixtures")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// `--initial-noise` with the prompt, negative prompt, steps and guidance of the diffusers run:
    /// samples.png is diffusers' PNG, every byte within 1.
    @Test(arguments: [("sd1", ["--prompt", "a photo of a cat", "--negative-prompt", "blurry, low quality", "--guidance", "7.5"]),
                      ("sd2", ["--prompt", "A red Box, on a TABLE!", "--guidance", "3"])])
    func initialNoiseReproducesDiffusersPNG(_ name: String, _ options: [String]) throws {
        let out = CLITest.temporaryFolder("sd-sample")
        defer { try? FileManager.default.removeItem(at: out) }
        try SampleCommand.parse(["--model", Self.fixture("sd_pipeline_\(name)"), "--steps", "4",
                                 "--initial-noise", Self.fixture("sd_pipeline_\(name)_initial_noise.safetensors"),
                                 "--out", out.path] + options).run()
        let ours = try PNG.read(out.appendingPathComponent("samples.png").path, channels: 3)
        let theirs = try PNG.read(Self.fixture("sd_pipeline_\(name)_expected.png"), channels: 3)
        #expect(ours.width == theirs.width && ours.height == theirs.height)
        let worst = zip(ours.pixels, theirs.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 255
        #expect(worst <= 1, "largest byte difference \(worst)")
        #expect(Set(theirs.pixels).count > 20, "the reference PNG is not flat")
    }

    /// Another guidance gives another picture (the options reach the denoiser).
    @Test func guidanceChangesThePicture() throws {
        let out = CLITest.temporaryFolder("sd-sample-g")
        defer { try? FileManager.default.removeItem(at: out) }
        try SampleCommand.parse(["--model", Self.fixture("sd_pipeline_sd1"), "--steps", "4", "--prompt", "a photo of a cat",
                                 "--negative-prompt", "blurry, low quality", "--guidance", "2",
                                 "--initial-noise", Self.fixture("sd_pipeline_sd1_initial_noise.safetensors"), "--out", out.path]).run()
        let ours = try PNG.read(out.appendingPathComponent("samples.png").path, channels: 3)
        let theirs = try PNG.read(Self.fixture("sd_pipeline_sd1_expected.png"), channels: 3)
        #expect(zip(ours.pixels, theirs.pixels).contains { abs(Int($0) - Int($1)) > 8 })
    }

    @Test func imageSamplesALatentGridFromAPrompt() throws {
        let out = CLITest.temporaryFolder("sd-image")
        defer { try? FileManager.default.removeItem(at: out) }
        try ImageCommand.parse(["--model", Self.fixture("sd_pipeline_sd2"), "--prompt", "a red box", "--count", "2",
                                "--steps", "5", "--seed", "3", "--out", out.path]).run()
        let first = try PNG.read(out.appendingPathComponent("image_00.png").path, channels: 3)
        #expect(first.width == 16 && first.height == 16)                     // the UNet's sample_size 8, ×2 by this VAE
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as? [String: Any])
        let settings = try #require(manifest["settings"] as? [String: Any])
        #expect(settings["prompt"] as? String == "a red box")
        #expect(settings["guidance"] as? Double == 7.5)                       // diffusers' default without --guidance
        #expect(settings["representation"] as? String == "latent-grid" && settings["state"] as? String == "noisy")
        let files = try #require(manifest["model_files"] as? [String: Any])
        #expect(files.keys.contains { $0.hasPrefix("unet/") }, "the manifest records the pipeline's files: \(files.keys.sorted())")
    }

    @Test func misuseIsExplained() throws {
        let sd = Self.fixture("sd_pipeline_sd1"), noise = Self.fixture("sd_pipeline_sd1_initial_noise.safetensors")
        let out = CLITest.temporaryFolder("sd-misuse")
        defer { try? FileManager.default.removeItem(at: out) }
        let cases: [(() throws -> Void, String)] = [
            ({ try SampleCommand.parse(["--prompt", "a cat", "--out", out.path]).run() }, "--prompt and --negative-prompt need a Stable Diffusion pipeline"),
            ({ try SampleCommand.parse(["--initial-noise", noise, "--out", out.path]).run() }, "--initial-noise is for Stable Diffusion pipeline folders"),
            ({ try SampleCommand.parse(["--model", sd, "--count", "2", "--initial-noise", noise, "--out", out.path]).run() }, "holds 1 latents, but --count is 2"),
            ({ try SampleCommand.parse(["--model", sd, "--initial-noise", Self.fixture("sd_pipeline_sd1/vae/diffusion_pytorch_model.safetensors"), "--out", out.path]).run() }, "has no tensor 'latents'"),
            ({ try SampleCommand.parse(["--model", sd, "--class", "1", "--out", out.path]).run() }, "a Stable Diffusion pipeline takes --prompt"),
            ({ try ImageCommand.parse(["--model", sd, "--representation", "siren", "--out", out.path]).run() }, "--representation grid"),
            ({ try PanoramaCommand.parse(["--model", sd, "--prompt", "a cat", "--representation", "field", "--out", out.path]).run() }, "--representation grid"),
        ]
        for (body, expected) in cases {
            let message = CLITest.errorMessage(body) ?? "no error"
            #expect(message.contains(expected), "\(message)")
        }
    }
}
