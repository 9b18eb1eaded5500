import Foundation
import Testing
import TensorCore

/// A file in Tests/DiffusionTests/Fixtures (copied into the test bundle).
func fixtureURL(_ name: String) throws -> URL {
    let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures").appendingPathComponent(name)
    try #require(FileManager.default.fileExists(atPath: url.path), "missing fixture \(name)")
    return url
}

/// A fresh temporary folder, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffusion-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - Small dense linear algebra in Double (reference answers)

/// `A⁻¹B` for a row-major `n×n` matrix `A` and `n×m` matrix `B` (Gauss–Jordan, partial pivoting).
func solve(_ a: [Double], _ b: [Double], n: Int, m: Int) -> [Double] {
    var a = a, b = b
    for col in 0..<n {
        let p = (col..<n).max { abs(a[$0 * n + col]) < abs(a[$1 * n + col]) }!
        if p != col {
            for j in 0..<n { a.swapAt(col * n + j, p * n + j) }
            for j in 0..<m { b.swapAt(col * m + j, p * m + j) }
        }
        let piv = a[col * n + col]
        for j in 0..<n { a[col * n + j] /= piv }
        for j in 0..<m { b[col * m + j] /= piv }
        for r in 0..<n where r != col {
            let f = a[r * n + col]
            if f == 0 { continue }
            for j in 0..<n { a[r * n + j] -= f * a[col * n + j] }
            for j in 0..<m { b[r * m + j] -= f * b[col * m + j] }
        }
    }
    return b
}

/// `A·B` for row-major `n×k` and `k×m` matrices.
func matmul(_ a: [Double], _ b: [Double], n: Int, k: Int, m: Int) -> [Double] {
    var c = [Double](repeating: 0, count: n * m)
    for i in 0..<n { for l in 0..<k { for j in 0..<m { c[i * m + j] += a[i * k + l] * b[l * m + j] } } }
    return c
}

/// `μ + Σ(Σ+σ²I)⁻¹(x − μ)` directly (the Gaussian posterior mean), for one item.
func gaussianPosteriorMean(x: [Double], mean: [Double], covariance s: [Double], sigma: Double) -> [Double] {
    let d = mean.count
    var a = s
    for i in 0..<d { a[i * d + i] += sigma * sigma }
    let w = solve(a, zip(x, mean).map { $0 - $1 }, n: d, m: 1)
    let sw = matmul(s, w, n: d, k: d, m: 1)
    return zip(mean, sw).map { $0 + $1 }
}

/// Sample mean and covariance of the rows of an `n×d` row-major matrix.
func sampleMoments(_ x: [Float], d: Int) -> (mean: [Double], covariance: [Double]) {
    let n = x.count / d
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
    for j in 0..<d { mean[j] /= Double(n) }
    var cov = [Double](repeating: 0, count: d * d)
    for i in 0..<n {
        for a in 0..<d { for b in 0..<d {
            cov[a * d + b] += (Double(x[i * d + a]) - mean[a]) * (Double(x[i * d + b]) - mean[b])
        } }
    }
    return (mean, cov.map { $0 / Double(n - 1) })
}

/// A random symmetric positive definite `d×d` covariance `AAᵀ + floor·I` with strong correlations.
func randomCovariance(d: Int, seed: UInt64, floor: Double = 0.05) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    let a = rng.normalValues(d * d).map { Double($0) * 0.6 }
    var s = [Double](repeating: 0, count: d * d)
    for i in 0..<d { for j in 0..<d { for k in 0..<d { s[i * d + j] += a[i * d + k] * a[j * d + k] } } }
    for i in 0..<d { s[i * d + i] += floor }
    return s
}
