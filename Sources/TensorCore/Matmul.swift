// Matrix products on cblas_sgemm: [M,K]·[K,N] and batched [B,M,K]·[B,K,N]
// (a rank-2 operand is shared across the batch).

extension Tensor {
    /// Matrix product. Rank-2 × rank-2, or batched with leading batch axes on either side
    /// (a rank-2 operand is broadcast over the batch).
    ///
    /// ```swift
    /// let a = Tensor([2, 3], repeating: 1), b = Tensor([3, 4], repeating: 2)
    /// a.matmul(b).shape   // [2, 4], every value 6
    /// ```
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2 operands, got \(a.shape) and \(b.shape)")
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        precondition(k == k2, "matmul inner sizes differ: \(a.shape) · \(b.shape)")
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        precondition(aBatch.isEmpty || bBatch.isEmpty || aBatch == bBatch,
                     "matmul batch axes differ: \(a.shape) · \(b.shape)")
        let batchShape = aBatch.isEmpty ? bBatch : aBatch
        let batch = batchShape.reduce(1, *)
        let aStride = aBatch.isEmpty ? 0 : m * k, bStride = bBatch.isEmpty ? 0 : k * n
        let outShape = batchShape + [m, n]

        let out = Tensor.gemmBatched(a.data, b.data, batch: batch, m: m, n: n, k: k, aStride: aStride, bStride: bStride)
        return Tensor.makeResult(
            op: "matmul", shape: outShape, data: out, parents: [a, b],
            backward: { g in
                // dA += dC·Bᵀ ; dB += Aᵀ·dC (summed over the batch where an operand is shared)
                if a.requiresGrad {
                    a.accumulateGrad { ga in
                        g.withUnsafeBufferPointer { gp in b.data.withUnsafeBufferPointer { bp in
                            for i in 0..<batch {
                                BLAS.gemm(transB: true, m: m, n: k, k: n, a: gp.baseAddress! + i * m * n,
                                          b: bp.baseAddress! + i * bStride, beta: 1, c: ga.baseAddress! + i * aStride)
                            }
                        } }
                    }
                }
                if b.requiresGrad {
                    b.accumulateGrad { gb in
                        g.withUnsafeBufferPointer { gp in a.data.withUnsafeBufferPointer { ap in
                            for i in 0..<batch {
                                BLAS.gemm(transA: true, m: k, n: n, k: m, a: ap.baseAddress! + i * aStride,
                                          b: gp.baseAddress! + i * m * n, beta: 1, c: gb.baseAddress! + i * bStride)
                            }
                        } }
                    }
                }
            },
            jvp: {
                // d(AB) = dA·B + A·dB
                var t = [Float](repeating: 0, count: batch * m * n)
                if let ta = a.tangent {
                    t = Tensor.gemmBatched(ta, b.data, batch: batch, m: m, n: n, k: k, aStride: aStride, bStride: bStride)
                }
                if let tb = b.tangent {
                    let u = Tensor.gemmBatched(a.data, tb, batch: batch, m: m, n: n, k: k, aStride: aStride, bStride: bStride)
                    for i in 0..<t.count { t[i] += u[i] }
                }
                return t
            })
    }

    static func gemmBatched(_ a: [Float], _ b: [Float], batch: Int, m: Int, n: Int, k: Int,
                            aStride: Int, bStride: Int) -> [Float] {
        var c = [Float](repeating: 0, count: batch * m * n)
        if bStride == 0 && batch > 1 {
            // shared B: fold the batch into M — one big gemm.
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(m: batch * m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
            } } }
            return c
        }
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            for i in 0..<batch {
                BLAS.gemm(m: m, n: n, k: k, a: ap.baseAddress! + i * aStride, b: bp.baseAddress! + i * bStride,
                          c: cp.baseAddress! + i * m * n)
            }
        } } }
        return c
    }
}
