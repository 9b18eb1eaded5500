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
    /// Per-parameter multipliers of ``optimizerStepScale`` by name (see ``Diffrep/optimizerStepScales``); empty by default.
    var optimizerStepScales: [String: Float] { get }
    /// Indices of the `points` (`[P, 3]`, in order) that may hold density: ``NeRFRenderer``
    /// evaluates the field only there and treats the rest as empty. nil (the default) evaluates
    /// every point. ``HashGridField`` answers from its ``OccupancyGrid``.
    func occupiedSamples(_ points: Tensor) -> [Int]?
}

extension RadianceField {
    /// Default: parameters in image units, like a voxel grid's.
    public var optimizerStepScale: Float { 1 }
    /// Default: one scale for every parameter.
    public var optimizerStepScales: [String: Float] { [:] }
    /// Default: every point is evaluated.
    public func occupiedSamples(_ points: Tensor) -> [Int]? { nil }
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

    /// `mean(softplus(logDensity − log σ_empty))` of the log-densities `logDensity`, one op
    /// (the inner solves evaluate it at every step): `softplus(z) = max(z, 0) + log(1 + e^−|z|)`
    /// and its derivative `sigmoid(z)` from the same `e^−|z|`, in a loop that vectorises (the
    /// sum, which would not, comes after it).
    public static func penalty(logDensity: Tensor) -> Tensor {
        let shift = Foundation.log(emptyDensity), n = logDensity.count
        var softplus = [Float](repeating: 0, count: n), total = 0.0
        let slope = [Float](unsafeUninitializedCapacity: n) { slope, count in            // sigmoid(z), every entry written
            logDensity.data.withUnsafeBufferPointer { x in softplus.withUnsafeMutableBufferPointer { value in
                for i in 0..<n {
                    let z = x[i] - shift
                    let e = FastMath.exp(-Swift.abs(z))                                        // e^−|z| ∈ (0, 1]
                    value[i] = Swift.max(z, 0) + logOnePlus(e)
                    slope[i] = z >= 0 ? 1 / (1 + e) : e / (1 + e)
                }
                for v in value { total += Double(v) }
            }}
            count = n
        }
        let scale = 1 / Float(Swift.max(n, 1))
        return Tensor.makeResult(
            op: "emptySpacePrior", shape: [], data: [Float(total) * scale], parents: [logDensity],
            backward: { g in
                let c = g[0] * scale
                logDensity.accumulateGrad { dst in for i in 0..<n { dst[i] += c * slope[i] } }
            },
            jvp: {
                guard let t = logDensity.tangent else { return [0] }
                var dot: Float = 0
                for i in 0..<n { dot += slope[i] * t[i] }
                return [dot * scale]
            })
    }

    /// `log(1 + e)` for `e ∈ [0, 1]`: `2·atanh(s)` with `s = e/(2 + e) ≤ 1/3`, by its series to
    /// `s¹³` (relative error below 10⁻⁷).
    @inline(__always)
    static func logOnePlus(_ e: Float) -> Float {
        let s = e / (2 + e), s2 = s * s
        var p: Float = 1.0 / 13
        p = p * s2 + 1.0 / 11
        p = p * s2 + 1.0 / 9
        p = p * s2 + 1.0 / 7
        p = p * s2 + 1.0 / 5
        p = p * s2 + 1.0 / 3
        p = p * s2 + 1
        return 2 * s * p
    }
}
