import TensorCore

/// A differentiable radiance field: volume density and colour at points in a scene box.
///
/// Conform your own field to render it with ``NeRFRenderer``. Results must stay differentiable
/// (reverse mode for fitting, forward mode for the pullback sampler's Gauss–Newton solves) in
/// the field's ``parameters``; the points are constants.
///
/// ```swift
/// let field = VoxelGridField(resolution: 32)
/// let (sigma, rgb) = field(points)     // [P], [P, 3]
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
}
