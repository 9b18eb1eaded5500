import DefaultModel
import Foundation
import Testing
@testable import DiffrepCLI

/// `nerf --resume` continues only the run its checkpoint belongs to: another seed or another
/// model is refused by name, and `--stop-after` must lie after the checkpoint's step.
@Suite(.serialized) struct NerfResumeIdentityTests {
    let tiny = CLITest.tinyNerf

    func message(_ args: [String]) -> String? { CLITest.errorMessage { try NerfCommand.parse(args).run() } }

    @Test func resumeWithAnotherSeedOrModelIsRefused() throws {
        let out = CLITest.temporaryFolder("nerf-identity")
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(message(tiny + ["--out", out.path, "--stop-after", "2"]) == nil)
        let checkpoint = out.appendingPathComponent("nerf.safetensors").path
        let seed = tiny.map { $0 == "5" ? "6" : $0 }
        #expect(message(seed + ["--out", out.path, "--resume"])
                == "--resume: the checkpoint '\(checkpoint)' was made with different settings (seed); rerun with the same flags, seed and model")
        // The single-view model also has other noise defaults (carried, ρ = 1) and guidance (3) than the multi-view default's.
        #expect(message(tiny + ["--out", out.path, "--resume", "--model", DefaultModel.folder.path])
                == "--resume: the checkpoint '\(checkpoint)' was made with different settings (azimuth_steps, guidance, model, noise, noise_correlation, single_group_above_sigma, views_per_step); rerun with the same flags, seed and model")
        // Two quarter-turn groups per step (the multi-view default before one) are another run.
        #expect(message(tiny + ["--out", out.path, "--resume", "--views-per-step", "8"])
                == "--resume: the checkpoint '\(checkpoint)' was made with different settings (views_per_step); rerun with the same flags, seed and model")
        #expect(message(tiny + ["--out", out.path, "--resume", "--stop-after", "2"])
                == "--stop-after 2 is not after the checkpoint's step 2: give a later step or drop --stop-after")
        #expect(message(tiny + ["--out", out.path, "--resume"]) == nil)
        // A finished run resumed writes its outputs again (e.g. to add a mesh) without sampling.
        #expect(message(tiny + ["--out", out.path, "--resume"]) == nil)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("turntable.png").path))
    }
}
