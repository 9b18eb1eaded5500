/// Why a sampling run stopped (besides `CancellationError`).
public enum ImageSamplerError: Error, Equatable, CustomStringConvertible {
    /// The denoiser returned NaN or infinity at this step and noise level.
    case nonFiniteDenoiserOutput(step: Int, sigma: Float)

    public var description: String {
        switch self {
        case let .nonFiniteDenoiserOutput(step, sigma):
            return "the denoiser returned NaN or infinity at step \(step) (σ = \(sigma)); the model or its inputs are broken"
        }
    }
}
