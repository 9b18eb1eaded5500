import Foundation
import JSON
import Testing
@testable import Diffusion

/// The released Stable Diffusion 1.5 and 2.1 `unet/` and `text_encoder/` configs build exactly
/// diffusers' and transformers' parameters — every name and shape (Fixtures/sd_full_size_shapes.json,
/// made on PyTorch's meta device by make_sd_fixtures.py; checked here without allocating the weights).
@Suite struct SDFullSizeArchitectureTests {
    static func entry(_ key: String) throws -> (config: Data, shapes: [String: [Int]]) {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("sd_full_size_shapes.json"))) as? [String: Any]
        let item = try #require(root?[key] as? [String: Any])
        let config = try JSONSerialization.data(withJSONObject: try #require(item["config"]))
        let shapes = try #require(item["shapes"] as? [String: [Int]])
        return (config, shapes)
    }

    static func compare(_ ours: [String: [Int]], _ theirs: [String: [Int]]) {
        #expect(Set(ours.keys).subtracting(theirs.keys).sorted() == [], "names diffreps builds that the reference lacks")
        #expect(Set(theirs.keys).subtracting(ours.keys).sorted() == [], "reference names diffreps lacks")
        let differing = ours.keys.filter { theirs[$0] != nil && theirs[$0] != ours[$0] }.sorted()
        #expect(differing == [], "shapes differ: \(differing.prefix(5).map { "\($0): \(ours[$0]!) vs \(theirs[$0]!)" })")
    }

    @Test(arguments: [("sd15", 859_520_964), ("sd21", 865_910_724)])
    func unetMatchesDiffusers(_ name: String, _ count: Int) throws {
        let (json, shapes) = try Self.entry("unet_\(name)")
        let config = try UNet2DConditionConfig(json: json, source: "\(name) unet/config.json")
        let ours = UNet2DCondition.parameterShapes(config)
        Self.compare(ours, shapes)
        #expect(ours.values.reduce(0) { $0 + $1.reduce(1, *) } == count)
    }

    @Test(arguments: [("sd15", 123_060_480), ("sd21", 340_387_840)])
    func textEncoderMatchesTransformers(_ name: String, _ count: Int) throws {
        let (json, shapes) = try Self.entry("text_\(name)")
        let config = try CLIPTextConfig(json: json, source: "\(name) text_encoder/config.json")
        // transformers 5 names have no `text_model.` prefix; diffreps keeps transformers 4's.
        let ours = Dictionary(uniqueKeysWithValues: CLIPTextModel.parameterShapes(config).map {
            (String($0.key.dropFirst(CLIPTextModel.namePrefix.count)), $0.value)
        })
        Self.compare(ours, shapes)
        #expect(ours.values.reduce(0) { $0 + $1.reduce(1, *) } == count)
    }
}
