import Diffusion
import Foundation
import PNGIO
import SafeTensors
import TensorCore
import Testing
@testable import DiffrepCLI

/// Training data the model cannot take and training checkpoints altered by hand are clear
/// errors naming the folder or file, the value and what is allowed — before any training step.
@Suite struct TrainingInputTests {
    func temporaryFolder() -> URL { CLITest.temporaryFolder("train-input") }

    /// A folder of two `side`×`side` PNGs.
    func pngFolder(side: Int) throws -> URL {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for k in 0..<2 {
            try PNG.write(Tensor([3, side, side], data: [Float](repeating: Float(k) * 0.5 - 0.25, count: 3 * side * side)),
                          to: folder.appendingPathComponent("img_\(k).png").path)
        }
        return folder
    }

    func runMessage(_ args: [String]) -> String? { CLITest.errorMessage { try TrainCommand.parse(args).run() } }

    @Test(arguments: [1, 7])
    func imagesSmallerThanTheModelTakesAreRefused(side: Int) throws {
        let data = try pngFolder(side: side), out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: out) }
        #expect(runMessage(["--data", data.path, "--steps", "1", "--out", out.path])
                == "the PNGs in '\(data.path)' are \(side)×\(side); the model takes square images of at least 8×8")
    }

    @Test func imagesTheLevelsCannotHalveAreRefused() throws {
        let data = try pngFolder(side: 10), out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: out) }
        #expect(runMessage(["--data", data.path, "--steps", "1", "--out", out.path])
                == "the PNGs in '\(data.path)' (10×10) cannot be used: the UNet's 3 levels need a side of at least 8 that is a multiple of 4 (2^(levels − 1))")
    }

    @Test func aDataPathThatIsAFileIsNamed() throws {
        let file = temporaryFolder(), out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: out) }
        try Data("x".utf8).write(to: file)
        #expect(runMessage(["--data", file.path, "--steps", "1", "--out", out.path])
                == "the data path '\(file.path)' is a file, not a folder of PNGs")
    }

    /// A one-step run's checkpoint, its step set negative, then its batch size set to 0.
    @Test func tamperedCheckpointsAreRefused() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let tiny = ["--channels", "32", "--attention", "", "--size", "8", "--steps", "2", "--batch-size", "2",
                    "--checkpoint-every", "1", "--out", out.path]
        #expect(runMessage(tiny.map { $0 == "2" ? "1" : $0 }) == nil)     // --steps 1 --batch-size 1
        let state = out.appendingPathComponent("checkpoint").appendingPathComponent(DenoiserTrainer.stateFileName)
        let original = try SafeTensors.read(contentsOf: state)

        var metadata = try #require(original.metadata)
        metadata["step"] = "-5"
        try SafeTensors.save(original.tensors, metadata: metadata, to: state)
        #expect(runMessage(tiny + ["--resume"])
                == "checkpoint '\(state.path)': step = -5 is out of range (allowed: an integer in 0…1099511627776); the file was damaged or altered")

        metadata = try #require(original.metadata)
        let configText = try #require(metadata["training_config"])
        var config = try #require(try JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any])
        #expect(config["batchSize"] as? Int == 1)
        for bad in [0, -3] {
            config["batchSize"] = bad
            metadata["training_config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
            try SafeTensors.save(original.tensors, metadata: metadata, to: state)
            #expect(runMessage(tiny + ["--resume"])
                    == "checkpoint '\(state.path)': training_config.batchSize = \(bad) is out of range (allowed: an integer in 1…65536); the file was damaged or altered")
        }
    }

    /// `--resume --learning-rate` changes the rate from the next step on (the advice after a NaN),
    /// and the next checkpoint records it; without the flag the checkpoint's rate is kept.
    @Test func resumeCanLowerTheLearningRate() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let tiny = ["--channels", "32", "--attention", "", "--size", "8", "--batch-size", "1",
                    "--checkpoint-every", "1", "--out", out.path]
        let state = out.appendingPathComponent("checkpoint").appendingPathComponent(DenoiserTrainer.stateFileName)
        func savedRate() throws -> Double? {
            let text = try #require(try SafeTensors.read(contentsOf: state).metadata?["training_config"])
            return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["learningRate"] as? Double
        }
        #expect(runMessage(tiny + ["--steps", "1", "--learning-rate", "0.002"]) == nil)
        #expect(try savedRate().map { abs($0 - 0.002) < 1e-9 } == true)
        #expect(runMessage(tiny + ["--steps", "2", "--resume"]) == nil)
        #expect(try savedRate().map { abs($0 - 0.002) < 1e-9 } == true)
        #expect(runMessage(tiny + ["--steps", "3", "--resume", "--learning-rate", "0.0005"]) == nil)
        #expect(try savedRate().map { abs($0 - 0.0005) < 1e-9 } == true)
        #expect(runMessage(tiny + ["--steps", "4", "--resume", "--learning-rate", "-1"])?
                .contains("--learning-rate -1.0 is out of range: allowed a finite number > 0") == true)
    }
}

