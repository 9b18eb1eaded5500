import Foundation
import TensorCore

/// A radiance field as a multi-resolution hash grid followed by a small MLP (instant-ngp's
/// recipe, view-independent colour): `h = MLP(encode(table, p))`, density
/// `σ = exp(min(h₀ + densityBias, 15))`, colour `c = tanh(h₁…h_C)`.
///
/// The same activations as ``VoxelGridField``, so both start nearly transparent and grey and
/// take the same priors. Everything it computes is built from ops with a VJP and a JVP, so it
/// works with every sampler (the pullback's conjugate-gradient solve included).
///
/// ```swift
/// let field = HashGridField(seed: 1)                      // 8 levels (8…64 cells) × 2 features, 32-wide MLP
/// let (sigma, rgb) = field(points)                        // [P], [P, 3]
/// let nerf = NeRFDiffrep(field: field, imageSize: 32)
/// ```
public final class HashGridField: RadianceField {
    public let box: SceneBox
    public let channels: Int
    public let encoding: HashGridEncoding.Configuration
    /// Width of the MLP's two hidden layers.
    public let hiddenWidth: Int
    /// Feature tables `[L, T, F]`.
    public let table: Tensor
    /// MLP weights `[H, L·F]`, `[H, H]`, `[1 + C, H]` and biases (PyTorch's `nn.Linear` layout).
    public let w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor
    /// Added to the MLP's density output before `exp`.
    public var densityBias: Float
    /// Scales the samplers' Adam learning rates (tuned for voxel grids): the MLP's weights move
    /// the render far more per unit than a grid's values (fits use about a fifth of a grid's rate).
    public var optimizerStepScale: Float = 0.1
    /// Multiplies ``optimizerStepScale`` for the feature table (the MLP takes it alone): table
    /// entries are values in the field's units, like a voxel grid's, so they move at the grid's
    /// rate. Adam moves each weight by about its rate whatever the gradient, so the MLP's output
    /// offset over the whole box moves by the rate times the sum of its inputs; with the table
    /// at the MLP's rate the field's structure formed slower than that offset fell, and a field
    /// could empty in the first steps, where the density's gradients (`σ·∂/∂σ`) then vanish.
    public var tableStepScale: Float = 10
    /// Points per axis of the lattice the priors (``regularizer(smoothness:sparsity:)``) look at.
    public var priorResolution = 16
    /// Where renders evaluate the field (``OccupancyGrid``, refreshed from the field's density
    /// as it renders); nil evaluates every sample. Call its ``OccupancyGrid/invalidate()`` after
    /// changing the parameters other than by rendering and optimising.
    public var emptySpace: OccupancyGrid?

    /// The levels `diffrep nerf --field hash` uses: 8 levels from 8 to 64 cells per axis. A finest
    /// level of 128 (instant-ngp's scale) left the 32-px NeRFs speckled — finer than any view's
    /// pixels or samples, so nothing constrains it (measured in docs/DESIGN.md).
    public static let defaultEncoding = HashGridEncoding.Configuration(finestResolution: 64)
    /// The MLP's hidden width by default: 32 made the same NeRFs as 64 at 1.4× the speed.
    public static let defaultHiddenWidth = 32

    /// A freshly initialised field: tables uniform in ±10⁻⁴ (instant-ngp), the MLP with
    /// PyTorch's default uniform initialisation, all drawn from `seed`.
    public init(encoding: HashGridEncoding.Configuration = HashGridField.defaultEncoding,
                hiddenWidth: Int = HashGridField.defaultHiddenWidth, box: SceneBox = SceneBox(),
                channels: Int = 3, densityBias: Float = VoxelGridField.defaultDensityBias, seed: UInt64 = 0) {
        precondition((try? encoding.validate()) != nil, "HashGridField: invalid encoding \(encoding)")
        precondition(hiddenWidth >= 1 && channels >= 1, "HashGridField: hidden width and channels must be ≥ 1")
        self.encoding = encoding
        self.hiddenWidth = hiddenWidth
        self.box = box
        self.channels = channels
        self.densityBias = densityBias
        var rng = RandomGenerator(seed: seed)
        func layer(_ out: Int, _ inputs: Int, _ name: String) -> (Tensor, Tensor) {
            let bound = 1 / Float(inputs).squareRoot()
            let w = rng.uniform([out, inputs], in: -bound...bound), b = rng.uniform([out], in: -bound...bound)
            return (Self.parameter(w, "\(name).weight"), Self.parameter(b, "\(name).bias"))
        }
        table = Self.parameter(rng.uniform(encoding.tableShape, in: -1e-4...1e-4), "table")
        (w1, b1) = layer(hiddenWidth, encoding.outputFeatures, "mlp.0")
        (w2, b2) = layer(hiddenWidth, hiddenWidth, "mlp.1")
        (w3, b3) = layer(1 + channels, hiddenWidth, "mlp.2")
        emptySpace = OccupancyGrid(box: box)
    }

    static func parameter(_ t: Tensor, _ name: String) -> Tensor {
        t.requiresGrad = true
        t.name = name
        return t
    }

    public var optimizerStepScales: [String: Float] { ["table": tableStepScale] }

    public var parameters: Parameters {
        Parameters([("table", table), ("mlp.0.weight", w1), ("mlp.0.bias", b1), ("mlp.1.weight", w2),
                    ("mlp.1.bias", b2), ("mlp.2.weight", w3), ("mlp.2.bias", b3)])
    }

    /// The MLP's raw outputs `[P, 1 + C]` (density before the bias and `exp`, colour before `tanh`),
    /// computed by one op (``HashGridNetwork``).
    public func raw(_ points: Tensor) -> Tensor {
        HashGridNetwork(encoding: HashGridEncoding(points: points, box: box, configuration: encoding))(
            table: table, layers: [(w1, b1), (w2, b2), (w3, b3)])                                           // [P, 1 + C]
    }

    /// ``raw(_:)`` op by op (encoding, linear, relu, …): the reference the fused op is tested against.
    func rawOpByOp(_ points: Tensor) -> Tensor {
        let features = HashGridEncoding(points: points, box: box, configuration: encoding).encode(table)   // [P, L·F]
        return features.linear(w1, bias: b1).relu().linear(w2, bias: b2).relu().linear(w3, bias: b3)      // [P, 1 + C]
    }

    /// The samples in occupied cells of ``emptySpace`` (refreshed first when due), or nil.
    public func occupiedSamples(_ points: Tensor) -> [Int]? {
        guard let grid = emptySpace else { return nil }
        grid.refreshIfDue(taped: GradMode.isEnabled) { corners in
            GradMode.withoutGrad { self(corners).density.data }
        }
        return grid.occupiedIndices(points.data)
    }

    public func callAsFunction(_ points: Tensor) -> (density: Tensor, color: Tensor) {
        let h = raw(points)                                                                    // [P, 1 + C]
        let P = points.shape[0]
        let sigma = (h.slice(axis: 1, 0..<1).reshaped([P]) + densityBias).clamped(-30, TrilinearInterpolation.Activation.expClamp).exp()
        return (sigma, h.slice(axis: 1, 1..<(1 + channels)).tanh())
    }

    /// `smoothness·TV²(raw outputs on the prior lattice) + sparsity·``EmptySpacePrior`` on the
    /// lattice`: the voxel grid's priors, read on a ``priorResolution``³ lattice of the field.
    public func regularizer(smoothness: Float, sparsity: Float) -> Tensor? {
        guard smoothness > 0 || sparsity > 0 else { return nil }
        let n = priorResolution
        let h = raw(box.lattice(n))                                                                // [n³, 1 + C]
        var r = h.transposed().reshaped([1 + channels, n, n, n]).squaredTotalVariation3D().scaled(by: smoothness)
        if sparsity > 0 { r = r + EmptySpacePrior.penalty(logDensity: h.slice(axis: 1, 0..<1) + densityBias).scaled(by: sparsity) }
        return r
    }

    /// The surface where the density equals `threshold` (nil: `ln 2 / δ` with `δ` the lattice
    /// spacing, as ``VoxelGridField/defaultMeshThreshold``), found by ``MarchingCubes`` on the
    /// field sampled at `resolution`³ points (nil: 64), with vertex colours from the field.
    public func extractMesh(threshold: Float? = nil, resolution: Int? = nil, closeBoundary: Bool = true) -> TriangleMesh {
        let m = resolution ?? 64
        precondition(m >= 2, "extractMesh: resolution must be ≥ 2, got \(m)")
        return isoSurface(threshold: threshold ?? halfOpaqueDensity(step: 2 * box.halfExtent / Float(m - 1)),
                          resolution: m, closeBoundary: closeBoundary,
                          rawLevel: { expRawLevel(density: $0, bias: densityBias) },
                          rawDensity: { m in GradMode.withoutGrad { raw(box.lattice(m)).slice(axis: 1, 0..<1) }.data })
    }
}
