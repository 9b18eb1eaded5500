import DefaultModel
import Diffusion
import Foundation
import SafeTensors
import Testing
@testable import DiffrepCLI

/// `diffrep eval` does not report NaN figures as a result: a model with a NaN weight fails.
@Suite struct EvalFiguresTests {
    @Test func nanFiguresAreAnError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("eval-nan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let model = base.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DefaultModel.folder, to: model)
        let weights = model.appendingPathComponent("diffusion_pytorch_model.safetensors")
        let contents = try SafeTensors.read(contentsOf: weights)
        let (name, first) = try #require(contents.tensors.first { $0.name.hasPrefix("conv_out") })
        first.data = [Float](repeating: .nan, count: first.count)
        try SafeTensors.save(contents.tensors.map { $0.name == name ? (name: name, tensor: first) : $0 },
                             metadata: contents.metadata, to: weights)
        let eval = try EvalLossCommand.parse(["--model", model.path, "--count", "2", "--batch-size", "2",
                                              "--bands", "0,500,1000", "--out", base.appendingPathComponent("out").path])
        do {
            try eval.run()
            Issue.record("eval exited normally with NaN figures")
        } catch let error as EvalFiguresError {
            #expect(error.bands == ["[0, 500)", "[500, 1000)"])
            #expect(error.example.isNaN)
            #expect(error.description.hasPrefix("the held-out loss of '\(model.path)' is nan in bands [0, 500), [500, 1000)"))
        }
    }
}

/// `diffrep eval nerf` on a run whose NeRF holds NaN fails instead of printing NaN figures.
@Suite struct EvalNerfFiguresTests {
    @Test func aNaNNeRFIsAnError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("eval-nan-nerf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let run = base.appendingPathComponent("run")
        let nerf = try NerfCommand.parse(["--steps", "2", "--resolution", "8", "--samples-per-ray", "8", "--frames", "4",
                                          "--display-size", "16", "--class", "torus", "--out", run.path])
        try nerf.run()
        let checkpoint = run.appendingPathComponent("nerf.safetensors")
        let contents = try SafeTensors.read(contentsOf: checkpoint)
        for (_, t) in contents.tensors { t.data = [Float](repeating: .nan, count: t.count) }
        try SafeTensors.save(contents.tensors, metadata: contents.metadata, to: checkpoint)
        let eval = try EvalNerfCommand.parse([run.path, "--references", "2", "--frames", "4", "--no-real-row",
                                              "--out", base.appendingPathComponent("out").path])
        do {
            try eval.run()
            Issue.record("eval nerf exited normally with NaN figures")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix("the evaluation gave figures that are not numbers — pullback (class 4): "), "\(message)")
            #expect(message.contains("class probability nan"), "\(message)")
            #expect(message.hasSuffix("(eval.json and eval.md were written for inspection)"), "\(message)")
        }
    }
}
