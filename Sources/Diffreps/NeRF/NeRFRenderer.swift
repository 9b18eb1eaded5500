import TensorCore

/// What a renderer returns for a batch of rays.
///
/// ```swift
/// let out = NeRFRenderer().render(field, rays: rays)
/// let loss = (out.color - target).square().mean()      // target [R, C]
/// ```
public struct RayRender {
    /// Composited colour `[R, C]`.
    public var color: Tensor
    /// Accumulated opacity `1 − T` `[R]`.
    public var opacity: Tensor
    /// Expected distance `Σ wᵢ tᵢ` `[R]` (0 where nothing was hit; divide by opacity for the hit distance).
    public var depth: Tensor
}

/// What a renderer returns for one view.
///
/// ```swift
/// let out = NeRFRenderer().render(field, view: OrbitView(), width: 32, height: 32)
/// out.image.shape      // [3, 32, 32]
/// out.depth.shape      // [32, 32]
/// ```
public struct NeRFImage {
    /// The image `[C, H, W]` in `[-1, 1]` (with a background in that range).
    public var image: Tensor
    /// Opacity map `[H, W]` in `[0, 1]`.
    public var opacity: Tensor
    /// Expected-distance map `[H, W]` (see ``RayRender/depth``).
    public var depth: Tensor
}

/// Volume rendering of a ``RadianceField``: stratified samples inside the field's box, the
/// field at the samples, and the fused compositor (``TensorCore/Tensor/composite(densities:colors:deltas:distances:background:)``)
/// over a background. Differentiable in reverse and forward mode in the field's parameters
/// (and a learned background).
///
/// A ``VoxelGridField`` with three colour channels renders through one fused op per output
/// instead (``VoxelGridPath``, the default): the same samples, interpolation and compositing,
/// each ray stopped once its transmittance is negligible.
///
/// ```swift
/// let renderer = NeRFRenderer(samplesPerRay: 64, background: .white)
/// let view = OrbitView(azimuth: 0.5, elevation: 0.3)
/// let out = renderer.render(field, view: view, width: 32, height: 32)   // midpoint samples
/// out.image.shape                                                        // [3, 32, 32]
/// var rng = RandomGenerator(seed: 1)
/// let jittered = renderer.render(field, view: view, width: 32, height: 32, using: &rng)
/// var reference = renderer
/// reference.voxelGridPath = .tape                                        // the op-by-op path
/// ```
public struct NeRFRenderer: Sendable {
    /// Samples per ray.
    public var samplesPerRay: Int
    /// What rays that pass through show.
    public var background: NeRFBackground
    /// How voxel grids are rendered (fields of other kinds always take the tape path).
    public var voxelGridPath: VoxelGridPath

    /// How a ``NeRFRenderer`` renders a ``VoxelGridField``.
    ///
    /// ```swift
    /// var renderer = NeRFRenderer()
    /// renderer.voxelGridPath = .fused(transmittanceThreshold: 0)     // never stop a ray early
    /// ```
    public enum VoxelGridPath: Sendable, Equatable {
        /// One op per output that marches each ray through the grid (``VoxelGridField``'s
        /// fused path), stopping a ray after the sample that leaves its transmittance below
        /// the threshold (the rest goes to the background; 0 never stops). Three colour
        /// channels; other grids take the tape path.
        case fused(transmittanceThreshold: Float)
        /// ``StratifiedSampler``, ``TrilinearInterpolation`` and the compositor as separate ops
        /// on the tape: the reference the fused path is tested against.
        case tape

        /// The default: fused, rays stopped below transmittance 10⁻⁴.
        public static let `default` = VoxelGridPath.fused(transmittanceThreshold: 1e-4)
    }

    public init(samplesPerRay: Int = 64, background: NeRFBackground = .white, voxelGridPath: VoxelGridPath = .default) {
        self.samplesPerRay = samplesPerRay
        self.background = background
        self.voxelGridPath = voxelGridPath
    }

    /// Renders a view with bin-midpoint samples (deterministic).
    public func render(_ field: some RadianceField, view: OrbitView, width: Int, height: Int) -> NeRFImage {
        image(render(field, rays: Rays(view: view, width: width, height: height)), width: width, height: height)
    }

    /// Renders a view with stratified jittered samples drawn from `rng`.
    public func render(_ field: some RadianceField, view: OrbitView, width: Int, height: Int,
                       using rng: inout RandomGenerator) -> NeRFImage {
        image(render(field, rays: Rays(view: view, width: width, height: height), using: &rng), width: width, height: height)
    }

    /// Renders a batch of rays with bin-midpoint samples.
    public func render(_ field: some RadianceField, rays: Rays) -> RayRender {
        render(field, rays: rays, offsets: nil)
    }

    /// Renders a batch of rays with jittered samples drawn from `rng` (`R·S` uniforms).
    public func render(_ field: some RadianceField, rays: Rays, using rng: inout RandomGenerator) -> RayRender {
        render(field, rays: rays, offsets: rng.uniformValues(rays.count * samplesPerRay))
    }

    /// Renders rays whose sample `r·S + i` sits at `offsets[r·S + i]` in its bin (nil: midpoints),
    /// through the voxel grid's fused path where ``voxelGridPath`` asks for it.
    func render(_ field: some RadianceField, rays: Rays, offsets: [Float]?) -> RayRender {
        if case .fused(let threshold) = voxelGridPath, let grid = field as? VoxelGridField, grid.channels == 3 {
            return grid.marchedRender(rays: rays, samplesPerRay: samplesPerRay, offsets: offsets,
                                      background: background.tensor(channels: 3), transmittanceThreshold: threshold)
        }
        return render(field, samples: sampler(field).samples(along: rays, offsets: offsets))
    }

    /// Renders given samples (from any sampler).
    public func render(_ field: some RadianceField, samples: RaySamples) -> RayRender {
        let R = samples.rayCount, S = samples.samplesPerRay, C = field.channels
        let (sigma, rgb) = evaluate(field, at: samples.points)                                  // [R·S], [R·S, C]
        let out = Tensor.composite(densities: sigma.reshaped([R, S]), colors: rgb.reshaped([R, S, C]),
                                   deltas: samples.deltas, distances: samples.ts,
                                   background: background.tensor(channels: C))
        return RayRender(color: out.color, opacity: out.opacity, depth: out.depth)
    }

    /// The field at `points` (`[P, 3]`), or only at its ``RadianceField/occupiedSamples(_:)``
    /// with density and colour 0 at the others (which then absorb nothing).
    func evaluate(_ field: some RadianceField, at points: Tensor) -> (density: Tensor, color: Tensor) {
        let P = points.shape[0]
        guard let active = field.occupiedSamples(points), active.count < P else { return field(points) }
        guard !active.isEmpty else { return (Tensor.zeros([P]), Tensor.zeros([P, field.channels])) }
        let (sigma, rgb) = field(points.gather(indices: active, axis: 0))                      // [A], [A, C]
        return (Tensor.scatterAdd(sigma, indices: active, axis: 0, size: P),
                Tensor.scatterAdd(rgb, indices: active, axis: 0, size: P))
    }

    /// The stratified sampler this renderer uses in `field`'s box.
    public func sampler(_ field: some RadianceField) -> StratifiedSampler {
        StratifiedSampler(samplesPerRay: samplesPerRay, box: field.box)
    }

    /// Rearranges a row-major batch of `height·width` rays into maps.
    func image(_ r: RayRender, width: Int, height: Int) -> NeRFImage {
        let C = r.color.shape[1]
        return NeRFImage(image: r.color.transposed().reshaped([C, height, width]),
                         opacity: r.opacity.reshaped([height, width]), depth: r.depth.reshaped([height, width]))
    }
}
