import Foundation

/// Where a sampler is, passed to the progress callback after every step.
public struct SamplingProgress: Sendable {
    /// Steps done so far and in all.
    public var step: Int, totalSteps: Int
    /// Seconds since the run started, and the estimated seconds left.
    public var elapsed: Double, remaining: Double
    /// The current noise level.
    public var sigma: Float

    public var fraction: Double { totalSteps == 0 ? 1 : Double(step) / Double(totalSteps) }
}

/// A progress callback: return `false` to cancel the run (the sampler then throws
/// ``SamplingError/cancelled``).
public typealias ProgressHandler = (SamplingProgress) -> Bool

/// Why a sampler stopped early.
public enum SamplingError: Error, CustomStringConvertible, Equatable {
    case cancelled(afterStep: Int)
    case nonFinite(step: Int, sigma: Float)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .cancelled(s): return "sampling cancelled after step \(s)"
        case let .nonFinite(s, sigma): return "sampling produced NaN or infinity at step \(s) (σ = \(sigma)); HINT: lower the learning rate or the guidance scale"
        case let .invalidConfiguration(why): return "invalid sampler configuration: \(why)"
        }
    }
}

/// Times the sampler's phases (denoiser vs parameter solve) and reports progress.
struct SamplingClock {
    let start = DispatchTime.now()
    var denoiserSeconds = 0.0
    var solveSeconds = 0.0

    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    static func time<T>(_ total: inout Double, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now()
        defer { total += Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9 }
        return try body()
    }

    func progress(step: Int, of total: Int, sigma: Float) -> SamplingProgress {
        let e = elapsed
        return SamplingProgress(step: step, totalSteps: total, elapsed: e,
                                remaining: step == 0 ? 0 : e / Double(step) * Double(total - step), sigma: sigma)
    }
}

/// What a run measured.
public struct SamplingReport: Sendable {
    /// Wall time in the denoiser, in the parameter solve, and in all.
    public var denoiserSeconds = 0.0, solveSeconds = 0.0, totalSeconds = 0.0
    /// Denoiser evaluations (batches) and total solver iterations.
    public var denoiserCalls = 0, solverIterations = 0

    /// A report of no work (all zero), e.g. for a run resumed after its last step.
    public init() {}
}
