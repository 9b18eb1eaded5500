import DefaultModel
import Foundation
import Testing
@testable import DiffrepCLI

/// `diffrep nerf` end to end on a tiny grid with the embedded model: every output file appears,
/// and a run stopped half-way and resumed ends bit-identical to an uninterrupted one.
// Serialized: the resume tests compare files bit for bit, and OpenBLAS's thread count is global
// state that concurrently running NeRF tests change (see CRAFT: one level of parallelism).
@Suite(.serialized) struct NerfCommandTests {
    let tiny = CLITest.tinyNerf

    func temporaryFolder() -> URL { CLITest.temporaryFolder("nerf-cli") }

    func run(_ args: [String]) throws {
        var command = try NerfCommand.parse(args)
        try command.run()
    }

    /// `args` without `--resolution N` (a voxel-grid option that the hash grid refuses).
    static func withoutResolution(_ args: [String]) -> [String] {
        guard let i = args.firstIndex(of: "--resolution") else { return args }
        return Array(args[..<i] + args[(i + 2)...])
    }

    /// `--resolution` only means something for the voxel grid: with the hash grid it is refused by name.
    @Test func resolutionWithTheHashGridIsRefused() throws {
        do {
            _ = try NerfCommand.parse(["--field", "hash", "--resolution", "16"])
            Issue.record("--resolution was accepted with --field hash")
        } catch {
            #expect(NerfCommand.message(for: error).contains("--resolution sets the voxel grid"), "\(error)")
        }
        _ = try NerfCommand.parse(["--field", "hash"])
        _ = try NerfCommand.parse(["--resolution", "16"])
    }

    @Test func emptySpaceAppliesToTheHashGridOnly() throws {
        do {
            _ = try NerfCommand.parse(["--empty-space", "evaluate"])
            Issue.record("--empty-space was accepted with the voxel grid")
        } catch {
            #expect(NerfCommand.message(for: error).contains("--empty-space applies to the hash grid"), "\(error)")
        }
        #expect(try NerfCommand.parse(["--field", "hash", "--empty-space", "evaluate"]).emptySpace == .evaluate)
        #expect(try NerfCommand.parse(["--field", "hash"]).emptySpace == nil)
        #expect(throws: (any Error).self) { try NerfCommand.parse(["--field", "hash", "--empty-space", "sometimes"]) }
    }

    /// Per-sampler guidance only where it was measured: with a multi-view model.
    @Test func defaultGuidanceDependsOnSamplerAndModel() throws {
        #expect(NerfCommand.defaultGuidance(sampler: .pullback, multiView: true) == 2)
        #expect(NerfCommand.defaultGuidance(sampler: .pullback, multiView: false) == 3)
        #expect(NerfCommand.defaultGuidance(sampler: .sds, multiView: true) == 5)
        #expect(NerfCommand.defaultGuidance(sampler: .sds, multiView: false) == 3)
        #expect(NerfCommand.defaultGuidance(sampler: .sjc, multiView: true) == 5)
        #expect(NerfCommand.defaultGuidance(sampler: .sjc, multiView: false) == 3)
        #expect(try NerfCommand.parse(["--guidance", "4"]).model.guidance == 4)
        #expect(try NerfCommand.parse([]).model.guidance == nil)
    }

    @Test func writesEveryOutput() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        try run(tiny + ["--out", out.path])
        for file in ["turntable.png", "turntable/frame_000.png", "turntable/frame_002.png", "depth.png", "opacity.png",
                     "nerf.safetensors", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "missing \(file)")
        }
        let manifest = try String(contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8)
        #expect(manifest.contains("\"subcommand\" : \"nerf\"") || manifest.contains("\"subcommand\":\"nerf\""))
    }

    /// Four steps on an 8³ grid with the class-only model leave only haze: asking for its mesh
    /// is an error that names the cause, not an empty file, and every other output is already written.
    @Test func meshOfAnEmptyNeRFIsAnErrorThatKeepsTheOtherOutputs() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        do {
            try run(tiny + ["--out", out.path, "--mesh", "mesh.ply", "--model", DefaultModel.folder.path])
            Issue.record("an empty mesh was written as a success")
        } catch {
            #expect("\(error)".contains("no mesh: no ray of the NeRF reaches half opacity"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("mesh.ply").path))
        for file in ["turntable.png", "nerf.safetensors", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "missing \(file)")
        }
    }

    @Test func resumeEqualsUninterrupted() throws {
        let a = temporaryFolder(), b = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        try run(tiny + ["--out", a.path])
        try run(tiny + ["--out", b.path, "--stop-after", "2"])
        let half = try Data(contentsOf: b.appendingPathComponent("nerf.safetensors"))
        try run(tiny + ["--out", b.path, "--resume"])
        let whole = try Data(contentsOf: a.appendingPathComponent("nerf.safetensors"))
        let resumed = try Data(contentsOf: b.appendingPathComponent("nerf.safetensors"))
        #expect(half != whole, "the half-way checkpoint should differ from the finished one")
        #expect(resumed == whole)
    }

    @Test func hashFieldWritesEveryOutputAndResumesExactly() throws {
        let a = temporaryFolder(), b = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let hash = Self.withoutResolution(tiny) + ["--field", "hash"]
        try run(hash + ["--out", a.path, "--mesh", "mesh.obj"])
        for file in ["turntable.png", "depth.png", "opacity.png", "nerf.safetensors", "manifest.json", "mesh.obj"] {
            #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent(file).path), "missing \(file)")
        }
        try run(hash + ["--out", b.path, "--stop-after", "2"])
        // A grid cannot resume a hash run: refused by the settings that differ.
        #expect(CLITest.errorMessage { try run(tiny + ["--out", b.path, "--resume"]) }
                == "--resume: the checkpoint '\(b.appendingPathComponent("nerf.safetensors").path)' was made with different settings (field, hash_finest, hash_width, resolution); rerun with the same flags, seed and model")
        try run(hash + ["--out", b.path, "--resume"])
        #expect(try Data(contentsOf: a.appendingPathComponent("nerf.safetensors"))
                == Data(contentsOf: b.appendingPathComponent("nerf.safetensors")))
    }

    /// `--hash-width` and `--hash-finest` set the hash grid's MLP and levels: refused without
    /// `--field hash`, recorded in the manifest, a resume with another width refused by name, and
    /// `diffrep eval nerf` rebuilds the run's field with them (a default field could not load
    /// the 8-wide weights).
    @Test func hashWidthSetsTheMLPAndTravelsWithTheRun() throws {
        #expect(CLITest.errorMessage { _ = try NerfCommand.parse(["--hash-width", "16"]) }?
            .contains("--hash-width applies to the hash grid") == true)
        #expect(CLITest.errorMessage { _ = try NerfCommand.parse(["--hash-finest", "64"]) }?
            .contains("--hash-finest applies to the hash grid") == true)
        #expect(CLITest.errorMessage { _ = try NerfCommand.parse(["--field", "hash", "--hash-width", "0"]) } != nil)
        #expect(CLITest.errorMessage { _ = try NerfCommand.parse(["--field", "hash", "--hash-finest", "4"]) } != nil)
        let run = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: run) }
        let hash = Self.withoutResolution(tiny) + ["--field", "hash", "--hash-finest", "32", "--hash-width", "8", "--out", run.path]
        try self.run(hash + ["--stop-after", "2"])
        let refused = CLITest.errorMessage { try self.run(hash.dropLast(4) + ["--hash-width", "16", "--out", run.path, "--resume"]) }
        #expect(refused?.contains("different settings (hash_width)") == true, "\(refused ?? "accepted")")
        try self.run(hash + ["--resume"])
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("manifest.json"))) as? [String: Any])
        #expect((manifest["settings"] as? [String: Any])?["hash_width"] as? Int == 8)
        #expect((manifest["settings"] as? [String: Any])?["hash_finest"] as? Int == 32)
        try expectReevaluationReproduces(run, manifest: manifest)
    }

    /// A hash run folder from before the settings named width and levels (64 wide, levels to
    /// 128) is read back as such: `diffrep eval nerf` gets its own figures back.
    @Test func hashRunsWithoutWidthAndLevelsReadBackAsTheOldField() throws {
        let run = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: run) }
        try self.run(Self.withoutResolution(tiny) + ["--field", "hash", "--hash-width", "64", "--hash-finest", "128", "--out", run.path])
        let url = run.appendingPathComponent("manifest.json")
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var settings = try #require(manifest["settings"] as? [String: Any])
        #expect(settings.removeValue(forKey: "hash_width") as? Int == 64)
        #expect(settings.removeValue(forKey: "hash_finest") as? Int == 128)
        manifest["settings"] = settings
        try JSONSerialization.data(withJSONObject: manifest).write(to: url)
        try expectReevaluationReproduces(run, manifest: manifest)
    }

    /// `diffrep eval nerf` of the run folder `run` gives back the run's own KID, silhouette change
    /// and view-consistent change exactly (its `manifest`): the renders are the same only if the
    /// field is rebuilt as the run built it.
    func expectReevaluationReproduces(_ run: URL, manifest: [String: Any]) throws {
        let eval = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: eval) }
        var command = try EvalNerfCommand.parse([run.path, "--out", eval.path])
        try command.run()
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: eval.appendingPathComponent("eval.json"))) as? [String: Any])
        let row = try #require((report["rows"] as? [[String: Any]])?.first)
        let own = try #require(manifest["measurements"] as? [String: Any])
        #expect(row["kid"] as? Double == own["eval_kid_x1000"] as? Double)
        #expect(row["silhouetteChange"] as? Double == own["eval_silhouette_change"] as? Double)
        #expect(row["viewChange"] as? Double == own["eval_view_consistent_change"] as? Double)
    }

    @Test func resumeWithOtherSettingsIsRefused() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        try run(tiny + ["--out", out.path, "--stop-after", "1"])
        #expect(CLITest.errorMessage { try run(tiny + ["--out", out.path, "--resume", "--guidance", "5"]) }
                == "--resume: the checkpoint '\(out.appendingPathComponent("nerf.safetensors").path)' was made with different settings (guidance); rerun with the same flags, seed and model")
    }

    @Test(arguments: [
        (["nerf", "--resolution", "2"], "--resolution 2 is out of range: allowed 4…256"),
        (["nerf", "--mesh", "out.stl"], "--mesh must end in .ply or .obj"),
        (["nerf", "--eta", "3"], "--eta 3.0 is out of range: allowed 0.0…1.0"),
        (["nerf", "--field", "octree"], "The value 'octree' is invalid for '--field <field>'. Please provide one of 'grid' and 'hash'."),
    ])
    func invalidOptionsAreRejected(args: [String], message: String) {
        #expect(OptionValidationTests.parseMessage(args) == message)
    }
}
