// What a pullback or score-distillation run measured (its progress and errors are Diffusion's
// SamplingProgress and SamplingError, shared with the image samplers).

/// What a run measured.
public struct SamplingReport: Sendable {
    /// Wall time in the denoiser, in the parameter solve, and in all.
    public var denoiserSeconds = 0.0, solveSeconds = 0.0, totalSeconds = 0.0
    /// Denoiser evaluations (batches) and total solver iterations.
    public var denoiserCalls = 0, solverIterations = 0

    /// A report of no work (all zero), e.g. for a run resumed after its last step.
    public init() {}
}
