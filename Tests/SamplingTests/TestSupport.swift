import Foundation
import Testing
import TensorCore
import Diffusion
import Diffreps
@testable import Sampling

/// The largest `|a_i − b_i|` (infinity when the sizes differ or a value is NaN).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// The flat copy of every parameter value, in ``Parameters`` order.
func parameterValues(_ p: Parameters) -> [Float] { p.tensors.flatMap(\.data) }

/// Pearson's χ² statistic of observed counts against expected probabilities.
func chiSquare(counts: [Int], probabilities: [Double]) -> Double {
    let n = Double(counts.reduce(0, +))
    return zip(counts, probabilities).reduce(0) { acc, cp in
        let e = n * cp.1
        return acc + (Double(cp.0) - e) * (Double(cp.0) - e) / e
    }
}

/// A smooth stationary covariance over a `[C, H, W]` item: `c·exp(−dist²/(2ℓ²))` between pixels of
/// the same channel (plus a tiny jitter), `[d, d]`.
func smoothCovariance(channels: Int, height: Int, width: Int, length: Double, variance: Double = 1) -> Tensor {
    let n = height * width, d = channels * n
    var cov = [Float](repeating: 0, count: d * d)
    for c in 0..<channels {
        for a in 0..<n {
            for b in 0..<n {
                let (ia, ja, ib, jb) = (a / width, a % width, b / width, b % width)
                let r2 = Double((ia - ib) * (ia - ib) + (ja - jb) * (ja - jb))
                cov[(c * n + a) * d + c * n + b] = Float(variance * Foundation.exp(-r2 / (2 * length * length)) + (a == b ? 1e-4 : 0))
            }
        }
    }
    return Tensor([d, d], data: cov)
}

/// A denoiser that returns NaN everywhere (for error tests).
struct NaNDenoiser: Denoiser {
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        Tensor(x.shape, data: [Float](repeating: .nan, count: x.count))
    }
}

/// A denoiser that records how often it ran.
final class CountingDenoiser: Denoiser, @unchecked Sendable {
    let base: any Denoiser
    var calls = 0
    init(_ base: any Denoiser) { self.base = base }
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        calls += 1
        return base.denoise(x, sigma: sigma, condition: condition)
    }
}

/// Records the σ and conditions of every call (and denoises by shrinking towards zero).
final class ConditionRecorder: Denoiser, @unchecked Sendable {
    var calls: [(sigma: Float, conditions: [DenoiserCondition]?)] = []
    func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        denoise(x, sigma: sigma, conditions: DenoiserCondition.classes(condition))
    }
    func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor {
        calls.append((sigma, conditions))
        return x.scaled(by: 0.5)
    }
}

/// The denoised state a run with `configure`'s noise options holds (its other settings the
/// general defaults), carrying `carried` (`carriedNoiseImages` images, nil: nothing carried).
func denoisedState(carried: [Float]?, _ configure: (inout PullbackSampler.Configuration) -> Void = { _ in }) -> DenoisedState {
    var c = PullbackSampler.Configuration(sigmas: [2, 1, 0], state: .denoised)
    configure(&c)
    let settings = PullbackSampler.DiffrepSettings.general.overridden(by: c)
    return DenoisedState(settings: settings, configuration: c,
                         carried: carried.map { CarriedNoise(values: $0, count: settings.carriedNoiseImages) })
}
