import Foundation
import Testing
import JSON
import SafeTensors
import TensorCore
import Diffreps

/// NeRFCheckpoint (what `diffrep nerf` saves and resumes from), through Diffreps and SafeTensors
/// alone: the field comes back exactly, and a resume with other settings names what differs.
@Suite struct NeRFCheckpointTests {
    static func nerf(fill: Float) -> NeRFDiffrep {
        let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 4), imageSize: 8)
        for (i, (_, p)) in nerf.parameters.enumerated() { p.data = p.data.indices.map { fill * Float($0 % 7 + i) } }
        return nerf
    }

    @Test func savedFieldComesBackWithItsStepAndSettings() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nerf-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let settings: [String: JSONValue] = ["steps": 50, "field": "grid", "guidance": .double(2.5)]
        let saved = Self.nerf(fill: 0.25)
        try NeRFCheckpoint.save(saved, step: 12, settings: settings, to: url)

        let loaded = Self.nerf(fill: 0)
        let (step, text) = try NeRFCheckpoint.restore(contentsOf: url, into: loaded)
        #expect(step == 12)
        #expect(text == #"{"field":"grid","guidance":2.5,"steps":50}"#)
        for ((name, a), (_, b)) in zip(saved.parameters, loaded.parameters) { #expect(a.data == b.data, "\(name)") }
        #expect(NeRFCheckpoint.mismatch(text, settings) == nil)
    }

    @Test func mismatchNamesTheDifferingKeys() throws {
        let saved = try NeRFCheckpoint.canonical(["steps": 50, "seed": "3", "eta": .number("1")])
        #expect(NeRFCheckpoint.mismatch(saved, ["steps": 60, "seed": "3", "eta": .number("1.0")]) == ["steps"], "1 and 1.0 agree")
        #expect(NeRFCheckpoint.mismatch(saved, ["steps": 50, "seed": "3", "eta": 1, "field": "hash"]) == ["field"])
        #expect(NeRFCheckpoint.mismatch(nil, ["steps": 50]) == ["steps"])
    }
}
