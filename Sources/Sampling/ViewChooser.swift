import TensorCore

/// Replaces a diffrep's own view distribution in a sampler run: called once per step with the
/// run's view stream, it returns the views to render (any number ≥ 1). Fixed views ignore the
/// generator; a custom distribution draws from it, so runs stay reproducible.
///
/// ```swift
/// let slidingWindows: ViewChooser<Float> = { _ in stride(from: 0, to: 256, by: 16).map(Float.init) }
/// try sampler.sample(panorama, views: slidingWindows)
/// ```
public typealias ViewChooser<View> = (inout RandomGenerator) -> [View]
