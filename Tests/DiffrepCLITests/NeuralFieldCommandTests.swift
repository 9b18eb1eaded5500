import Foundation
import Testing
@testable import DiffrepCLI

/// `diffrep image --representation siren` and `diffrep panorama --representation field` run end
/// to end and say in their manifests what they sampled; without the option both stay pixel grids.
@Suite struct NeuralFieldCommandTests {
    func settings(_ folder: URL) throws -> [String: Any] {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("manifest.json"))) as? [String: Any])
        return try #require(manifest["settings"] as? [String: Any])
    }

    @Test func sirenImagesRunEndToEnd() throws {
        let out = CLITest.temporaryFolder("siren-image")
        defer { try? FileManager.default.removeItem(at: out) }
        let image = try ImageCommand.parse(CLITest.tinyImage + ["--representation", "siren", "--out", out.path])
        try image.run()
        for file in ["image_00.png", "images.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "missing \(file)")
        }
        let s = try settings(out)
        #expect(s["representation"] as? String == "siren")
        #expect(s["state"] as? String == "denoised")
    }

    /// The Fourier-feature field keeps the denoised state too (in the noisy one it diverged).
    @Test func fourierFieldImagesSampleInTheDenoisedState() throws {
        let out = CLITest.temporaryFolder("fourier-image")
        defer { try? FileManager.default.removeItem(at: out) }
        try ImageCommand.parse(CLITest.tinyImage + ["--representation", "field", "--out", out.path]).run()
        let s = try settings(out)
        #expect(s["representation"] as? String == "field")
        #expect(s["state"] as? String == "denoised" && s["noise"] as? String == "carried")
    }

    @Test func panoramaFieldsRunEndToEnd() throws {
        let out = CLITest.temporaryFolder("panorama-field")
        defer { try? FileManager.default.removeItem(at: out) }
        let pano = try PanoramaCommand.parse(CLITest.tinyPanorama + ["--representation", "field", "--out", out.path])
        try pano.run()
        for file in ["panorama.png", "panorama_tiled.png", "view_00.png", "view_01.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "missing \(file)")
        }
        let s = try settings(out)
        #expect(s["representation"] as? String == "field")
        #expect(s["state"] as? String == "denoised")
    }

    @Test func theDefaultsStayPixelGrids() throws {
        #expect(try ImageCommand.parse([]).representation == .grid)
        #expect(try PanoramaCommand.parse([]).representation == .grid)
    }
}
