import TensorCore
import Diffusion
import Diffreps

/// A sampler of diffreps: the pullback sampler and the SDS / SJC baselines. Each implements one
/// ``sample(_:views:progress:)``; the shorter calls come from this protocol. Every sampler
/// samples the diffrep in place (its parameters end as the sample), reports a
/// ``SamplingProgress`` after every step, and throws ``SamplingError`` on bad settings, NaN, or
/// when `progress` returns false.
///
/// ```swift
/// let sampler: any DiffrepSampler = PullbackSampler(denoiser: d, configuration: .init(sigmas: sigmas, seed: 7))
/// try sampler.sample(pano)                                                       // the diffrep's own views
/// try sampler.sample(pano, views: { _ in [0, 16, 32, 48] }) { p in print(p.step); return true }
/// ```
public protocol DiffrepSampler {
    /// Samples `diffrep` in place on the views `views` chooses each step (nil: the diffrep's own
    /// view distribution), calling `progress` after every step; returns what the run measured.
    @discardableResult
    func sample<R: Diffrep>(_ diffrep: R, views: ViewChooser<R.View>?, progress: ProgressHandler?) throws -> SamplingReport
}

extension DiffrepSampler {
    /// Samples `diffrep` in place on its own view distribution.
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, progress: ProgressHandler? = nil) throws -> SamplingReport {
        try sample(diffrep, views: nil, progress: progress)
    }

    /// Samples `diffrep` in place on the views `views` chooses (fixed views, or a distribution of
    /// the caller's), without a progress callback.
    @discardableResult
    public func sample<R: Diffrep>(_ diffrep: R, views: @escaping ViewChooser<R.View>) throws -> SamplingReport {
        try sample(diffrep, views: views, progress: nil)
    }
}

/// The views of one step: `chooser`'s, or `count` from the diffrep's own distribution (at
/// noise level `sigma` when given); an empty choice is a ``SamplingError/invalidConfiguration(_:)``.
func drawViews<R: Diffrep>(_ diffrep: R, chooser: ViewChooser<R.View>?, count: Int, sigma: Float? = nil,
                           stream: inout RandomGenerator) throws -> [R.View] {
    let views = chooser?(&stream) ?? sigma.map { diffrep.sampleViews(count: count, sigma: $0, using: &stream) }
        ?? diffrep.sampleViews(count: count, using: &stream)
    guard !views.isEmpty else { throw SamplingError.invalidConfiguration("the view chooser returned no views") }
    return views
}
