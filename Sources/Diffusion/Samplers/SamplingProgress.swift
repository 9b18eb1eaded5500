import Foundation

// What every sampler in the package reports and throws: the image samplers here (DDIM, Euler,
// Heun) and the diffrep samplers in Sampling (pullback, SDS, SJC) take one progress callback,
// cancel one way and throw one error type.

/// Where a sampler is, passed to the progress callback after every step.
///
/// ```swift
/// let x = try DDIMSampler().sample(denoiser, shape: [4, 3, 32, 32], config: config) { p in
///     print("\(p.step)/\(p.totalSteps), σ = \(p.sigma), \(Int(p.remaining)) s left"); return true
/// }
/// ```
public struct SamplingProgress: Sendable {
    /// Steps done so far and in all.
    public var step: Int, totalSteps: Int
    /// Seconds since the run started, and the estimated seconds left.
    public var elapsed: Double, remaining: Double
    /// The current noise level.
    public var sigma: Float

    /// The share of steps done, in `0…1`.
    public var fraction: Double { totalSteps == 0 ? 1 : Double(step) / Double(totalSteps) }
}

/// A progress callback, called after every step: return `false` to cancel the run (the sampler
/// then throws ``SamplingError/cancelled(afterStep:)``).
public typealias ProgressHandler = (SamplingProgress) -> Bool

/// Why a sampler stopped early or did not start.
///
/// ```swift
/// do { _ = try DDIMSampler().sample(denoiser, shape: [1, 3, 8, 8], config: SamplerConfig(sigmas: [1], seed: 0)) }
/// catch let e as SamplingError { print(e) }   // "invalid sampler configuration: a sampler needs at least two noise levels, got [1.0]"
/// ```
public enum SamplingError: Error, CustomStringConvertible, Equatable {
    /// The progress callback returned `false` after this step.
    case cancelled(afterStep: Int)
    /// The denoiser returned NaN or infinity at this step and noise level.
    case nonFinite(step: Int, sigma: Float)
    /// The settings cannot be sampled with (what is wrong, in words).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .cancelled(s): return "sampling cancelled after step \(s)"
        case let .nonFinite(s, sigma): return "sampling produced NaN or infinity at step \(s) (σ = \(sigma)); HINT: lower the learning rate or the guidance scale"
        case let .invalidConfiguration(why): return "invalid sampler configuration: \(why)"
        }
    }
}

/// Times a sampler's phases (denoiser vs parameter solve) and makes its progress reports.
package struct SamplingClock {
    package let start = DispatchTime.now()
    package var denoiserSeconds = 0.0
    package var solveSeconds = 0.0

    package init() {}

    package var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    package static func time<T>(_ total: inout Double, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now()
        defer { total += Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9 }
        return try body()
    }

    package func progress(step: Int, of total: Int, sigma: Float) -> SamplingProgress {
        let e = elapsed
        return SamplingProgress(step: step, totalSteps: total, elapsed: e,
                                remaining: step == 0 ? 0 : e / Double(step) * Double(total - step), sigma: sigma)
    }
}
