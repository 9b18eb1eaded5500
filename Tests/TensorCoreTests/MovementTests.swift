import Testing
@testable import TensorCore
import TestSupport

@Suite struct SliceConcatTests {
    @Test func sliceValues() {
        let x = Tensor([2, 4], data: [0, 1, 2, 3, 4, 5, 6, 7])
        let s = x.slice(axis: 1, 1..<3)
        #expect(s.shape == [2, 2])
        #expect(s.data == [1, 2, 5, 6])
        #expect(x.slice(axis: -1, 3..<4).data == [3, 7])
        #expect(x.slice(axis: 0, 1..<2).data == [4, 5, 6, 7])
        #expect(x.slice(axis: 0, 0..<0).shape == [0, 4])
    }

    @Test func concatValues() {
        let a = Tensor([2, 1], data: [1, 2]), b = Tensor([2, 2], data: [3, 4, 5, 6])
        let c = Tensor.concat([a, b], axis: 1)
        #expect(c.shape == [2, 3])
        #expect(c.data == [1, 3, 4, 2, 5, 6])
        #expect(Tensor.concat([b, b], axis: 0).data == [3, 4, 5, 6, 3, 4, 5, 6])
        #expect(Tensor.concat([a, Tensor.zeros([2, 0]), a], axis: -1).data == [1, 1, 2, 2])
    }

    @Test func splitAndChunk() {
        let x = Tensor([2, 7], data: (0..<14).map(Float.init))
        let parts = x.split(axis: 1, sizes: [2, 0, 5])
        #expect(parts.map(\.shape) == [[2, 2], [2, 0], [2, 5]])
        #expect(parts[0].data == [0, 1, 7, 8])
        #expect(Tensor.concat(parts, axis: 1).data == x.data)
        #expect(x.chunked(3, axis: 1).map { $0.shape[1] } == [3, 3, 1])
        #expect(Tensor.zeros([6]).chunked(4, axis: 0).map { $0.shape[0] } == [2, 2, 2])
        let rows: [[Float]] = x.chunked(2, axis: 0).map(\.data)
        let firstRow: [Float] = (0..<7).map(Float.init), secondRow: [Float] = (7..<14).map(Float.init)
        #expect(rows == [firstRow, secondRow])
    }

    @Test func derivatives() {
        let x = randomParameter([3, 4, 5], seed: 21)
        checkDerivatives([x], "slice middle axis") { $0[0].slice(axis: 1, 1..<3) }
        checkDerivatives([x], "slice last axis") { $0[0].slice(axis: -1, 2..<5) }
        let y = randomParameter([3, 2, 5], seed: 22), z = randomParameter([3, 1, 5], seed: 23)
        checkDerivatives([x, y, z], "concat") { Tensor.concat($0, axis: 1) }
        checkDerivatives([x], "split") { t in
            let p = t[0].split(axis: 2, sizes: [1, 4])
            return p[0] * p[1].slice(axis: 2, 0..<1) + p[1].sum(axes: [2], keepDims: true)
        }
        checkDerivatives([x], "chunked") { t in
            let p = t[0].chunked(2, axis: 0)   // 2 + 1 rows
            return p[0].sum(axes: [0], keepDims: true) * p[1]
        }
    }
}

@Suite struct PaddingTests {
    @Test func values() {
        let x = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
        let z = x.padded([(1, 0), (2, 1)])
        #expect(z.shape == [3, 6])
        #expect(z.data == [0, 0, 0, 0, 0, 0,
                           0, 0, 1, 2, 3, 0,
                           0, 0, 4, 5, 6, 0])
        let c = x.padded([(0, 1), (2, 1)], mode: .circular)
        #expect(c.data == [2, 3, 1, 2, 3, 1,
                           5, 6, 4, 5, 6, 4,
                           2, 3, 1, 2, 3, 1])
        let r = x.padded([(1, 1), (1, 2)], mode: .replicate)
        #expect(r.data == [1, 1, 2, 3, 3, 3,
                           1, 1, 2, 3, 3, 3,
                           4, 4, 5, 6, 6, 6,
                           4, 4, 5, 6, 6, 6])
        // Circular pads may be wider than the axis: it wraps again.
        #expect(Tensor([1, 3], data: [1, 2, 3]).padded([(0, 0), (4, 0)], mode: .circular).data == [3, 1, 2, 3, 1, 2, 3])
        #expect(x.padded([(0, 0), (0, 0)]).data == x.data)
    }

    @Test func panoramaSeam() {
        // Circular padding along the width of an [N, C, H, W] image joins the seam.
        let img = Tensor([1, 1, 2, 4], data: [0, 1, 2, 3, 4, 5, 6, 7])
        let p = img.padded([(0, 0), (0, 0), (0, 0), (1, 1)], mode: .circular)
        #expect(p.shape == [1, 1, 2, 6])
        #expect(p.data == [3, 0, 1, 2, 3, 0, 7, 4, 5, 6, 7, 4])
    }

    @Test(arguments: [PaddingMode.zeros, .circular, .replicate])
    func derivatives(_ mode: PaddingMode) {
        let x = randomParameter([2, 3, 4], seed: 31)
        checkDerivatives([x], "\(mode)") { $0[0].padded([(1, 0), (0, 2), (5, 3)], mode: mode) }
    }
}

@Suite struct GatherScatterTests {
    @Test func values() {
        let x = Tensor([3, 2], data: [1, 2, 3, 4, 5, 6])
        #expect(x.gather(indices: [2, 0, 2], axis: 0).data == [5, 6, 1, 2, 5, 6])
        #expect(x.gather(indices: [1, 1], axis: -1).data == [2, 2, 4, 4, 6, 6])
        let v = Tensor([3], data: [1, 2, 3])
        #expect(Tensor.scatterAdd(v, indices: [0, 2, 0], axis: 0, size: 4).data == [4, 0, 2, 0])
        let m = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
        let s = Tensor.scatterAdd(m, indices: [1, 1, 0], axis: 1, size: 2)
        #expect(s.shape == [2, 2])
        #expect(s.data == [3, 3, 6, 9])
    }

    @Test func gatherBackwardAddsRepeats() {
        let x = Tensor.parameter([4], data: [1, 2, 3, 4])
        x.gather(indices: [3, 1, 3, 3], axis: 0).sum().backward()
        #expect(x.grad == [0, 1, 0, 3])
    }

    @Test func derivatives() {
        let x = randomParameter([3, 4, 2], seed: 41)
        checkDerivatives([x], "gather") { $0[0].gather(indices: [3, 0, 3, 1, 3], axis: 1) }
        let v = randomParameter([2, 5, 3], seed: 42)
        checkDerivatives([v], "scatterAdd") { Tensor.scatterAdd($0[0], indices: [1, 3, 1, 0, 1], axis: 1, size: 4) }
    }
}
