import Foundation
import PNGIO
import Testing
@testable import DiffrepCLI

/// `diffrep panorama` and `diffrep nerf` with a Stable Diffusion pipeline folder and a prompt
/// (the tiny random-weight pipelines of DiffusionTests/Fixtures, made by diffusers): a latent
/// panorama decoded with the width wrapping around, and a latent NeRF whose turntable frames are
/// decoded by the VAE — with the pullback sampler, SDS and SJC.
@Suite struct LatentPipelineCommandTests {
    static func fixture(_ name: String) -> String { PipelineCommandTests.fixture(name) }

    static func manifestSettings(_ out: URL) throws -> [String: Any] {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as? [String: Any])
        let files = try #require(manifest["model_files"] as? [String: Any])
        #expect(files.keys.contains { $0.hasPrefix("vae/") }, "the manifest records the pipeline's files: \(files.keys.sorted())")
        return try #require(manifest["settings"] as? [String: Any])
    }

    @Test(arguments: ["pullback", "sds"])
    func panoramaFromAPrompt(_ sampler: String) throws {
        let out = CLITest.temporaryFolder("sd-panorama")
        defer { try? FileManager.default.removeItem(at: out) }
        try PanoramaCommand.parse(["--model", Self.fixture("sd_pipeline_sd1"), "--prompt", "a mountain lake at dawn",
                                   "--negative-prompt", "blurry", "--width", "48", "--steps", "3", "--iterations", "3",
                                   "--sampler", sampler, "--perspective-views", "2", "--seed", "4", "--out", out.path]).run()
        let pano = try PNG.read(out.appendingPathComponent("panorama.png").path, channels: 3)
        #expect(pano.width == 48 && pano.height == 16)                   // latents [4, 8, 24] ×2 by this VAE
        #expect(Set(pano.pixels).count > 20, "the panorama is flat")
        let tiled = try PNG.read(out.appendingPathComponent("panorama_tiled.png").path, channels: 3)
        #expect(tiled.width == 96)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("view_01.png").path))
        let settings = try Self.manifestSettings(out)
        #expect(settings["prompt"] as? String == "a mountain lake at dawn" && settings["negative_prompt"] as? String == "blurry")
        #expect(settings["guidance"] as? Double == 7.5)                  // diffusers' default without --guidance
        #expect(settings["representation"] as? String == "latent-strip" && settings["sampler"] as? String == sampler)
    }

    @Test(arguments: ["pullback", "sds", "sjc"])
    func nerfFromAPromptWritesDecodedTurntable(_ sampler: String) throws {
        let out = CLITest.temporaryFolder("sd-nerf")
        defer { try? FileManager.default.removeItem(at: out) }
        try NerfCommand.parse(["--model", Self.fixture("sd_pipeline_sd2"), "--prompt", "a red box", "--guidance", "3",
                               "--sampler", sampler, "--steps", "2", "--iterations", "2", "--views-per-step", "2",
                               "--resolution", "8", "--samples-per-ray", "8", "--frames", "3", "--seed", "2", "--out", out.path]).run()
        var frames: [PNGImage] = []
        for k in 0..<3 {
            let frame = try PNG.read(out.appendingPathComponent(String(format: "turntable/frame_%03d.png", k)).path, channels: 3)
            #expect(frame.width == 16 && frame.height == 16)           // latents 8×8 decoded ×2
            frames.append(frame)
        }
        #expect(frames[0].pixels != frames[1].pixels, "the turntable frames are all the same picture")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("turntable.png").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("nerf.safetensors").path))
        let settings = try Self.manifestSettings(out)
        #expect(settings["prompt"] as? String == "a red box" && settings["guidance"] as? Double == 3)
        #expect(settings["representation"] as? String == "latent-nerf" && settings["sampler"] as? String == sampler)
    }

    @Test func misuseIsExplained() throws {
        let sd = Self.fixture("sd_pipeline_sd1")
        let out = CLITest.temporaryFolder("sd-latent-misuse")
        defer { try? FileManager.default.removeItem(at: out) }
        let cases: [(() throws -> Void, String)] = [
            ({ try PanoramaCommand.parse(["--model", sd, "--prompt", "a cat", "--representation", "field", "--out", out.path]).run() }, "--representation grid"),
            ({ try PanoramaCommand.parse(["--model", sd, "--prompt", "a cat", "--width", "33", "--out", out.path]).run() }, "multiple of the VAE's factor 2"),
            ({ try PanoramaCommand.parse(["--model", sd, "--prompt", "a cat", "--width", "16", "--class", "1", "--out", out.path]).run() }, "a Stable Diffusion pipeline takes --prompt"),
            ({ try NerfCommand.parse(["--model", sd, "--prompt", "a cat", "--mesh", "m.ply", "--out", out.path]).run() }, "--mesh"),
            ({ try NerfCommand.parse(["--model", sd, "--prompt", "a cat", "--resume", "--out", out.path]).run() }, "--resume"),
            ({ try NerfCommand.parse(["--model", sd, "--prompt", "a cat", "--noise", "surface", "--out", out.path]).run() }, "--noise surface"),
        ]
        for (body, expected) in cases {
            let message = CLITest.errorMessage(body) ?? "no error"
            #expect(message.contains(expected), "\(message)")
        }
    }
}
