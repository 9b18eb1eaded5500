import Foundation
import TensorCore

/// The exact denoiser of the empirical distribution of a finite image set `{y_n}`:
/// `D(x; σ) = Σ_n w_n y_n` with `w = softmax_n(−‖x − y_n‖²/(2σ²))` (log-sum-exp stable).
///
/// As σ → 0 it returns the nearest image, so a sampler that uses it reproduces training images —
/// the memorisation limit of a perfectly trained diffusion model. Distances are accumulated in
/// Double from exact differences (no `‖x‖² − 2x·y + ‖y‖²` cancellation). The condition is ignored;
/// the result is off the tape.
///
/// ```swift
/// let d = EmpiricalDenoiser(images: trainingImages)            // [N, C, H, W]
/// let x0 = d.denoise(x, sigma: 0.1, condition: nil)             // [B, C, H, W]
/// ```
public struct EmpiricalDenoiser: Denoiser {
    /// The image set `[N, …]` (the trailing axes are the item shape).
    public let images: Tensor
    /// The number of images `N`.
    public var imageCount: Int { images.shape[0] }
    /// The item dimension `d`.
    public var dimension: Int { images.count / imageCount }

    /// The empirical distribution of `images` (`[N, …]`, `N ≥ 1`).
    public init(images: Tensor) {
        precondition(images.rank >= 1 && images.shape[0] >= 1, "EmpiricalDenoiser needs at least one image, got \(images.shape)")
        self.images = images.detached()
    }

    /// `E[x₀ | x]` for each item of `x` (`[B, …]`) at noise level `sigma`.
    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        let d = dimension, n = imageCount
        let scale = -0.5 / Swift.max(Double(sigma) * Double(sigma), minimumNoiseVariance)
        return images.data.withUnsafeBufferPointer { yb in
            nonisolated(unsafe) let y = yb.baseAddress!
            return Tensor.mapItems(x, dimension: d, who: "EmpiricalDenoiser") { xi, out in
                var logits = [Double](repeating: 0, count: n)
                for i in 0..<n {
                    let yi = y + i &* d
                    var dist = 0.0
                    for j in 0..<d { let r = Double(xi[j] - yi[j]); dist += r * r }
                    logits[i] = scale * dist
                }
                logits.withUnsafeMutableBufferPointer { _ = softmaxInPlace($0) }
                var acc = [Double](repeating: 0, count: d)
                for i in 0..<n where logits[i] > 0 {
                    let w = logits[i], yi = y + i &* d
                    for j in 0..<d { acc[j] += w * Double(yi[j]) }
                }
                for j in 0..<d { out[j] = Float(acc[j]) }
            }
        }
    }
}
