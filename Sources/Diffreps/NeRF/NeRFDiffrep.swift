import Foundation
import TensorCore

/// A NeRF as a diffrep: a radiance field (``VoxelGridField``, ``HashGridField`` or your own)
/// seen from random orbit views (the toys' camera conventions, ``OrbitView``), rendered by the
/// ``NeRFRenderer`` at the denoiser's image size.
///
/// A NeRF cannot show independent white noise in every view, so it has no exact
/// parameter-space noise: the pullback sampler's defaults for it (Sampling's `PullbackDefaults`,
/// which a configuration that leaves them `nil` gets) are the denoised state with carried noise,
/// the Adam solve that adds ``regularizer()``, and resampling 2 — `diffrep nerf`'s settings,
/// chosen by measurement (README, "NeRFs and the implicit constraint"); the `.noisy` state
/// leaves the projected noise in the field.
///
/// ```swift
/// let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 32), imageSize: 32)
/// var rng = RandomGenerator(seed: 0)
/// let views = nerf.sampleViews(count: 4, using: &rng)
/// nerf.render(views).shape          // [4, 3, 32, 32]
/// ```
public final class NeRFDiffrep: Diffrep {
    public typealias View = OrbitView
    public let field: any RadianceField
    public let renderer: NeRFRenderer
    public let renderShape: [Int]
    /// Elevations views are drawn from (radians; default the toys' −10°…45°).
    public var elevationRange: ClosedRange<Float>
    /// Orbit radius and vertical field of view of every view (the toys' 4 and 40°).
    public var radius: Float, fovY: Float
    /// Weight of the squared total variation of the raw density and colour (removes floaters
    /// and holes the few views per step do not constrain); see ``RadianceField/regularizer(smoothness:sparsity:)``.
    public var smoothness: Float = 0.005
    /// Weight of the ``EmptySpacePrior`` (keeps empty space empty).
    public var sparsity: Float = 0.01
    /// Renders are the renderer's colours (in `[-1, 1]`) times this: 1 (the default) for images;
    /// larger for a field of latents, whose values go beyond ±1 (a Stable Diffusion latent NeRF,
    /// ``latent(channels:imageSize:resolution:background:)``). Applies to ``display(_:size:)`` too.
    public var colorScale: Float = 1

    public init(field: any RadianceField, imageSize: Int, renderer: NeRFRenderer = NeRFRenderer(),
                elevationRange: ClosedRange<Float> = OrbitView.defaultElevationRange,
                radius: Float = OrbitView.defaultRadius, fovY: Float = OrbitView.defaultFovY) {
        self.field = field
        self.renderer = renderer
        renderShape = [field.channels, imageSize, imageSize]
        self.elevationRange = elevationRange
        self.radius = radius
        self.fovY = fovY
    }

    /// The field's parameters, then a learned background's `[C]` tensor (named `background`),
    /// so the samplers move it with the field.
    public var parameters: Parameters {
        var parameters = field.parameters
        if case .learned(let background) = renderer.background { parameters["background"] = background }
        return parameters
    }

    /// Whether views come in groups of four a quarter turn apart (`a, a + 90°, a + 180°,
    /// a + 270°` at one elevation), the input a multi-view model denoises together (Diffusion's
    /// `QuarterTurnTiles`); `false` (the default) draws every view independently.
    ///
    /// Turning it on also sets ``azimuthSteps`` to ``quarterTurnAzimuthSteps`` (8) and
    /// ``singleGroupAboveSigma`` to ``quarterTurnSingleGroupSigma`` where they are `nil`: a
    /// multi-view model samples best with its views at eight azimuths 45° apart, each with its own
    /// noise image (docs/DESIGN.md, "Azimuth noise for multi-view models"), the second group of four
    /// joining only at low noise ("One quarter-turn group at high noise").
    ///
    /// ```swift
    /// nerf.viewsInQuarterTurns = true      // nerf.azimuthSteps == 8 now
    /// ```
    public var viewsInQuarterTurns = false {
        didSet {
            guard viewsInQuarterTurns else { return }
            if azimuthSteps == nil { azimuthSteps = Self.quarterTurnAzimuthSteps }
            if singleGroupAboveSigma == nil { singleGroupAboveSigma = Self.quarterTurnSingleGroupSigma }
        }
    }
    /// The azimuths a multi-view NeRF's views are drawn at by default: two quarter-turn groups
    /// (0°, 90°, 180°, 270° and 45°, 135°, …). Measured against 4 (lumpy between the four
    /// azimuths) and 16 (each group's noise picks its own colour and shape, averaged away).
    public static let quarterTurnAzimuthSteps = 8
    /// The level at and below which a multi-view NeRF's in-between azimuths join by default (σ = 2:
    /// the last 20 of 50 DDIM levels of the toys models' schedule; measured against 0.5 and against
    /// every azimuth at every level in docs/DESIGN.md, "One quarter-turn group at high noise").
    public static let quarterTurnSingleGroupSigma: Float = 2
    /// `n`: views are drawn at the `n` azimuths `2πj/n` only (elevations stay continuous), and
    /// ``viewConsistentNoise(_:seed:)`` gives each azimuth its own white-noise image, fixed for
    /// the run — noise attached to the direction a view looks from rather than to the surface.
    /// `nil` (the default for single views): any azimuth, surface noise.
    public var azimuthSteps: Int? = nil

    /// With ``viewsInQuarterTurns`` and ``azimuthSteps``: at noise levels `σ >` this value the
    /// views come from one quarter-turn group only (0°, 90°, 180°, 270°); the other azimuths join
    /// below it. The high-noise steps, where a sample's colour and layout are chosen, then see
    /// only views the multi-view model denoises together, so no second group makes its own
    /// choices for the pull-back to average to grey; the in-between azimuths join once the
    /// render decides what they see. `nil`: every azimuth at every level (docs/DESIGN.md,
    /// "One quarter-turn group at high noise").
    ///
    /// ```swift
    /// nerf.viewsInQuarterTurns = true
    /// nerf.singleGroupAboveSigma = 2                                   // the default with quarter turns
    /// let early = nerf.sampleViews(count: 8, sigma: 10, using: &rng)   // azimuths k·90° only
    /// ```
    public var singleGroupAboveSigma: Float? = nil

    /// ``sampleViews(count:using:)`` at noise level `sigma`: restricted to the quarter-turn group
    /// at 0° above ``singleGroupAboveSigma``.
    public func sampleViews(count: Int, sigma: Float, using rng: inout RandomGenerator) -> [OrbitView] {
        guard viewsInQuarterTurns, let n = azimuthSteps, n % 4 == 0, let above = singleGroupAboveSigma, sigma > above else {
            return sampleViews(count: count, using: &rng)
        }
        return sampleViews(count: count, azimuthSteps: 4, using: &rng)
    }

    /// The index `j` of the azimuth step `2πj/steps` nearest to `azimuth`.
    public static func azimuthIndex(_ azimuth: Float, steps: Int) -> Int {
        let j = Int((azimuth / (2 * .pi) * Float(steps)).rounded()) % steps
        return j < 0 ? j + steps : j
    }

    /// Azimuth uniform on the circle, elevation uniform in ``elevationRange``; with
    /// ``viewsInQuarterTurns``, `count` rounded up to a multiple of 4, one random view per group
    /// and its three quarter turns.
    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [OrbitView] {
        sampleViews(count: count, azimuthSteps: azimuthSteps, using: &rng)
    }

    /// The view distribution with azimuths on `azimuthSteps` steps (`nil`: continuous).
    private func sampleViews(count: Int, azimuthSteps: Int?, using rng: inout RandomGenerator) -> [OrbitView] {
        let group = viewsInQuarterTurns ? 4 : 1
        let groups = (count + group - 1) / group
        let u = rng.uniformValues(2 * groups)
        return (0..<groups * group).map { k in
            let g = k / group
            let a = azimuthSteps.map { n in 2 * .pi * (Float(n) * u[2 * g]).rounded(.down) / Float(n) } ?? 2 * .pi * u[2 * g]
            return OrbitView(azimuth: a + Float(k % group) * .pi / 2,
                             elevation: elevationRange.lowerBound + (elevationRange.upperBound - elevationRange.lowerBound) * u[2 * g + 1],
                             radius: radius, fovY: fovY)
        }
    }

    /// `[K, C, H, W]`, bin-midpoint samples (deterministic, so J·v and Jᵀ·u see one function).
    public func render(_ views: [OrbitView]) -> Tensor {
        let size = renderShape[1]
        let images = views.map { renderer.render(field, view: $0, width: size, height: size).image.reshaped([1] + renderShape) }
        let batch = images.count == 1 ? images[0] : Tensor.concat(images, axis: 0)
        return colorScale == 1 ? batch : batch.scaled(by: colorScale)
    }

    /// The rays of the views ``squaredError(_:targets:)`` last rendered and where their samples
    /// fall in the grid (an inner solve renders the same views at every step).
    private var lastRays: (views: [OrbitView], rays: Rays, geometry: VoxelGridRayMarcher.Geometry)?

    /// A voxel grid's squared error through its fused path (render, residual and gradient in
    /// one march per ray: ``VoxelGridField/marchedSquaredError(rays:samplesPerRay:background:transmittanceThreshold:targets:pixelsPerImage:)``)
    /// when the renderer takes that path and no parameter carries a tangent; otherwise `nil`.
    public func squaredError(_ views: [OrbitView], targets: Tensor) -> Tensor? {
        guard case .fused(let threshold) = renderer.voxelGridPath, let grid = field as? VoxelGridField, grid.channels == 3, colorScale == 1,
              parameters.tensors.allSatisfy({ $0.tangent == nil }) else { return nil }
        precondition(targets.shape == [views.count] + renderShape,
                     "squaredError: targets \(targets.shape) do not match \(views.count) renders of \(renderShape)")
        let size = renderShape[1]
        let S = renderer.samplesPerRay
        if lastRays.map({ $0.views != views || !$0.geometry.fits(samplesPerRay: S, grid: grid) }) ?? true {
            let rays = Rays(views: views, width: size, height: size)
            lastRays = (views, rays, grid.rayGeometry(rays: rays, samplesPerRay: S))
        }
        let (_, rays, geometry) = lastRays!
        return grid.marchedSquaredError(rays: rays, samplesPerRay: S,
                                        background: renderer.background.tensor(channels: 3), transmittanceThreshold: threshold,
                                        targets: targets.data, pixelsPerImage: size * size, geometry: geometry)
    }

    /// The field's learning-rate scale (1 for voxel grids, 0.1 for hash grids).
    public var optimizerStepScale: Float { field.optimizerStepScale }
    public var optimizerStepScales: [String: Float] { field.optimizerStepScales }

    /// The field's priors (``smoothness``, ``sparsity``), added to every inner-Adam solve.
    public func regularizer() -> Tensor? {
        field.regularizer(smoothness: smoothness, sparsity: sparsity)
    }

    /// Renders one view at any size (display: turntables, depth and opacity maps).
    public func display(_ view: OrbitView, size: Int) -> NeRFImage {
        GradMode.withoutGrad {
            var r = renderer.render(field, view: view, width: size, height: size)
            if colorScale != 1 { r.image = r.image.scaled(by: colorScale) }
            return r
        }
    }

    /// `frames` views evenly around the circle at one elevation (a turntable).
    public func turntable(frames: Int, elevation: Float = OrbitView.turntableElevation) -> [OrbitView] {
        OrbitView.turntable(frames: frames, elevation: elevation, radius: radius, fovY: fovY)
    }
}
