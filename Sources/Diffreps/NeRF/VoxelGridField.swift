import Foundation
import TensorCore

/// A radiance field stored on a dense `N³` voxel grid over the scene box, read by trilinear
/// interpolation of raw values followed by the activations (post-activation, as in DVGO:
/// sharp surfaces can fall inside a voxel).
///
/// - density `σ = exp(raw + densityBias)` per unit length (instant-ngp's choice; the argument
///   is clamped at 15). With Adam every step changes raw by at most about the learning rate,
///   so density changes by a bounded *factor* per step: it reaches opaque surfaces (σ ~ 10–100)
///   in tens of steps and empties space as fast, where `.softplus` grows linearly (the
///   analytic-sphere fit in NeRFFitTests holds `.exp` above 28 dB on held-out views).
///   The default bias −4 makes a grid of zeros start nearly transparent
///   (`σ ≈ 0.018`: about 5 % opacity across the whole box).
/// - colour `c = tanh(raw)`, so colours live in `[-1, 1]` like images (DESIGN §1).
///
/// Few views constrain a dense grid poorly: add
/// ``TensorCore/Tensor/squaredTotalVariation3D()`` of both grids to the loss (the fit test uses
/// 3e-3 on density, 1e-2 on colour).
///
/// ```swift
/// let field = VoxelGridField(resolution: 32)
/// var opt = Adam(parameters: field.parameters, learningRate: 0.1)
/// let image = NeRFRenderer().render(field, view: OrbitView(), width: 32, height: 32).image
/// ```
public final class VoxelGridField: RadianceField {
    /// Grid vertices per axis `N`.
    public let resolution: Int
    public let box: SceneBox
    public let channels: Int
    /// Raw density `[1, 1, N, N, N]` (axes D = z, H = y, W = x).
    public let density: Tensor
    /// Raw colour `[1, C, N, N, N]`.
    public let color: Tensor
    /// Added to the interpolated raw density before the activation.
    public var densityBias: Float
    /// How raw density becomes density.
    public var densityActivation: DensityActivation

    /// The map from interpolated raw density `x` to density `σ ≥ 0`.
    public enum DensityActivation: Sendable {
        /// `σ = exp(min(x + bias, 15))` (the default).
        case exp
        /// `σ = softplus(x + bias) = log(1 + exp(x + bias))` (mip-NeRF, DVGO).
        case softplus
    }

    /// The default density bias (−4).
    public static let defaultDensityBias: Float = -4

    /// A grid of zeros (transparent, colour 0 = mid grey).
    public convenience init(resolution: Int = 32, box: SceneBox = SceneBox(), channels: Int = 3,
                densityBias: Float = VoxelGridField.defaultDensityBias, densityActivation: DensityActivation = .exp) {
        precondition(resolution >= 2, "VoxelGridField: resolution must be ≥ 2, got \(resolution)")
        let n = resolution
        self.init(density: Tensor.zeros([1, 1, n, n, n]), color: Tensor.zeros([1, channels, n, n, n]),
                  box: box, densityBias: densityBias, densityActivation: densityActivation)
    }

    /// A field from given raw grids `[1, 1, N, N, N]` and `[1, C, N, N, N]` (made parameters).
    public init(density: Tensor, color: Tensor, box: SceneBox = SceneBox(),
                densityBias: Float = VoxelGridField.defaultDensityBias, densityActivation: DensityActivation = .exp) {
        precondition(density.rank == 5 && density.shape[0] == 1 && density.shape[1] == 1,
                     "VoxelGridField: density must be [1, 1, N, N, N], got \(density.shape)")
        let n = density.shape[2]
        precondition(density.shape[3] == n && density.shape[4] == n && n >= 2,
                     "VoxelGridField: density must be a cube with N ≥ 2, got \(density.shape)")
        precondition(color.rank == 5 && color.shape[0] == 1 && Array(color.shape[2...]) == [n, n, n],
                     "VoxelGridField: color must be [1, C, \(n), \(n), \(n)], got \(color.shape)")
        resolution = n
        channels = color.shape[1]
        self.box = box
        self.densityBias = densityBias
        self.densityActivation = densityActivation
        self.density = density
        self.color = color
        density.requiresGrad = true
        color.requiresGrad = true
        density.name = "density"
        color.name = "color"
    }

    public var parameters: Parameters { Parameters([("density", density), ("color", color)]) }

    public func callAsFunction(_ points: Tensor) -> (density: Tensor, color: Tensor) {
        let n = resolution
        let interp = TrilinearInterpolation(points: points, box: box, depth: n, height: n, width: n)
        let sigma = interp.sample(density, activation: densityActivation == .softplus ? .softplus(bias: densityBias) : .exp(bias: densityBias)).reshaped([points.shape[0]])  // [P]
        let rgb = interp.sample(color, activation: .tanh)                                                           // [P, C]
        return (sigma, rgb)
    }

    /// `smoothness·(TV²(raw density) + TV²(raw colour)) + sparsity·``EmptySpacePrior``
    /// over the vertices.
    public func regularizer(smoothness: Float, sparsity: Float) -> Tensor? {
        guard smoothness > 0 || sparsity > 0 else { return nil }
        var r = (density.squaredTotalVariation3D() + color.squaredTotalVariation3D()).scaled(by: smoothness)
        if sparsity > 0 { r = r + EmptySpacePrior.penalty(logDensity: density + densityBias).scaled(by: sparsity) }
        return r
    }
}
