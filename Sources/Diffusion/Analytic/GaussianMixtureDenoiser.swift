import Foundation
import TensorCore

/// The exact denoiser of a Gaussian mixture `x₀ ~ Σ_k π_k N(μ_k, diag(v_k))`.
///
/// Given `x = x₀ + σε`, component `k` explains `x` as `N(μ_k, diag(v_k + σ²))`, so the
/// responsibilities are `r_k ∝ π_k N(x; μ_k, diag(v_k + σ²))` (computed in log space and
/// normalised with log-sum-exp, so far-away modes and tiny σ do not underflow), and
/// `D(x; σ) = Σ_k r_k (μ_k + v_k/(v_k + σ²) ⊙ (x − μ_k))`.
/// Items are flattened (`d` values each); variances may be zero (point masses). The condition is
/// ignored; the result is off the tape. Computation is in Double.
///
/// ```swift
/// let gmm = GaussianMixtureDenoiser(weights: [0.3, 0.7],
///                                   means: Tensor([2, 1], data: [-2, 2]), variances: [0.1, 0.1])
/// let d = gmm.denoise(Tensor([1, 1], data: [0.5]), sigma: 1, condition: nil)   // [1, 1]
/// ```
public struct GaussianMixtureDenoiser: Denoiser {
    /// The mixture weights `π_k`, normalised to sum to one.
    public let weights: [Float]
    /// The component means `[K, …]` (the trailing axes are the item shape).
    public let means: Tensor
    /// The number of components `K`.
    public var componentCount: Int { weights.count }
    /// The item dimension `d`.
    public let dimension: Int
    let logWeights: [Double]
    let mu: [Double]          // [K, d]
    let variances: [Double]   // [K, d]

    /// A mixture with one isotropic variance per component (`variances.count == K`).
    public init(weights: [Float], means: Tensor, variances: [Float]) {
        let k = weights.count
        precondition(variances.count == k, "\(variances.count) variances for \(k) components")
        let d = means.rank >= 1 && means.shape[0] == k ? means.count / Swift.max(k, 1) : 0
        self.init(weights: weights, means: means,
                  variancesPerCoordinate: variances.flatMap { [Double](repeating: Double($0), count: d) })
    }

    /// A mixture with diagonal covariances: `diagonalVariances` has the shape of `means`, `[K, …]`.
    public init(weights: [Float], means: Tensor, diagonalVariances: Tensor) {
        precondition(diagonalVariances.shape == means.shape,
                     "diagonal variances \(diagonalVariances.shape) must have the means' shape \(means.shape)")
        self.init(weights: weights, means: means, variancesPerCoordinate: diagonalVariances.data.map(Double.init))
    }

    private init(weights: [Float], means: Tensor, variancesPerCoordinate v: [Double]) {
        let k = weights.count
        precondition(k >= 1, "a mixture needs at least one component")
        precondition(means.rank >= 1 && means.shape[0] == k, "means must be [\(k), …] for \(k) weights, got \(means.shape)")
        precondition(weights.allSatisfy { $0 >= 0 && $0.isFinite } && weights.contains { $0 > 0 },
                     "mixture weights must be non-negative and not all zero")
        precondition(v.allSatisfy { $0 >= 0 && $0.isFinite }, "variances must be non-negative")
        let total = weights.reduce(0, +)
        self.weights = weights.map { $0 / total }
        self.means = means.detached()
        dimension = means.count / k
        logWeights = weights.map { Foundation.log(Double($0) / Double(total)) }
        mu = means.data.map(Double.init)
        variances = v
    }

    /// `E[x₀ | x]` for each item of `x` (`[B, …]`) at noise level `sigma`.
    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        let d = dimension, k = componentCount
        let s2 = Swift.max(Double(sigma) * Double(sigma), minimumNoiseVariance)
        // per component and coordinate: 1/(v+σ²), v/(v+σ²), and Σ_j log(v+σ²)
        let inv = variances.map { 1 / Swift.max($0 + s2, minimumNoiseVariance) }
        let shrink = zip(variances, inv).map { $0 * $1 }
        let logDet = (0..<k).map { c in (0..<d).reduce(0.0) { $0 + Foundation.log(Swift.max(variances[c * d + $1] + s2, minimumNoiseVariance)) } }
        return Tensor.mapItems(x, dimension: d, who: "GaussianMixtureDenoiser") { xi, out in
            var logits = [Double](repeating: 0, count: k)
            for c in 0..<k {
                var q = 0.0
                for j in 0..<d {
                    let r = Double(xi[j]) - mu[c * d + j]
                    q += r * r * inv[c * d + j]
                }
                logits[c] = logWeights[c] - 0.5 * (logDet[c] + q)
            }
            logits.withUnsafeMutableBufferPointer { _ = softmaxInPlace($0) }
            var acc = [Double](repeating: 0, count: d)
            for c in 0..<k where logits[c] > 0 {
                let w = logits[c]
                for j in 0..<d {
                    let m = mu[c * d + j]
                    acc[j] += w * (m + shrink[c * d + j] * (Double(xi[j]) - m))
                }
            }
            for j in 0..<d { out[j] = Float(acc[j]) }
        }
    }
}
