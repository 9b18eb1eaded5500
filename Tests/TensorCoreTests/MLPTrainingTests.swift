import Foundation
import Testing
@testable import TensorCore
import TestSupport

/// A small multilayer perceptron: linear layers with an activation between them.
struct MLP {
    var parameters = Parameters()
    let layers: Int
    let activation: (Tensor) -> Tensor

    /// `sizes` = [in, hidden…, out]; weights uniform in ±1/√fan-in (PyTorch's default), fixed seed.
    init(_ sizes: [Int], seed: UInt64, activation: @escaping (Tensor) -> Tensor) {
        var rng = RandomGenerator(seed: seed)
        for i in 0..<(sizes.count - 1) {
            let bound = 1 / Float(sizes[i]).squareRoot()
            parameters["l\(i).weight"] = rng.uniform([sizes[i + 1], sizes[i]], in: -bound...bound)
            parameters["l\(i).bias"] = rng.uniform([sizes[i + 1]], in: -bound...bound)
        }
        layers = sizes.count - 1
        self.activation = activation
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for i in 0..<layers {
            h = h.linear(parameters["l\(i).weight"]!, bias: parameters["l\(i).bias"]!)
            if i < layers - 1 { h = activation(h) }
        }
        return h
    }
}

/// Trains `model` on `(x, y)` with Adam and mean squared error; returns the final loss.
func train(_ model: MLP, x: Tensor, y: Tensor, steps: Int, learningRate: Float) -> Float {
    var opt = Adam(parameters: model.parameters, learningRate: learningRate)
    for _ in 0..<steps {
        (model(x) - y).square().mean().backward()
        opt.step()
    }
    return GradMode.withoutGrad { (model(x) - y).square().mean().item }
}

@Suite struct MLPTrainingTests {
    @Test(arguments: ["linear_bias", "linear_nobias"])
    func linearMatchesPyTorch(_ name: String) throws {
        let f = try NNFixture.named(name, in: "nn_misc")
        let y = try #require(f.tensor("x")).linear(try #require(f.tensor("weight")), bias: f.tensor("bias"))
        assertClose(y, f.expected.tensor, rtol: 1e-5, atol: 1e-6, name)
    }

    @Test(arguments: [true, false])
    func linearDerivatives(_ hasBias: Bool) {
        let x = randomParameter([2, 3, 4], seed: 1), w = randomParameter([5, 4], seed: 2), b = randomParameter([5], seed: 3)
        checkDerivatives(hasBias ? [x, w, b] : [x, w], "linear bias \(hasBias)") { t in
            t[0].linear(t[1], bias: hasBias ? t[2] : nil)
        }
    }

    @Test func mlpLearnsXOR() {
        let x = Tensor([4, 2], data: [0, 0, 0, 1, 1, 0, 1, 1])
        let y = Tensor([4, 1], data: [0, 1, 1, 0])
        let model = MLP([2, 8, 1], seed: 3) { $0.tanh() }
        let loss = train(model, x: x, y: y, steps: 400, learningRate: 0.05)
        #expect(loss < 1e-3, "XOR loss \(loss)")
        let prediction = GradMode.withoutGrad { model(x) }
        for i in 0..<4 { #expect(abs(prediction.data[i] - y.data[i]) < 0.1, "XOR(\(x.data[2 * i]), \(x.data[2 * i + 1]))") }
    }

    @Test func mlpFitsSine() {
        let n = 64
        let xs = (0..<n).map { -Float.pi + 2 * Float.pi * Float($0) / Float(n - 1) }
        let x = Tensor([n, 1], data: xs), y = Tensor([n, 1], data: xs.map { Foundation.sin($0) })
        let model = MLP([1, 32, 32, 1], seed: 5) { $0.silu() }
        let loss = train(model, x: x, y: y, steps: 1000, learningRate: 0.01)
        #expect(loss < 1e-3, "sin fit loss \(loss)")
    }
}
