import Diffreps
import TensorCore

/// What a pullback run's parameters hold between steps, and so where its noise lives
/// (docs/DESIGN.md §2, "the implicit constraint"): ``NoisyState`` keeps `x_σ` in the parameters,
/// ``DenoisedState`` keeps the clean estimate and adds each view's noise to its render. The
/// sampler's loop (``PullbackSampler/sample(_:views:progress:)``) is the same for both; these
/// two calls are where they differ.
protocol PullbackState {
    /// The denoiser's input at level `sigma` for the renders `x` (`[K, C, H, W]`) of `views`:
    /// the renders themselves, or the renders plus `σ·ε_k`. Fresh noise comes from `noise`.
    func denoiserInput<R: Diffrep>(_ x: Tensor, of diffrep: R, views: [R.View], sigma: Float,
                                   noise: inout RandomGenerator) -> Tensor

    /// Adds noise of standard deviation `std` to what the parameters hold: the initial `σ_0`,
    /// the DDIM step's fresh noise for `η > 0`, RePaint's re-noising. `views` is called only if
    /// the noise has to be projected through renders.
    func addNoise<R: Diffrep>(std: Float, run: PullbackRun<R>, views: () throws -> [R.View],
                              noise: inout RandomGenerator) throws
}
