import DefaultModel
import Foundation
import RunSupport
import Testing
@testable import DiffrepCLI

/// Commands and their output folders: one run per folder, paths that cannot be written named
/// in the message (no framework error dumps), reruns that leave no stale files, the mesh path
/// checked before sampling, and a checkpoint that cannot be saved stopping the run.
@Suite(.serialized) struct OutputFolderCommandTests {
    let tinyNerf = CLITest.tinyNerf

    func temporaryFolder() -> URL { CLITest.temporaryFolder("out-cli") }

    func message(_ body: () throws -> Void) -> String? { CLITest.errorMessage(body) }

    @Test func aSecondRunIntoAHeldFolderFailsNamingTheHolder() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let holder = try OutputRun.begin(out.path, staged: true)
        let m = message { let s = try SampleCommand.parse(["--count", "1", "--steps", "2", "--out", out.path]); try s.run() }
        holder.end()
        #expect(m?.hasPrefix("cannot write to output folder '\(out.path)': another diffrep run (PID \(getpid())) is writing to it") == true, "\(m ?? "no error")")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("samples.png").path))
        let s = try SampleCommand.parse(["--count", "1", "--steps", "2", "--out", out.path])
        try s.run()         // free again
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("samples.png").path))
    }

    @Test func pathsThatCannotBeWrittenAreNamed() throws {
        let file = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("x".utf8).write(to: file)
        #expect(message { let s = try SampleCommand.parse(["--count", "1", "--out", file.path]); try s.run() }
                == "cannot write to output folder '\(file.path)': it exists and is not a folder")
        let under = file.appendingPathComponent("toys").path
        #expect(message { let d = try DatasetCommand.parse(["--count", "1", "--out", under]); try d.run() }
                == "cannot write to output folder '\(under)': '\(file.path)' is a file, not a folder")
    }

    /// Three images, then one: the folder holds the second run's image and manifest only.
    @Test func aRerunWithFewerImagesLeavesNoStaleFiles() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        for count in ["3", "1"] {
            let image = try ImageCommand.parse(["--steps", "2", "--count", count, "--out", out.path])
            try image.run()
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names == ["image_00.png", "images.png", "manifest.json"])
        let manifest = try RunManifest.read(from: out.appendingPathComponent("manifest.json"))
        #expect(manifest.outputs == ["image_00.png", "images.png"])
    }

    /// The same for `dataset`: a second export with a smaller --count removes the first one's extra images.
    @Test func aSmallerDatasetExportRemovesTheExtraImages() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        for count in ["3", "1"] {
            let d = try DatasetCommand.parse(["--count", count, "--size", "8", "--out", out.path])
            try d.run()
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names == ["labels.csv", "manifest.json", "toy_000000.png"])
    }

    /// A train run killed while saving leaves `.checkpoint.tmp-PID/`; the next run into the
    /// folder removes it.
    @Test func aKilledTrainRunsTemporaryCheckpointIsRemoved() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let stale = out.appendingPathComponent(".checkpoint.tmp-\(child.processIdentifier)/model")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: stale.appendingPathComponent("config.json"))
        let train = try TrainCommand.parse(["--channels", "32", "--attention", "", "--size", "8", "--steps", "1",
                                            "--batch-size", "1", "--out", out.path])
        try train.run()
        let hidden = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".checkpoint") }
        #expect(hidden.isEmpty, "\(hidden)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoint/model/config.json").path))
    }

    /// `--mesh` into a folder that does not exist fails before sampling: no checkpoint is written.
    @Test func aMeshPathInAMissingFolderFailsBeforeSampling() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let m = message { let n = try NerfCommand.parse(tinyNerf + ["--mesh", "nodir/m.ply", "--out", out.path]); try n.run() }
        #expect(m == "--mesh 'nodir/m.ply': the folder '\(out.path)/nodir' does not exist (create it first, or give a path in an existing folder)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("nerf.safetensors").path))
    }

    /// A checkpoint that cannot be saved (a folder stands in its place) stops the run at the
    /// first save, naming the file; no outputs or manifest appear.
    @Test func aCheckpointSaveFailureStopsTheRun() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let blocker = out.appendingPathComponent("nerf.safetensors")
        try FileManager.default.createDirectory(at: blocker.appendingPathComponent("x"), withIntermediateDirectories: true)
        do {
            let n = try NerfCommand.parse(tinyNerf + ["--out", out.path])
            try n.run()
            Issue.record("the run succeeded without its checkpoints")
        } catch let error as CheckpointSaveError {
            #expect(error.step == 1)
            #expect(error.path == blocker.path)
            #expect(error.description.hasPrefix("saving the checkpoint '\(blocker.path)' after step 1 failed"))
        }
        for file in ["manifest.json", "turntable.png"] {
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) written")
        }
    }
}
