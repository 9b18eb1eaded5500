import Foundation
import Testing
@testable import DiffrepCLI

/// `diffrep eval nerf|images|panorama` end to end on tiny runs with the embedded model and the
/// shipped classifier: the table's rows (each sampler and class, plus real toys) and eval.json;
/// a folder that is not a run of that kind is a clear error. `diffrep nerf` manifests carry the
/// evaluation figures of their own turntable.
@Suite struct EvalCommandTests {
    func temporaryFolder() -> URL { CLITest.temporaryFolder("eval-cli") }

    func json(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    @Test func evaluatesNerfRunsAgainstRealToys() throws {
        let run = temporaryFolder(), out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: run); try? FileManager.default.removeItem(at: out) }
        var nerf = try NerfCommand.parse(["--steps", "3", "--resolution", "8", "--samples-per-ray", "8", "--frames", "4",
                                          "--display-size", "16", "--class", "torus", "--seed", "2", "--out", run.path])
        try nerf.run()
        let measurements = try #require(try json(run.appendingPathComponent("manifest.json"))["measurements"] as? [String: Any])
        for key in ["eval_recognised", "eval_silhouette_change", "eval_real_silhouette_change", "eval_view_consistent_change", "eval_kid_x1000"] {
            #expect(measurements[key] != nil, "manifest lacks \(key)")
        }
        var eval = try EvalNerfCommand.parse([run.path, "--references", "4", "--frames", "8", "--out", out.path])
        try eval.run()
        let report = try json(out.appendingPathComponent("eval.json"))
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["pullback", "real toys"])
        #expect(rows.allSatisfy { ($0["classLabel"] as? Int) == 4 })
        let real = rows[1]
        #expect((real["silhouetteChange"] as? Double ?? 0) > 0.1, "real toy turntables turn: \(real)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("eval.md").path))
    }

    @Test func evaluatesImageAndPanoramaRuns() throws {
        let images = temporaryFolder(), pano = temporaryFolder(), out = temporaryFolder()
        defer { for u in [images, pano, out] { try? FileManager.default.removeItem(at: u) } }
        var image = try ImageCommand.parse(["--count", "2", "--steps", "3", "--class", "sphere", "--out", images.path])
        try image.run()
        var eval = try EvalImagesCommand.parse([images.path, "--out", out.path])
        try eval.run()
        let rows = try #require(try json(out.appendingPathComponent("eval.json"))["rows"] as? [[String: Any]])
        #expect(rows.count == 2 && rows[0]["samples"] as? Int == 2)

        var panorama = try PanoramaCommand.parse(["--steps", "3", "--width", "64", "--out", pano.path])
        try panorama.run()
        var evalPano = try EvalPanoramaCommand.parse([pano.path, "--windows", "4", "--out", out.path])
        try evalPano.run()
        let panoRows = try #require(try json(out.appendingPathComponent("eval.json"))["rows"] as? [[String: Any]])
        #expect(panoRows.count == 1 && panoRows[0]["samples"] as? Int == 4, "an unconditional panorama has no real row: \(panoRows)")
    }

    @Test func aFolderOfTheWrongKindIsAClearError() throws {
        let images = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: images) }
        var image = try ImageCommand.parse(["--count", "1", "--steps", "2", "--out", images.path])
        try image.run()
        var eval = try EvalNerfCommand.parse([images.path])
        do {
            try eval.run()
            Issue.record("an image run evaluated as a NeRF run")
        } catch {
            #expect("\(error)".contains("holds a diffrep image run, not nerf"), "\(error)")
        }
    }
}
