import TensorCore

// Joining and splitting batches along axis 0, with VJP and JVP so that a denoiser built
// from them stays on the tape when its network is.

extension Tensor {
    /// Concatenates tensors of equal item shape along the batch axis 0.
    static func concatBatch(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatBatch needs at least one tensor")
        let item = Array(parts[0].shape.dropFirst())
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == item },
                     "concatBatch: item shapes differ: \(parts.map(\.shape))")
        let counts = parts.map(\.count)
        let shape = [parts.reduce(0) { $0 + $1.shape[0] }] + item
        return makeResult(
            op: "concatBatch", shape: shape, data: parts.flatMap(\.data), parents: parts,
            backward: { g in
                var start = 0
                for (p, n) in zip(parts, counts) {
                    if p.requiresGrad { p.accumulateGrad(Array(g[start..<start + n])) }
                    start += n
                }
            },
            jvp: { parts.flatMap(\.tangentOrZeros) })
    }

    /// Items `range` of the batch axis 0.
    func sliceBatch(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "sliceBatch \(range) out of range for \(shape)")
        let per = count / Swift.max(shape[0], 1)
        let lo = range.lowerBound * per, hi = range.upperBound * per
        return Tensor.makeResult(
            op: "sliceBatch", shape: [range.count] + shape.dropFirst(), data: Array(data[lo..<hi]), parents: [self],
            backward: { g in
                self.accumulateGrad { dst in for i in 0..<g.count { dst[lo + i] += g[i] } }
            },
            jvp: { Array(self.tangentOrZeros[lo..<hi]) })
    }
}
