// Adam's update runs eight lanes at a time and splits large parameters across workers; it must
// give the bits of the plain scalar update (PyTorch's Adam / AdamW arithmetic) whatever the split.

import Foundation
import Testing
@testable import TensorCore

/// The scalar update, element by element, as Adam.step wrote it before it was vectorised.
private func referenceStep(x: inout [Float], g: [Float], m: inout [Float], v: inout [Float], step t: Int,
                           lr: Float, wd: Float, decoupled: Bool) {
    let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
    let bc1 = 1 - Foundation.pow(b1, Float(t)), bc2 = 1 - Foundation.pow(b2, Float(t))
    for i in x.indices {
        var gi = g[i]
        if !decoupled { gi += wd * x[i] }
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * gi * gi
        let update = (m[i] / bc1) / ((v[i] / bc2).squareRoot() + eps)
        if decoupled { x[i] -= lr * wd * x[i] }
        x[i] -= lr * update
    }
}

@Suite(.serialized) struct AdamUpdateTests {
    /// Sizes below one block, with a tail of odd length, and over several parallel blocks.
    @Test(arguments: [(13, false), (1_000, true), (3 * Adam.parallelBlock + 5, false), (2 * Adam.parallelBlock + 7, true)])
    func vectorisedUpdateGivesTheScalarBits(count: Int, decoupled: Bool) {
        var rng = RandomGenerator(seed: UInt64(count))
        let start = rng.normal([count])
        let parameters = Parameters([("w", Tensor([count], data: start.data))])
        var opt = Adam(parameters: parameters, learningRate: 3e-3, weightDecay: 0.05, decoupledWeightDecay: decoupled)
        var x = start.data, m = [Float](repeating: 0, count: count), v = m
        for t in 1...3 {
            let g = rng.normal([count]).data.map { $0 * Float(t) }
            parameters["w"]!.grad = g
            opt.step()
            referenceStep(x: &x, g: g, m: &m, v: &v, step: t, lr: 3e-3, wd: 0.05, decoupled: decoupled)
        }
        #expect(parameters["w"]!.data == x, "parameters differ from the scalar update")
        #expect(opt.m["w"] == m && opt.v["w"] == v, "moments differ from the scalar update")
    }

    @Test func anEmptyParameterIsSkipped() {
        let parameters = Parameters([("empty", Tensor([0], data: [])), ("w", Tensor([3], data: [1, 2, 3]))])
        parameters["empty"]!.grad = []
        parameters["w"]!.grad = [1, 1, 1]
        var opt = Adam(parameters: parameters, learningRate: 0.1)
        opt.step()
        #expect(parameters["empty"]!.data.isEmpty)
        #expect(parameters["w"]!.data.allSatisfy { $0 < 3.01 } && parameters["w"]!.data[0] < 1)
    }

    @Test func oneWorkerAndTwoWorkersAgree() {
        let count = 4 * Adam.parallelBlock + 3
        func run(workers: Int) -> [Float] {
            let saved = Parallel.workers
            Parallel.workers = workers
            defer { Parallel.workers = saved }
            var rng = RandomGenerator(seed: 9)
            let parameters = Parameters([("w", rng.normal([count]))])
            var opt = Adam(parameters: parameters, learningRate: 1e-2)
            for _ in 0..<2 {
                parameters["w"]!.grad = rng.normal([count]).data
                opt.step()
            }
            return parameters["w"]!.data
        }
        #expect(run(workers: 1) == run(workers: 2))
    }
}
