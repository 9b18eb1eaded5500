import Diffreps
import TensorCore

/// The noisy state: the parameters hold `x_σ` itself, so the denoiser sees the renders as they
/// are and every noise of the run goes into the parameters. Exact where the diffrep can show
/// white noise (pixel grids: DDIM; pixel panoramas: MultiDiffusion).
///
/// ```swift
/// let config = PullbackSampler.Configuration(sigmas: sigmas, state: .noisy)
/// ```
struct NoisyState: PullbackState {
    /// The renders as they are: they already hold the noise.
    func denoiserInput<R: Diffrep>(_ x: Tensor, of diffrep: R, views: [R.View], sigma: Float,
                                   noise: inout RandomGenerator) -> Tensor {
        x
    }

    /// Exact white noise in parameter space where the diffrep can show it, else the
    /// least-squares projection of per-view white noise in `views` (only drawn then).
    func addNoise<R: Diffrep>(std: Float, run: PullbackRun<R>, views: () throws -> [R.View],
                              noise: inout RandomGenerator) throws {
        let diffrep = run.diffrep
        if let eps = diffrep.parameterNoise(using: &noise) {
            precondition(eps.map(\.count) == diffrep.parameters.tensors.map(\.count),
                         "parameterNoise returned arrays that do not match the parameters")
            ParameterVector(parts: eps).apply(to: diffrep.parameters, scaledBy: std)
            return
        }
        let views = try views()
        let x = GradMode.withoutGrad { diffrep.render(views) }                                  // [K, C, H, W]
        let perView = noise.normalValues(x.count)
        let y = Tensor(x.shape, data: zip(x.data, perView).map { $0 + std * $1 })
        run.pullBack(views: views, renders: x, targets: y)
    }
}
