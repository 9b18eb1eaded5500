import Foundation
import SafeTensors
import Testing
import TensorCore
@testable import Diffusion

/// Parity with transformers' `CLIPTextModel` (`last_hidden_state`): fixtures made by
/// Fixtures/make_sd_fixtures.py — quick_gelu with F32 weights (SD 1-like), gelu with BF16
/// weights, another width, depth, head count and ε (SD 2-like); a full-length and a short batch.
@Suite struct CLIPTextModelParityTests {
    static func ids(_ t: Tensor) -> [[Int]] {
        let (b, l) = (t.shape[0], t.shape[1])
        return (0..<b).map { i in (0..<l).map { Int(t.data[i * l + $0]) } }
    }

    @Test(arguments: ["quick_gelu", "gelu"])
    func lastHiddenStateMatchesTransformers(_ name: String) throws {
        let folder = try fixtureURL("clip_\(name)")
        let encoder = try CLIPTextModel(contentsOf: folder)
        #expect(encoder.config.hiddenAct.rawValue == name)
        let io = try SafeTensors.loadDictionary(contentsOf: folder.appendingPathComponent("io.safetensors"))
        for part in ["full", "short"] {
            let ids = Self.ids(try #require(io["ids_\(part)"])), expected = try #require(io["hidden_\(part)"])
            let out = GradMode.withoutGrad { encoder.encode(ids) }
            #expect(out.shape == expected.shape)
            let scale = expected.data.reduce(0) { max($0, abs($1)) }
            let err = zip(out.data, expected.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
            #expect(err <= 1e-4 * scale, "\(name) \(part): max-abs error \(err) (scale \(scale))")
        }
    }

    /// transformers 4 files: names under `text_model.` and a `position_ids` buffer (I64).
    @Test func loadsTransformers4Names() throws {
        let folder = try fixtureURL("clip_quick_gelu")
        let encoder = try CLIPTextModel(contentsOf: folder)
        let weights = try SafeTensors.load(contentsOf: folder.appendingPathComponent("model.safetensors"))
        #expect(!weights.contains { $0.name.hasPrefix("text_model.") })   // transformers 5 wrote these
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: folder.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        let renamed = weights.map { (name: "text_model." + $0.name, tensor: $0.tensor) }
            + [(name: "text_model.embeddings.position_ids", tensor: Tensor([1, 16], data: (0..<16).map(Float.init)))]
        try SafeTensors.save(renamed, dtypes: ["text_model.embeddings.position_ids": .i64], to: dir.appendingPathComponent("model.safetensors"))
        let again = try CLIPTextModel(contentsOf: dir)
        let ids = [[3, 1, 4, 1, 5, 9, 2, 6]]
        #expect(GradMode.withoutGrad { again.encode(ids) }.data == GradMode.withoutGrad { encoder.encode(ids) }.data)
    }

    @Test func causalMaskKeepsEarlierTokensIndependentOfLaterOnes() throws {
        let encoder = try CLIPTextModel(contentsOf: fixtureURL("clip_gelu"))
        let a = GradMode.withoutGrad { encoder.encode([[5, 6, 7, 8, 9]]) }
        let b = GradMode.withoutGrad { encoder.encode([[5, 6, 7, 1, 2]]) }
        #expect(a.slice(axis: 1, 0..<3).data == b.slice(axis: 1, 0..<3).data)
        #expect(a.slice(axis: 1, 3..<5).data != b.slice(axis: 1, 3..<5).data)
    }
}
