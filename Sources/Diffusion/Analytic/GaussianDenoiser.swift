import TensorCore

/// The exact denoiser of Gaussian data `x₀ ~ N(μ, Σ)`:
/// `D(x; σ) = E[x₀ | x₀ + σε = x] = μ + Σ(Σ + σ²I)⁻¹(x − μ)`.
///
/// Items are flattened: an item of shape `mean.shape` is a vector of dimension `d = mean.count`,
/// and a batch `[B, …]` holds `B` of them. Three covariance forms:
/// - isotropic `Σ = v·I` — `D = μ + v/(v+σ²)·(x − μ)`;
/// - full `Σ` (`[d, d]`), diagonalised once by ``SymmetricEigen`` (`Σ = QΛQᵀ`, so
///   `D = μ + Q·diag(λ/(λ+σ²))·Qᵀ(x − μ)`; meant for small `d`, say ≤ 500);
/// - low rank plus diagonal `Σ = UUᵀ + diag(δ)` (`U` is `[d, r]`), solved per σ with the
///   Woodbury identity and an `r×r` Cholesky factor, so it scales to image-sized `d`.
/// The condition is ignored; the result is off the tape. Computation is in Double.
///
/// ```swift
/// let g = GaussianDenoiser(mean: Tensor([2], data: [0, 1]),
///                          covariance: Tensor([2, 2], data: [1, 0.8, 0.8, 1]))
/// let d = g.denoise(Tensor([1, 2], data: [3, -1]), sigma: 0.5, condition: nil)   // [1, 2]
/// ```
public struct GaussianDenoiser: Denoiser {
    enum Covariance {
        case isotropic(Double)
        case eigen(values: [Double], vectors: [Double])                 // Σ = QΛQᵀ, Q row-major [d, d]
        case lowRank(factor: [Double], rank: Int, diagonal: [Double])   // Σ = UUᵀ + diag(δ), U row-major [d, r]
    }

    /// The data mean `μ`; its shape is the item shape.
    public let mean: Tensor
    /// The item dimension `d`.
    public var dimension: Int { mean.count }
    let mu: [Double]
    let covariance: Covariance

    /// Isotropic data `N(μ, v·I)`.
    public init(mean: Tensor, variance: Float) {
        precondition(variance >= 0, "variance must be non-negative, got \(variance)")
        self.mean = mean.detached()
        mu = mean.data.map(Double.init)
        covariance = .isotropic(Double(variance))
    }

    /// Data `N(μ, Σ)` with a full symmetric positive semi-definite covariance `[d, d]`.
    public init(mean: Tensor, covariance sigma: Tensor) {
        let d = mean.count
        precondition(sigma.shape == [d, d], "covariance must be [\(d), \(d)] for a mean of \(d) values, got \(sigma.shape)")
        let s = sigma.data.map(Double.init)
        let scale = s.reduce(0) { Swift.max($0, Swift.abs($1)) }
        for i in 0..<d { for j in 0..<i {
            precondition(Swift.abs(s[i * d + j] - s[j * d + i]) <= 1e-5 * Swift.max(scale, 1e-30),
                         "covariance is not symmetric at (\(i), \(j))")
        } }
        let (values, vectors) = SymmetricEigen.decompose(s, n: d)
        precondition(values.allSatisfy { $0 >= -1e-6 * Swift.max(scale, 1e-30) },
                     "covariance is not positive semi-definite (smallest eigenvalue \(values.first ?? 0))")
        self.mean = mean.detached()
        mu = mean.data.map(Double.init)
        covariance = .eigen(values: values.map { Swift.max($0, 0) }, vectors: vectors)
    }

    /// Data `N(μ, UUᵀ + diag(δ))` with `U` of shape `[d, r]` and `δ ≥ 0` of `d` values.
    public init(mean: Tensor, lowRankFactor u: Tensor, diagonal: Tensor) {
        let d = mean.count
        precondition(u.rank == 2 && u.shape[0] == d, "low-rank factor must be [\(d), r], got \(u.shape)")
        precondition(diagonal.count == d, "diagonal must hold \(d) values, got \(diagonal.shape)")
        precondition(diagonal.data.allSatisfy { $0 >= 0 }, "diagonal variances must be non-negative")
        self.mean = mean.detached()
        mu = mean.data.map(Double.init)
        covariance = .lowRank(factor: u.data.map(Double.init), rank: u.shape[1], diagonal: diagonal.data.map(Double.init))
    }

    /// Data `N(μ, diag(δ))` with per-coordinate variances `δ ≥ 0` (same count as the mean).
    public init(mean: Tensor, diagonalVariance: Tensor) {
        self.init(mean: mean, lowRankFactor: Tensor([mean.count, 0], data: []), diagonal: diagonalVariance)
    }

    /// `E[x₀ | x]` for each item of `x` (`[B, …]`, `B` items of `d` values) at noise level `sigma`.
    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        let d = dimension
        let s2 = Swift.max(Double(sigma) * Double(sigma), minimumNoiseVariance)
        return mu.withUnsafeBufferPointer { mb in
            nonisolated(unsafe) let m = mb.baseAddress!
            switch covariance {
            case .isotropic(let v):
                let f = v / (v + s2)
                return Tensor.mapItems(x, dimension: d, who: "GaussianDenoiser") { xi, out in
                    for j in 0..<d { out[j] = Float(m[j] + f * (Double(xi[j]) - m[j])) }
                }
            case let .eigen(values, vectors):
                let shrink = values.map { $0 > 0 ? $0 / ($0 + s2) : 0 }          // λ/(λ+σ²)
                return vectors.withUnsafeBufferPointer { qb in
                    nonisolated(unsafe) let q = qb.baseAddress!
                    return Tensor.mapItems(x, dimension: d, who: "GaussianDenoiser") { xi, out in
                        var y = [Double](repeating: 0, count: d)               // Qᵀ(x − μ), shrunk
                        for i in 0..<d {
                            let r = Double(xi[i]) - m[i]
                            let row = q + i &* d
                            for k in 0..<d { y[k] += row[k] * r }
                        }
                        for k in 0..<d { y[k] *= shrink[k] }
                        for i in 0..<d {
                            let row = q + i &* d
                            var acc = 0.0
                            for k in 0..<d { acc += row[k] * y[k] }
                            out[i] = Float(m[i] + acc)
                        }
                    }
                }
            case let .lowRank(u, r, delta):
                return GaussianDenoiser.denoiseLowRank(x, mu: m, u: u, rank: r, delta: delta, s2: s2)
            }
        }
    }

    /// Woodbury: with `E = diag(δ + σ²)` and `M = I + UᵀE⁻¹U` (`r×r`),
    /// `(Σ+σ²I)⁻¹ρ = E⁻¹(ρ − U·M⁻¹UᵀE⁻¹ρ)` and `D = x − σ²(Σ+σ²I)⁻¹ρ` for `ρ = x − μ`.
    private static func denoiseLowRank(_ x: Tensor, mu m: UnsafePointer<Double>, u: [Double], rank r: Int,
                                       delta: [Double], s2: Double) -> Tensor {
        let d = delta.count
        let e = delta.map { 1 / Swift.max($0 + s2, minimumNoiseVariance) }      // E⁻¹
        let s2e = zip(delta, e).map { Swift.min(s2 * $1, 1) }                    // σ²E⁻¹ ∈ (0, 1]
        var mm = [Double](repeating: 0, count: r * r)                            // M = I + UᵀE⁻¹U
        for j in 0..<d { for a in 0..<r { for b in 0...a { mm[a * r + b] += u[j * r + a] * e[j] * u[j * r + b] } } }
        for a in 0..<r { mm[a * r + a] += 1; for b in 0..<a { mm[b * r + a] = mm[a * r + b] } }
        let chol = Cholesky(mm, n: r)
        return Tensor.mapItems(x, dimension: d, who: "GaussianDenoiser") { xi, out in
            var rho = [Double](repeating: 0, count: d)
            var a = [Double](repeating: 0, count: r)                             // UᵀE⁻¹ρ
            for j in 0..<d {
                rho[j] = Double(xi[j]) - m[j]
                let ej = e[j] * rho[j]
                for k in 0..<r { a[k] += u[j * r + k] * ej }
            }
            let b = chol.solve(a)
            for j in 0..<d {
                var ub = 0.0
                for k in 0..<r { ub += u[j * r + k] * b[k] }
                out[j] = Float(Double(xi[j]) - s2e[j] * (rho[j] - ub))
            }
        }
    }
}

/// The Cholesky factor `L` (`A = LLᵀ`) of a small symmetric positive definite matrix, with solves.
struct Cholesky {
    let n: Int
    var l: [Double]

    init(_ a: [Double], n: Int) {
        self.n = n
        l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    precondition(s > 0, "matrix is not positive definite (pivot \(s) at \(i))")
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
    }

    /// `A⁻¹b`.
    func solve(_ b: [Double]) -> [Double] {
        var y = b
        for i in 0..<n {                      // L y = b
            for k in 0..<i { y[i] -= l[i * n + k] * y[k] }
            y[i] /= l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {   // Lᵀ z = y
            for k in (i + 1)..<n { y[i] -= l[k * n + i] * y[k] }
            y[i] /= l[i * n + i]
        }
        return y
    }
}
