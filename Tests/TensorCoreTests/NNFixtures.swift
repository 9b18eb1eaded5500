import Foundation
import Testing
@testable import TensorCore

/// One PyTorch reference case from `Fixtures/nn_*.json` (made by `Fixtures/make_nn_fixtures.py`).
struct NNFixture: Decodable {
    struct Values: Decodable {
        let shape: [Int]
        let data: [Float]
        var tensor: Tensor { Tensor(shape, data: data) }
    }

    let name: String
    let args: [String: Double]
    let tensors: [String: Values]
    let expected: Values

    /// The named input, or nil when the case has none (an absent bias).
    func tensor(_ key: String) -> Tensor? { tensors[key]?.tensor }
    func int(_ key: String, default d: Int) -> Int { args[key].map { Int($0) } ?? d }
    func float(_ key: String) -> Float? { args[key].map { Float($0) } }

    /// Every case of `nn_<file>.json`.
    static func load(_ file: String) throws -> [NNFixture] {
        let url = try #require(Bundle.module.url(forResource: file, withExtension: "json", subdirectory: "Fixtures"),
                               "fixture \(file).json is missing (run Fixtures/make_nn_fixtures.py)")
        return try JSONDecoder().decode([NNFixture].self, from: Data(contentsOf: url))
    }

    /// The case called `name` in `nn_<file>.json`.
    static func named(_ name: String, in file: String) throws -> NNFixture {
        try #require(try load(file).first { $0.name == name }, "no fixture case \(name) in \(file).json")
    }
}
