import TensorCore

/// A differentiable representation ("diffrep"): parameters `θ`, a distribution of views `π`,
/// and a differentiable render `R(θ, π) → [C, H, W]` (docs/DESIGN.md §2 "Diffreps").
///
/// The samplers only ever talk to this protocol, so a research script can bring its own
/// representation:
///
/// ```swift
/// final class Checkerboard: Diffrep {
///     let parameters = Parameters([("cells", Tensor.zeros([3, 4, 4]))])
///     let renderShape = [3, 16, 16]
///     func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Void] { .init(repeating: (), count: count) }
///     func render(_ views: [Void]) -> Tensor { /* upsample cells to [K, 3, 16, 16] */ }
/// }
/// ```
public protocol Diffrep: AnyObject {
    /// What one view is (a camera, a window offset, nothing for plain images).
    associatedtype View

    /// `θ`: every tensor the samplers move (each with `requiresGrad`).
    var parameters: Parameters { get }

    /// The shape `[C, H, W]` of one render — the denoiser's input size.
    var renderShape: [Int] { get }

    /// Draws `count` views from the view distribution `π`.
    func sampleViews(count: Int, using rng: inout RandomGenerator) -> [View]

    /// Draws `count` views for a sampler step at noise level `sigma` (the pullback sampler's
    /// call): a diffrep whose best view distribution changes with the noise level overrides it.
    /// The default ignores `sigma` and calls ``sampleViews(count:using:)``.
    func sampleViews(count: Int, sigma: Float, using rng: inout RandomGenerator) -> [View]

    /// Renders a batch of views `[K, C, H, W]`, differentiable in ``parameters`` in both
    /// reverse mode (VJP) and forward mode (JVP).
    func render(_ views: [View]) -> Tensor

    /// Exact white noise in parameter space, when the representation can show it: a direction
    /// `ε_θ` (one array per parameter tensor, in ``parameters`` order) such that the render of
    /// `ε_θ` is `N(0, I)` in every view. `nil` when no such direction exists (fields, NeRFs):
    /// samplers then project per-view white noise by least squares instead.
    func parameterNoise(using rng: inout RandomGenerator) -> [[Float]]?

    /// A prior on the parameters added to every inner-Adam solve (smoothness, empty space),
    /// as a scalar on the tape; `nil` for none (the default).
    func regularizer() -> Tensor?

    /// `mean((render(views) − targets)²)` (`targets` `[K, C, H, W]`) as a scalar on the tape,
    /// when the diffrep computes it faster than its render can (render, residual and gradient
    /// fused into one pass); reverse mode only. `nil` (the default): the inner-Adam solves
    /// compose it from ``render(_:)``.
    ///
    /// ```swift
    /// let fit = diffrep.squaredError(views, targets: y) ?? (diffrep.render(views) - y).square().mean()
    /// ```
    func squaredError(_ views: [View], targets: Tensor) -> Tensor?

    /// Scales the learning rates of Adam-based solves and samplers: 1 (the default) for
    /// parameters in image units (pixel grids, voxel grids), smaller for parameters that move
    /// the render more per unit (network weights).
    var optimizerStepScale: Float { get }

    /// Per-parameter multipliers of ``optimizerStepScale``, by parameter name (absent: 1), for
    /// parameters that move the render less per unit than the rest (a field's feature table
    /// against its network). Empty by default.
    ///
    /// ```swift
    /// var adam = Adam(parameters: diffrep.parameters, learningRate: rate * diffrep.optimizerStepScale)
    /// adam.learningRateScale = diffrep.optimizerStepScales
    /// ```
    var optimizerStepScales: [String: Float] { get }

    /// Noise that belongs to the representation rather than to each view: `[K, C, H, W]`, unit
    /// variance per pixel, and the same point of the represented object gets the same noise in
    /// every view (it turns with the object). The denoised-state sampler can use it in place of
    /// one carried noise image, which asks every view for the same picture. `nil` (the default)
    /// when the diffrep has no such noise. `seed` fixes the noise for a whole run.
    func viewConsistentNoise(_ views: [View], seed: UInt64) -> Tensor?
}

extension Diffrep {
    /// Default: the same views at every noise level.
    public func sampleViews(count: Int, sigma: Float, using rng: inout RandomGenerator) -> [View] {
        sampleViews(count: count, using: &rng)
    }

    /// Default: no exact parameter-space noise.
    public func parameterNoise(using rng: inout RandomGenerator) -> [[Float]]? { nil }

    /// Default: no prior.
    public func regularizer() -> Tensor? { nil }

    /// Default: no fused squared error (the solves compose it from the render).
    public func squaredError(_ views: [View], targets: Tensor) -> Tensor? { nil }

    /// Default: parameters in image units.
    public var optimizerStepScale: Float { 1 }

    /// Default: one scale for every parameter.
    public var optimizerStepScales: [String: Float] { [:] }

    /// Default: no view-consistent noise.
    public func viewConsistentNoise(_ views: [View], seed: UInt64) -> Tensor? { nil }
}
