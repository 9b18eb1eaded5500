/// The samplers by name (for command lines and configuration files).
///
/// ```swift
/// let sampler = SamplingMethod.ddim(eta: 0).sampler
/// ```
public enum SamplingMethod: Sendable, Equatable {
    /// ``DDIMSampler`` with stochasticity `eta`.
    case ddim(eta: Float)
    /// ``EulerSampler``.
    case euler
    /// ``HeunSampler``.
    case heun

    /// The sampler this names.
    public var sampler: any ImageSampler {
        switch self {
        case .ddim(let eta): return DDIMSampler(eta: eta)
        case .euler: return EulerSampler()
        case .heun: return HeunSampler()
        }
    }
}
