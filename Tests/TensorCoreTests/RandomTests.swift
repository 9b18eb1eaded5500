import Testing
@testable import TensorCore

/// The seeded Philox generator: reproducible, independent of the thread count, well distributed.
@Suite(.serialized) struct RandomTests {
    @Test func sameSeedSameStreamWithOneAndTwoThreads() {
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        Parallel.workers = 1
        var a = RandomGenerator(seed: 42)
        let one = a.normalValues(100_003) + a.uniformValues(50_001)
        Parallel.workers = 2
        var b = RandomGenerator(seed: 42)
        let two = b.normalValues(100_003) + b.uniformValues(50_001)
        #expect(one == two)
        #expect(a.position == b.position)
    }

    @Test func differentSeedsAndForksDiffer() {
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
        #expect(a.uniformValues(8) != b.uniformValues(8))
        let root = RandomGenerator(seed: 1)
        var f0 = root.fork(0), f1 = root.fork(1), f0again = root.fork(0)
        let x0 = f0.uniformValues(8)
        #expect(x0 != f1.uniformValues(8))
        #expect(x0 == f0again.uniformValues(8))
    }

    @Test func resumingAtAPositionContinuesTheStream() {
        var a = RandomGenerator(seed: 9)
        _ = a.uniformValues(40)
        let rest = a.uniformValues(20)
        var b = RandomGenerator(seed: 9, position: 10)      // 40 values = 10 blocks of 4
        #expect(b.uniformValues(20) == rest)
    }

    @Test func moments() {
        var rng = RandomGenerator(seed: 3)
        let n = 200_000
        let z = rng.normalValues(n).map(Double.init)
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        #expect(abs(mean) < 4 / Double(n).squareRoot())                 // 4 standard errors
        #expect(abs(variance - 1) < 4 * (2 / Double(n)).squareRoot())
        let u = rng.uniformValues(n)
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let below = u.filter { $0 < 0.25 }.count
        #expect(abs(Double(below) / Double(n) - 0.25) < 4 * (0.25 * 0.75 / Double(n)).squareRoot())
    }
}

/// The optimisers' update rules on a quadratic, against the formulas written out.
@Suite struct OptimizerTests {
    @Test func sgdStepIsTheFormula() {
        let w = Tensor.parameter([2], data: [1, -2])
        var opt = SGD(parameters: Parameters([("w", w)]), learningRate: 0.1, weightDecay: 0.5)
        w.square().sum().backward()                 // g = 2w
        opt.step()
        // w − lr·(2w + wd·w) = w·(1 − 0.1·2.5)
        #expect(w.data == [0.75, -1.5])
        #expect(w.grad == nil)
    }

    @Test func adamFirstStepMovesByTheLearningRate() {
        let w = Tensor.parameter([3], data: [1, -2, 3])
        var opt = Adam(parameters: Parameters([("w", w)]), learningRate: 0.01)
        w.square().sum().backward()
        opt.step()
        // bias-corrected first step = lr·sign(g)
        for (a, b) in zip(w.data, [0.99, -1.99, 2.99] as [Float]) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func adamScalesTheLearningRatePerParameter() {
        let a = Tensor.parameter([2], data: [1, -2]), b = Tensor.parameter([2], data: [1, -2])
        var opt = Adam(parameters: Parameters([("a", a), ("b", b)]), learningRate: 0.01)
        opt.learningRateScale["b"] = 5
        (a.square().sum() + b.square().sum()).backward()
        opt.step()
        // first step = lr·scale·sign(g): a moves by 0.01, b by 0.05
        for (x, y) in zip(a.data + b.data, [0.99, -1.99, 0.95, -1.95] as [Float]) { #expect(abs(x - y) < 1e-6) }
    }

    @Test func adamWDecaysDecoupled() {
        let w = Tensor.parameter([1], data: [2])
        var opt = Adam.adamW(parameters: Parameters([("w", w)]), learningRate: 0.1, weightDecay: 0.5)
        w.grad = [0]
        opt.step()
        // zero gradient: only the decoupled decay acts, w·(1 − lr·wd)
        #expect(abs(w.data[0] - 2 * (1 - 0.05)) < 1e-6)
    }

    @Test func adamMinimisesAQuadratic() {
        let w = Tensor.parameter([4], data: [3, -1, 2, 5])
        var opt = Adam(parameters: Parameters([("w", w)]), learningRate: 0.1)
        for _ in 0..<500 { (w - 1).square().sum().backward(); opt.step() }
        for v in w.data { #expect(abs(v - 1) < 1e-2) }
    }
}
