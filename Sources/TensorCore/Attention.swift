// Scaled dot-product attention, fused: batched sgemm + row softmax forward, and a
// hand-written VJP and JVP. Per batch entry b (entries run in parallel):
//   S = s·Q·Kᵀ [Lq, Lk],  P = softmax(S) (rows),  O = P·V [Lq, Dv]
//   dP = dO·Vᵀ,  dV = Pᵀ·dO,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = s·dS·K,  dK = s·dSᵀ·Q
//   Ṡ = s·(Q̇·Kᵀ + Q·K̇ᵀ),  Ṗ = P ⊙ (Ṡ − rowsum(Ṡ ⊙ P)),  Ȯ = Ṗ·V + P·V̇
// The probabilities P (B·Lq·Lk values) are kept for the backward pass. A causal call gives
// query row r the keys 0…r only (P is 0 beyond): dS and Ṗ are P ⊙ (…), so both derivatives
// need no mask of their own.

extension Tensor {
    /// `softmax(scale·query·keyᵀ)·value` with `query` `[B, Lq, D]`, `key` `[B, Lk, D]`,
    /// `value` `[B, Lk, Dv]` → `[B, Lq, Dv]`; `scale` defaults to `1/√D`. Multi-head attention
    /// folds the heads into `B`. With `causal`, query `r` attends to keys `0…r` only (PyTorch's
    /// `is_causal`, a text encoder's mask).
    ///
    /// ```swift
    /// let q = Tensor.zeros([2, 4, 8]), kv = Tensor.ones([2, 6, 8])
    /// Tensor.attention(query: q, key: kv, value: kv).shape   // [2, 4, 8]
    /// Tensor.attention(query: kv, key: kv, value: kv, causal: true).shape   // [2, 6, 8]
    /// ```
    public static func attention(query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil, causal: Bool = false) -> Tensor {
        let q = query, k = key, v = value
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3,
                     "attention needs rank-3 [B, L, D] operands, got \(q.shape), \(k.shape), \(v.shape)")
        let b = q.shape[0], lq = q.shape[1], d = q.shape[2], lk = k.shape[1], dv = v.shape[2]
        precondition(k.shape[0] == b && v.shape[0] == b, "attention batch sizes differ: \(q.shape), \(k.shape), \(v.shape)")
        precondition(k.shape[2] == d, "attention: query \(q.shape) and key \(k.shape) feature sizes differ")
        precondition(v.shape[1] == lk, "attention: key \(k.shape) and value \(v.shape) lengths differ")
        let geo = AttentionGeometry(b: b, lq: lq, lk: lk, d: d, dv: dv, scale: scale ?? 1 / Float(Swift.max(d, 1)).squareRoot(),
                                    causal: causal)

        // Nothing will ask for P (inference): query blocks through a small scratch instead of
        // keeping B·Lq·Lk probabilities (1 GiB for SD's 64×64 latents).
        let parents = [q, k, v]
        if !(GradMode.isEnabled && parents.contains(where: \.requiresGrad)) && !parents.contains(where: { $0.tangent != nil }) {
            return Tensor.makeResult(op: "attention", shape: [b, lq, dv], data: geo.forwardInBlocks(q: q.data, k: k.data, v: v.data),
                                     parents: parents, backward: nil, jvp: nil)
        }
        var probs = [Float]()
        let out = geo.forward(q: q.data, k: k.data, v: v.data, probs: &probs)
        return Tensor.makeResult(
            op: "attention", shape: [b, lq, dv], data: out, parents: [q, k, v],
            backward: { g in
                let (dq, dk, dv) = geo.backward(g, q: q.data, k: k.data, v: v.data, probs: probs,
                                                need: (q.requiresGrad, k.requiresGrad, v.requiresGrad))
                if let dq { q.accumulateGrad(dq) }
                if let dk { k.accumulateGrad(dk) }
                if let dv { v.accumulateGrad(dv) }
            },
            jvp: { geo.jvp(q: q, k: k, v: v, probs: probs) })
    }
}

/// Sizes of one attention call and its kernels.
struct AttentionGeometry {
    let b, lq, lk, d, dv: Int
    let scale: Float
    /// Query row `r` sees keys `0…r` only.
    var causal = false

    /// Runs `body(batch entry, scratch)` for every entry in parallel; `scratch` holds `scratchCount` floats.
    func forEachEntry(scratchCount: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let w = Swift.max(1, Swift.min(Parallel.workers, b)), b = b
        Parallel.forEach(w) { c in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratchCount, 1))
            defer { scratch.deallocate() }
            for i in (b * c / w)..<(b * (c + 1) / w) { body(i, scratch) }
        }
    }

    /// Query rows per block of both forward passes: about 64 K scores (256 KB), so that a block's
    /// scores stay in the L2 cache from their gemm through the softmax to `P·V` (whole entries of
    /// 1024×1024 scores went through memory three times more: 17 % of a multi-view UNet forward).
    var blockRows: Int { Swift.max(1, Swift.min(lq, 65_536 / Swift.max(lk, 1))) }

    /// Softmax of one row of scores in place; with ``causal``, query row `r` keeps keys `0…r`
    /// and the rest of its row is 0.
    @inline(__always)
    func normaliseScores(_ row: UnsafeMutablePointer<Float>, queryRow r: Int) {
        guard causal else { Softmax.normalise(row, row, lk, 1, log: false); return }
        let seen = Swift.min(r &+ 1, lk)
        Softmax.normalise(row, row, seen, 1, log: false)
        (row + seen).update(repeating: 0, count: lk &- seen)
    }

    /// `O` `[B, Lq, Dv]`; fills `probs` with `P` `[B, Lq, Lk]`. Each entry runs in blocks of
    /// query rows: scores `s·Q·Kᵀ`, their softmax in place, then `P·V` for those rows.
    func forward(q: [Float], k: [Float], v: [Float], probs: inout [Float]) -> [Float] {
        let rowsPerBlock = blockRows, dvN = dv
        var out = [Float]()
        probs = uninitializedFloats(b * lq * lk) { pp in
            nonisolated(unsafe) let p = pp
            out = uninitializedFloats(b * lq * dvN) { op in
                nonisolated(unsafe) let o = op
                q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                    nonisolated(unsafe) let qp = qb.baseAddress!, kp = kb.baseAddress!, vp = vb.baseAddress!
                    forEachEntry(scratchCount: 0) { i, _ in
                        for r0 in stride(from: 0, to: lq, by: rowsPerBlock) {
                            let rows = Swift.min(rowsPerBlock, lq - r0), row0 = i &* lq &+ r0
                            let s = p + row0 &* lk
                            BLAS.gemm(transB: true, m: rows, n: lk, k: d, alpha: scale, a: qp + row0 &* d,
                                      b: kp + i &* lk &* d, c: s)
                            for r in 0..<rows { normaliseScores(s + r &* lk, queryRow: r0 &+ r) }
                            BLAS.gemm(m: rows, n: dvN, k: lk, a: s, b: vp + i &* lk &* dvN, c: o + row0 &* dvN)
                        }
                    }
                } } }
            }
        }
        return out
    }

    /// `O` `[B, Lq, Dv]` without keeping `P`: per entry and block of query rows, scores, row
    /// softmax and `P·V` through one scratch block. The same arithmetic as ``forward(q:k:v:probs:)``.
    func forwardInBlocks(q: [Float], k: [Float], v: [Float]) -> [Float] {
        let rows = blockRows, dv = dv
        return uninitializedFloats(b * lq * dv) { op in
            nonisolated(unsafe) let o = op
            q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                nonisolated(unsafe) let qp = qb.baseAddress!, kp = kb.baseAddress!, vp = vb.baseAddress!
                forEachEntry(scratchCount: rows * lk) { i, s in
                    var r0 = 0
                    while r0 < lq {
                        let n = Swift.min(rows, lq - r0)
                        BLAS.gemm(transB: true, m: n, n: lk, k: d, alpha: scale, a: qp + (i &* lq &+ r0) &* d,
                                  b: kp + i &* lk &* d, c: s)
                        for r in 0..<n { normaliseScores(s + r &* lk, queryRow: r0 &+ r) }
                        BLAS.gemm(m: n, n: dv, k: lk, a: s, b: vp + i &* lk &* dv, c: o + (i &* lq &+ r0) &* dv)
                        r0 &+= n
                    }
                }
            } } }
        }
    }

    /// `P·X` per entry for `P` `[B, Lq, Lk]` and `X` `[B, Lk, Dv]`.
    func batchedProduct(_ p: [Float], _ x: [Float]) -> [Float] {
        uninitializedFloats(b * lq * dv) { op in
            nonisolated(unsafe) let o = op
            p.withUnsafeBufferPointer { pb in x.withUnsafeBufferPointer { xb in
                nonisolated(unsafe) let pp = pb.baseAddress!, xp = xb.baseAddress!
                forEachEntry(scratchCount: 0) { i, _ in
                    BLAS.gemm(m: lq, n: dv, k: lk, a: pp + i &* lq &* lk, b: xp + i &* lk &* dv, c: o + i &* lq &* dv)
                }
            } }
        }
    }

    /// `dS = P ⊙ (dP − rowsum(dP ⊙ P))` in place over `dp` (one entry, `[Lq, Lk]`).
    @inline(__always)
    func softmaxBackward(_ dp: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>) {
        for r in 0..<lq {
            let dr = dp + r &* lk, pr = p + r &* lk
            let s = Softmax.dot(dr, pr, lk, 1)
            for j in 0..<lk { dr[j] = pr[j] * (dr[j] - s) }
        }
    }

    /// `(dQ, dK, dV)` for the output gradient `g` `[B, Lq, Dv]` (nil where not needed).
    func backward(_ g: [Float], q: [Float], k: [Float], v: [Float], probs: [Float],
                  need: (q: Bool, k: Bool, v: Bool)) -> ([Float]?, [Float]?, [Float]?) {
        // every value is written by a gemm with beta = 0
        var dq: [Float]? = need.q ? uninitializedFloats(b * lq * d) { _ in } : nil
        var dk: [Float]? = need.k ? uninitializedFloats(b * lk * d) { _ in } : nil
        var dv: [Float]? = need.v ? uninitializedFloats(b * lk * self.dv) { _ in } : nil
        let dvN = self.dv
        withPointers(&dq, &dk, &dv) { dqp, dkp, dvp in
            nonisolated(unsafe) let dqp = dqp, dkp = dkp, dvp = dvp
            g.withUnsafeBufferPointer { gb in q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in probs.withUnsafeBufferPointer { pb in
                    nonisolated(unsafe) let gp = gb.baseAddress!, qp = qb.baseAddress!, kp = kb.baseAddress!
                    nonisolated(unsafe) let vp = vb.baseAddress!, pp = pb.baseAddress!
                    forEachEntry(scratchCount: lq * lk) { i, ds in
                        let gi = gp + i &* lq &* dvN, pi = pp + i &* lq &* lk
                        if let dvp {   // dV = Pᵀ·dO
                            BLAS.gemm(transA: true, m: lk, n: dvN, k: lq, a: pi, b: gi, c: dvp + i &* lk &* dvN)
                        }
                        guard dqp != nil || dkp != nil else { return }
                        // dP = dO·Vᵀ, then dS in place
                        BLAS.gemm(transB: true, m: lq, n: lk, k: dvN, a: gi, b: vp + i &* lk &* dvN, c: ds)
                        softmaxBackward(ds, pi)
                        if let dqp {   // dQ = s·dS·K
                            BLAS.gemm(m: lq, n: d, k: lk, alpha: scale, a: ds, b: kp + i &* lk &* d, c: dqp + i &* lq &* d)
                        }
                        if let dkp {   // dK = s·dSᵀ·Q
                            BLAS.gemm(transA: true, m: lk, n: d, k: lq, alpha: scale, a: ds, b: qp + i &* lq &* d,
                                      c: dkp + i &* lk &* d)
                        }
                    }
                } }
            } } }
        }
        return (dq, dk, dv)
    }

    /// `Ȯ = Ṗ·V + P·V̇` with `Ṗ = P ⊙ (Ṡ − rowsum(Ṡ ⊙ P))`, `Ṡ = s·(Q̇·Kᵀ + Q·K̇ᵀ)`.
    func jvp(q: Tensor, k: Tensor, v: Tensor, probs: [Float]) -> [Float] {
        var out: [Float]
        if q.tangent != nil || k.tangent != nil {
            var sdot = [Float](repeating: 0, count: b * lq * lk)
            sdot.withUnsafeMutableBufferPointer { sb in
                nonisolated(unsafe) let sp = sb.baseAddress!
                let pairs: [([Float], [Float])] = [q.tangent.map { ($0, k.data) }, k.tangent.map { (q.data, $0) }].compactMap { $0 }
                for (a, bm) in pairs {
                    a.withUnsafeBufferPointer { ab in bm.withUnsafeBufferPointer { bb in
                        nonisolated(unsafe) let ap = ab.baseAddress!, bp = bb.baseAddress!
                        forEachEntry(scratchCount: 0) { i, _ in
                            BLAS.gemm(transB: true, m: lq, n: lk, k: d, alpha: scale, a: ap + i &* lq &* d,
                                      b: bp + i &* lk &* d, beta: 1, c: sp + i &* lq &* lk)
                        }
                    } }
                }
                probs.withUnsafeBufferPointer { pb in
                    nonisolated(unsafe) let pp = pb.baseAddress!
                    forEachEntry(scratchCount: 0) { i, _ in softmaxBackward(sp + i &* lq &* lk, pp + i &* lq &* lk) }
                }
            }
            out = batchedProduct(sdot, v.data)
        } else {
            out = [Float](repeating: 0, count: b * lq * dv)
        }
        if let tv = v.tangent {
            let u = batchedProduct(probs, tv)
            for i in 0..<out.count { out[i] += u[i] }
        }
        return out
    }
}

/// Calls `body` with base pointers of the arrays that exist (nil for the missing ones).
private func withPointers(_ a: inout [Float]?, _ b: inout [Float]?, _ c: inout [Float]?,
                          _ body: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void) {
    func with(_ x: inout [Float]?, _ f: (UnsafeMutablePointer<Float>?) -> Void) {
        if x == nil { f(nil) } else { x!.withUnsafeMutableBufferPointer { f($0.baseAddress) } }
    }
    with(&a) { pa in with(&b) { pb in with(&c) { pc in body(pa, pb, pc) } } }
}
