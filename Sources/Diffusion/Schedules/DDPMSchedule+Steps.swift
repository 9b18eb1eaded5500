import Foundation

/// Why a number of inference steps does not fit a model's ``DDPMSchedule``.
///
/// ```swift
/// do { _ = try DDPMSchedule().checkedDDIMSigmas(steps: 2000) }
/// catch let e as ScheduleStepsError { print(e) }   // "2000 DDIM steps: the model was trained with 1000 timesteps (allowed: 1…1000)"
/// ```
public enum ScheduleStepsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Fewer than 1 or more steps than the model has training timesteps.
    case outOfRange(steps: Int, trainTimesteps: Int)
    /// The spacing (with its `steps_offset`) picks the same noise level twice; `maxSteps` is
    /// the largest count that does not, where it can be computed.
    case repeatedLevel(steps: Int, timestep: Int, maxSteps: Int?)

    public var description: String {
        switch self {
        case let .outOfRange(steps, t):
            return "\(steps) DDIM steps: the model was trained with \(t) timesteps (allowed: 1…\(t))"
        case let .repeatedLevel(steps, t, max):
            return "\(steps) DDIM steps would take the noise level of timestep \(t) twice (the schedule's spacing and steps_offset); "
                + (max.map { "allowed: 1…\($0)" } ?? "use fewer steps")
        }
    }

    public var errorDescription: String? { description }
}

extension DDPMSchedule {
    /// ``ddimSigmas(steps:)`` for a step count that comes from a user: instead of trapping, it
    /// throws unless `steps` is in `1…numTrainTimesteps` and the levels strictly decrease
    /// (with "leading" spacing a `steps_offset` can push two timesteps onto `T−1`).
    ///
    /// ```swift
    /// let sigmas = try schedule.checkedDDIMSigmas(steps: options.steps)
    /// ```
    public func checkedDDIMSigmas(steps: Int) throws(ScheduleStepsError) -> [Float] {
        guard steps >= 1, steps <= numTrainTimesteps else {
            throw .outOfRange(steps: steps, trainTimesteps: numTrainTimesteps)
        }
        let sigmas = ddimSigmas(steps: steps)
        if let i = (1..<sigmas.count).first(where: { !(sigmas[$0] < sigmas[$0 - 1]) }) {
            throw .repeatedLevel(steps: steps, timestep: ddimTimesteps(steps: steps)[i - 1],
                                 maxSteps: timestepSpacing == .leading && maxLeadingSteps < steps ? maxLeadingSteps : nil)
        }
        return sigmas
    }

    /// The most "leading" steps whose timesteps `i·⌊T/n⌋ + steps_offset` stay distinct after
    /// clamping to `T−1` (at most one of them may reach `T−1`).
    var maxLeadingSteps: Int {
        let t = numTrainTimesteps
        return (1...t).reversed().first { n in n == 1 || (n - 2) * (t / n) + stepsOffset < t - 1 } ?? 1
    }
}
