import Foundation
import TensorCore

/// A differentiable radiance field: volume density and colour at points in a scene box.
///
/// Conform your own field to render it with ``NeRFRenderer``. Results must stay differentiable
/// (reverse mode for fitting, forward mode for the pullback sampler's Gauss–Newton solves) in
/// the field's ``parameters``; the points are constants.
///
/// Two fields come with the package: ``VoxelGridField`` (dense grid, the default) and
/// ``HashGridField`` (hash grid + small MLP).
///
/// ```swift
/// let field: any RadianceField = VoxelGridField(resolution: 32)
/// let (sigma, rgb) = field(points)     // [P], [P, 3]
/// let mesh = field.extractMesh(threshold: nil, resolution: nil, closeBoundary: true)
/// ```
public protocol RadianceField {
    /// The box the field lives in (the renderer samples rays only inside it).
    var box: SceneBox { get }
    /// Colour channels `C` of ``callAsFunction(_:)``.
    var channels: Int { get }
    /// The trainable tensors.
    var parameters: Parameters { get }
    /// Density `[P]` (≥ 0, per unit length) and colour `[P, C]` (in `[-1, 1]`) at `points` `[P, 3]`.
    func callAsFunction(_ points: Tensor) -> (density: Tensor, color: Tensor)
    /// The field's priors as a scalar on the tape, for the samplers' inner solves:
    /// `smoothness` weighs a squared total variation of the raw density and colour, `sparsity`
    /// the mean density (empty space stays empty). `nil` when both weights are 0.
    func regularizer(smoothness: Float, sparsity: Float) -> Tensor?
    /// The density iso-surface with vertex colours (`threshold` a density; nil for the field's
    /// default; `resolution` the lattice to extract on, nil for the field's default).
    func extractMesh(threshold: Float?, resolution: Int?, closeBoundary: Bool) -> TriangleMesh
    /// Scales optimiser learning rates (see ``Diffrep/optimizerStepScale``); 1 by default.
    var optimizerStepScale: Float { get }
}

extension RadianceField {
    /// Default: parameters in image units, like a voxel grid's.
    public var optimizerStepScale: Float { 1 }
}

/// The prior that keeps empty space empty: the mean of `softplus(log σ − log σ_empty)` over a
/// field's density samples, with `σ_empty` = ``emptyDensity``.
///
/// Its push on `log σ` is the same (≈ 1 per sample) for every density well above `σ_empty` and
/// fades below it. A prior on the density itself (`mean σ`) pushes in proportion to `σ`: hardest
/// on the object, hardly at all on the faint coloured haze that few-view sampling leaves in
/// empty space. (Measured on NeRF samples: less haze at the same colour; see the README.)
///
/// ```swift
/// let prior = EmptySpacePrior.penalty(logDensity: field.density + field.densityBias)   // a scalar
/// ```
public enum EmptySpacePrior {
    /// Densities (per unit length) that count as empty: about 3 % opacity across the default box.
    public static let emptyDensity: Float = 0.01

    /// `mean(softplus(logDensity − log σ_empty))` of the log-densities `logDensity`.
    public static func penalty(logDensity: Tensor) -> Tensor {
        (logDensity - Foundation.log(emptyDensity)).softplus().mean()
    }
}
