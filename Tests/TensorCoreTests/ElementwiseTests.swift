import Testing
@testable import TensorCore
import TestSupport

@Suite struct ElementwiseTests {
    nonisolated(unsafe) static let unaryOps: [(String, ClosedRange<Float>, (Tensor) -> Tensor)] = [
        ("exp", -1...1, { $0.exp() }), ("log", 0.5...2, { $0.log() }), ("sqrt", 0.5...2, { $0.sqrt() }),
        ("sin", -3...3, { $0.sin() }), ("cos", -3...3, { $0.cos() }), ("tanh", -2...2, { $0.tanh() }),
        ("pow", 0.5...2, { $0.pow(2.5) }), ("square", -2...2, { $0.square() }),
        ("reciprocal", 0.5...2, { $0.reciprocal() }), ("relu", -2...2, { $0.relu() }),
        ("silu", -3...3, { $0.silu() }), ("gelu", -3...3, { $0.gelu() }),
        ("sigmoid", -3...3, { $0.sigmoid() }), ("softplus", -3...3, { $0.softplus() }),
    ]

    @Test(arguments: 0..<unaryOps.count)
    func unaryDerivatives(_ i: Int) {
        let (name, range, f) = Self.unaryOps[i]
        let x = randomParameter([3, 5], seed: UInt64(i), in: range)
        checkDerivatives([x], epsilon: 1e-3, name) { f($0[0]) }
    }

    @Test func unaryValues() {
        let x = Tensor([4], data: [-1, 0, 0.5, 2])
        assertClose(x.silu().data, [-0.26894143, 0, 0.31122967, 1.7615942])
        assertClose(x.gelu().data, [-0.15865529, 0, 0.34573123, 1.9544997])
        assertClose(x.softplus().data, [0.31326169, 0.69314718, 0.97407698, 2.126928])
    }

    @Test func reluValuesGradientAndTangentExactly() {
        let x = Tensor([6], data: [-2, -0.0, 0, 1e-30, 0.5, 3], requiresGrad: true)
        let y = x.relu()
        #expect(y.data == [0, 0, 0, 1e-30, 0.5, 3])
        (y * Tensor([6], data: [1, 2, 3, 4, 5, 6])).sum().backward()
        #expect(x.grad == [0, 0, 0, 4, 5, 6], "the gradient passes where x > 0 only")
        let empty = Tensor([0], data: [], requiresGrad: true)
        empty.relu().sum().backward()                                       // no crash on empty tensors
        #expect(empty.relu().count == 0)
    }

    @Test func broadcastArithmetic() {
        let a = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor([3], data: [10, 20, 30])
        #expect((a + b).data == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor([2, 1], data: [2, 3])).data == [2, 4, 6, 12, 15, 18])
        #expect((a - 1).data == [0, 1, 2, 3, 4, 5])
        #expect((2 / Tensor([2], data: [1, 4])).data == [2, 0.5])
    }

    @Test(arguments: ["add", "sub", "mul", "div"])
    func binaryDerivatives(_ op: String) {
        let a = randomParameter([2, 1, 4], seed: 10)
        let b = randomParameter([3, 1], seed: 11, in: 0.5...1.5)
        checkDerivatives([a, b], op) { t in
            switch op {
            case "add": return t[0] + t[1]
            case "sub": return t[0] - t[1]
            case "mul": return t[0] * t[1]
            default: return t[0] / t[1]
            }
        }
    }

    @Test func scalarOpsDerivatives() {
        let a = randomParameter([5], seed: 3, in: 0.5...2)
        checkDerivatives([a]) { t in (3 - t[0]) * 2 + 1 / t[0] - (-t[0]) / 4 }
    }
}

@Suite struct ReduceAndShapeTests {
    @Test func sumMeanMaxValues() {
        let x = Tensor([2, 3], data: [1, 5, 3, 4, 2, 6])
        #expect(x.sum().item == 21)
        #expect(x.sum(axes: [0]).data == [5, 7, 9])
        #expect(x.sum(axes: [1], keepDims: true).shape == [2, 1])
        #expect(x.mean(axes: [1]).data == [3, 4])
        #expect(x.max(axis: 1).data == [5, 6])
        #expect(x.max(axis: 0).data == [4, 5, 6])
    }

    @Test func reductionDerivatives() {
        let x = randomParameter([2, 3, 4], seed: 4)
        checkDerivatives([x], "sum axes") { $0[0].sum(axes: [0, 2]) }
        checkDerivatives([x], "mean") { $0[0].mean(axes: [1], keepDims: true) }
        checkDerivatives([x], "max") { $0[0].max(axis: 2) }
        checkDerivatives([x], "sum all") { $0[0].sum() }
    }

    @Test(arguments: [[3, 11, 13], [2, 16, 24], [5, 9], [2, 2, 8, 3]])
    func batchedTransposeMatchesIndexing(_ shape: [Int]) {
        // Swapping the last two axes takes the blocked transpose; compare with plain indexing.
        let x = randomParameter(shape, seed: 9)
        let r = shape.count, rows = shape[r - 2], cols = shape[r - 1]
        var expected = [Float](repeating: 0, count: x.count)
        for m in 0..<(x.count / (rows * cols)) {
            for i in 0..<rows { for j in 0..<cols { expected[m * rows * cols + j * rows + i] = x.data[m * rows * cols + i * cols + j] } }
        }
        let y = x.transposed()
        #expect(y.shape == Array(shape.dropLast(2)) + [cols, rows])
        #expect(y.data == expected)
        #expect(y.transposed().data == x.data)
    }

    @Test func permuteAndReshape() {
        let x = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(x.transposed().data == [1, 4, 2, 5, 3, 6])
        #expect(x.reshaped([3, -1]).shape == [3, 2])
        let y = randomParameter([2, 3, 4], seed: 5)
        #expect(y.permuted([2, 0, 1]).permuted([1, 2, 0]).data == y.data)
        checkDerivatives([y], "permute") { $0[0].permuted([2, 0, 1]) * Tensor([4, 2, 3], repeating: 1).shifted(by: 0) }
        checkDerivatives([y], "reshape") { $0[0].reshaped([6, 4]).square() }
        checkDerivatives([randomParameter([3, 1], seed: 6)], "expand") { $0[0].expanded(to: [2, 3, 4]).square() }
    }
}

@Suite struct MatmulTests {
    @Test func values() {
        let a = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor([3, 2], data: [7, 8, 9, 10, 11, 12])
        #expect(a.matmul(b).data == [58, 64, 139, 154])
    }

    @Test func derivatives() {
        checkDerivatives([randomParameter([3, 4], seed: 1), randomParameter([4, 2], seed: 2)], "2D") { $0[0].matmul($0[1]) }
        checkDerivatives([randomParameter([2, 3, 4], seed: 3), randomParameter([2, 4, 5], seed: 4)], "batched") { $0[0].matmul($0[1]) }
        checkDerivatives([randomParameter([2, 3, 4], seed: 5), randomParameter([4, 5], seed: 6)], "shared B") { $0[0].matmul($0[1]) }
        checkDerivatives([randomParameter([3, 4], seed: 7), randomParameter([2, 4, 5], seed: 8)], "shared A") { $0[0].matmul($0[1]) }
    }
}
