// Fully connected layer over the last axis: y = x·Wᵀ + b (PyTorch's nn.Linear layout),
// one sgemm forward and a fused backward.

extension Tensor {
    /// `self·weightᵀ + bias` over the last axis: `self` `[..., in]`, `weight` `[out, in]`,
    /// `bias` `[out]` → `[..., out]`.
    ///
    /// ```swift
    /// let x = Tensor([2, 3], data: [1, 2, 3, 4, 5, 6])
    /// let w = Tensor.parameter([4, 3], data: [Float](repeating: 0.5, count: 12))
    /// x.linear(w, bias: nil).shape   // [2, 4]; every value of row 0 is 3
    /// ```
    public func linear(_ weight: Tensor, bias: Tensor?) -> Tensor {
        let x = self
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        let outF = weight.shape[0], inF = weight.shape[1]
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == inF,
                     "linear: input \(x.shape) does not end in \(inF) features (weight \(weight.shape))")
        if let bias { precondition(bias.shape == [outF], "linear bias must be [\(outF)], got \(bias.shape)") }
        let rows = x.count / Swift.max(inF, 1)
        let outShape = Array(x.shape.dropLast()) + [outF]

        /// `a·wᵀ (+ b)` for `a` `[rows, in]` and `w` `[out, in]`.
        func affine(_ a: [Float], _ w: [Float], _ b: [Float]?) -> [Float] {
            uninitializedFloats(rows * outF) { y in
                if let b {
                    b.withUnsafeBufferPointer { bp in
                        for r in 0..<rows { (y + r * outF).initialize(from: bp.baseAddress!, count: outF) }
                    }
                }
                if inF == 0 {
                    if b == nil { y.initialize(repeating: 0, count: rows * outF) }
                    return
                }
                a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in
                    BLAS.gemm(transB: true, m: rows, n: outF, k: inF, a: ap.baseAddress!, b: wp.baseAddress!,
                              beta: b == nil ? 0 : 1, c: y)
                } }
            }
        }

        let parents = bias.map { [x, weight, $0] } ?? [x, weight]
        return Tensor.makeResult(
            op: "linear", shape: outShape, data: affine(x.data, weight.data, bias?.data), parents: parents,
            backward: { g in
                g.withUnsafeBufferPointer { gb in
                    let gp = gb.baseAddress!
                    if x.requiresGrad && inF > 0 {   // dx += g·W
                        x.accumulateGrad { dx in weight.data.withUnsafeBufferPointer { wp in
                            BLAS.gemm(m: rows, n: inF, k: outF, a: gp, b: wp.baseAddress!, beta: 1, c: dx.baseAddress!)
                        } }
                    }
                    if weight.requiresGrad && inF > 0 {   // dW += gᵀ·x
                        weight.accumulateGrad { dw in x.data.withUnsafeBufferPointer { xp in
                            BLAS.gemm(transA: true, m: outF, n: inF, k: rows, a: gp, b: xp.baseAddress!,
                                      beta: 1, c: dw.baseAddress!)
                        } }
                    }
                    if let bias, bias.requiresGrad {   // db += Σ_rows g
                        bias.accumulateGrad { db in
                            for r in 0..<rows {
                                let row = gp + r * outF
                                for j in 0..<outF { db[j] += row[j] }
                            }
                        }
                    }
                }
            },
            jvp: {
                // d(x·Wᵀ + b) = ẋ·Wᵀ + x·Ẇᵀ + ḃ
                var t = affine(x.tangentOrZeros, weight.data, bias?.tangent)
                if let tw = weight.tangent {
                    let u = affine(x.data, tw, nil)
                    for i in 0..<t.count { t[i] += u[i] }
                }
                return t
            })
    }
}
