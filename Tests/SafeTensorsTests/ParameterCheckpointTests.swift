import Foundation
import Testing
import SafeTensors
import TensorCore

/// ParameterCheckpoint (diffrep nerf's nerf.safetensors): round trip, and each refusal names the file.
@Suite struct ParameterCheckpointTests {
    static func parameters() -> Parameters {
        Parameters([("density", Tensor([1, 2, 2], data: [1, 2, 3, 4])), ("color", Tensor([3], data: [5, 6, 7]))])
    }

    @Test func roundTrips() throws {
        let data = try ParameterCheckpoint.serialize(Self.parameters(), step: 7, settings: "{}")
        let target = Parameters([("density", Tensor([1, 2, 2], data: [0, 0, 0, 0])), ("color", Tensor([3], data: [0, 0, 0]))])
        let (step, settings) = try ParameterCheckpoint.restore(data, source: "n.safetensors", into: target)
        #expect(step == 7 && settings == "{}")
        #expect(target["density"]?.data == [1, 2, 3, 4] && target["color"]?.data == [5, 6, 7])
    }

    @Test(arguments: ["-3", "1099511627777", "seven"]) func stepOutOfRangeIsRefused(step: String) throws {
        let good = try ParameterCheckpoint.serialize(Self.parameters(), step: 0, settings: "{}")
        let bad = try SafeTensors.serialize(try SafeTensors.parse(good), metadata: ["step": step, "settings": "{}"])
        #expect(throws: ParameterCheckpointError.invalidStep(path: "n.safetensors", value: step)) {
            _ = try ParameterCheckpoint.restore(bad, source: "n.safetensors", into: Self.parameters())
        }
    }

    @Test func anotherShapeIsRefusedAndNothingIsCopied() throws {
        let data = try ParameterCheckpoint.serialize(Self.parameters(), step: 1, settings: "{}")
        let target = Parameters([("density", Tensor([1, 2, 2], data: [0, 0, 0, 0])), ("color", Tensor([1, 3], data: [0, 0, 0]))])
        #expect(throws: ParameterCheckpointError.shapeMismatch(path: "n.safetensors", name: "color", expected: [1, 3], found: [3])) {
            _ = try ParameterCheckpoint.restore(data, source: "n.safetensors", into: target)
        }
        #expect(target["density"]?.data == [0, 0, 0, 0], "a refused checkpoint copies nothing")
    }

    @Test func noSafetensorsFileNamesTheFile() throws {
        #expect(throws: ParameterCheckpointError.invalidFile(path: "n.safetensors", .fileTooShort(byteCount: 2))) {
            _ = try ParameterCheckpoint.restore(Data([0, 1]), source: "n.safetensors", into: Self.parameters())
        }
    }
}
