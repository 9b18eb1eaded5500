import COpenBLAS

/// Eigendecomposition of a real symmetric matrix in Double, `A = V·diag(λ)·Vᵀ` with orthonormal
/// `V`, by LAPACK's divide-and-conquer solver (`dsyevd`, shipped inside OpenBLAS).
///
/// ```swift
/// let (values, vectors) = SymmetricEigen.decompose([2, 1, 1, 2], n: 2)
/// values    // [1, 3]  (ascending)
/// vectors   // row-major 2×2, column k is the eigenvector of values[k]
/// ```
public enum SymmetricEigen {
    /// Eigenvalues (ascending) and eigenvectors (row-major `n×n`, column `k` belongs to
    /// `values[k]`) of the symmetric row-major `n×n` matrix `a` (only its symmetric part is used).
    /// Every value must be finite.
    public static func decompose(_ a: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(n >= 0 && a.count == n * n, "SymmetricEigen needs an n×n matrix (n = \(n)), got \(a.count) values")
        precondition(a.allSatisfy(\.isFinite), "SymmetricEigen needs finite values")
        precondition(n <= Int(Int32.max) / Swift.max(n, 1), "SymmetricEigen: n = \(n) is too large for LAPACK's 32-bit sizes")
        if n == 0 { return ([], []) }
        // The symmetric part; symmetric, so its row-major layout is also LAPACK's column-major one.
        var m = a
        for i in 0..<n { for j in (i + 1)..<n {
            let s = 0.5 * (m[i * n + j] + m[j * n + i])
            m[i * n + j] = s; m[j * n + i] = s
        } }
        var values = [Double](repeating: 0, count: n)
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "L"))
        var size = Int32(n), leading = Int32(n), info: Int32 = 0
        // Workspace query, then the solve.
        var workSize = 0.0, iworkSize: Int32 = 0, query: Int32 = -1, iquery: Int32 = -1
        dsyevd_(&jobz, &uplo, &size, &m, &leading, &values, &workSize, &query, &iworkSize, &iquery, &info, 1, 1)
        precondition(info == 0, "SymmetricEigen: LAPACK dsyevd workspace query failed (info = \(info))")
        var lwork = Int32(workSize.rounded(.up)), liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &size, &m, &leading, &values, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        precondition(info == 0, "SymmetricEigen: LAPACK dsyevd did not converge (info = \(info))")
        // LAPACK leaves eigenvector k in column k of its column-major output, i.e. in m[k·n ..< (k+1)·n].
        var vectors = [Double](repeating: 0, count: n * n)
        for k in 0..<n { for i in 0..<n { vectors[i * n + k] = m[k * n + i] } }
        return (values, vectors)
    }
}
