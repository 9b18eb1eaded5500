import Foundation

/// Eigendecomposition of a small real symmetric matrix by the cyclic Jacobi method
/// (Golub & Van Loan §8.5), in Double: `A = V·diag(λ)·Vᵀ` with orthonormal `V`.
/// Cost is about `6n³` flops per sweep and a handful of sweeps: meant for `n` up to a few hundred.
///
/// ```swift
/// let (values, vectors) = SymmetricEigen.decompose([2, 1, 1, 2], n: 2)
/// values    // [1, 3]  (ascending)
/// vectors   // row-major 2×2, column k is the eigenvector of values[k]
/// ```
public enum SymmetricEigen {
    /// Eigenvalues (ascending) and eigenvectors (row-major `n×n`, column `k` belongs to
    /// `values[k]`) of the symmetric row-major `n×n` matrix `a` (only its symmetric part is used).
    public static func decompose(_ a: [Double], n: Int, maxSweeps: Int = 64) -> (values: [Double], vectors: [Double]) {
        precondition(n >= 0 && a.count == n * n, "SymmetricEigen needs an n×n matrix (n = \(n)), got \(a.count) values")
        var m = a
        for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) {   // symmetrise
            let s = 0.5 * (m[i * n + j] + m[j * n + i])
            m[i * n + j] = s; m[j * n + i] = s
        } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let total = m.reduce(0) { $0 + $1 * $1 }
        m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
                for _ in 0..<maxSweeps {
                    var off = 0.0
                    for p in 0..<n { for q in (p + 1)..<Swift.max(p + 1, n) { off += mp[p &* n &+ q] * mp[p &* n &+ q] } }
                    if off <= 1e-30 * total || off == 0 { break }
                    for p in 0..<Swift.max(n - 1, 0) {
                        for q in (p + 1)..<n {
                            let apq = mp[p &* n &+ q]
                            if apq == 0 { continue }
                            // rotation J (J_pp = J_qq = c, J_pq = s, J_qp = −s) that zeroes A_pq in JᵀAJ
                            let theta = (mp[q &* n &+ q] - mp[p &* n &+ p]) / (2 * apq)
                            let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                            let c = 1 / (t * t + 1).squareRoot(), s = t * c
                            for k in 0..<n {                        // columns p, q: A ← A·J
                                let akp = mp[k &* n &+ p], akq = mp[k &* n &+ q]
                                mp[k &* n &+ p] = c * akp - s * akq
                                mp[k &* n &+ q] = s * akp + c * akq
                            }
                            for k in 0..<n {                        // rows p, q: A ← Jᵀ·A
                                let apk = mp[p &* n &+ k], aqk = mp[q &* n &+ k]
                                mp[p &* n &+ k] = c * apk - s * aqk
                                mp[q &* n &+ k] = s * apk + c * aqk
                            }
                            for k in 0..<n {                        // V ← V·J
                                let vkp = vp[k &* n &+ p], vkq = vp[k &* n &+ q]
                                vp[k &* n &+ p] = c * vkp - s * vkq
                                vp[k &* n &+ q] = s * vkp + c * vkq
                            }
                        }
                    }
                }
            }
        }
        let order = (0..<n).sorted { m[$0 * n + $0] < m[$1 * n + $1] }
        let values = order.map { m[$0 * n + $0] }
        var vectors = [Double](repeating: 0, count: n * n)
        for (k, o) in order.enumerated() { for i in 0..<n { vectors[i * n + k] = v[i * n + o] } }
        return (values, vectors)
    }
}
