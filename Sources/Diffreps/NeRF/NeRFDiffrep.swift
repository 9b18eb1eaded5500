import Foundation
import TensorCore

/// A NeRF as a diffrep: a ``VoxelGridField`` seen from random orbit views (the toys' camera
/// conventions, ``OrbitView``), rendered by the ``NeRFRenderer`` at the denoiser's image size.
///
/// A NeRF cannot show independent white noise in every view, so it has no exact
/// parameter-space noise: use the pullback sampler's `.denoised` state (its default for NeRFs
/// in the CLI), or the least-squares noise projection.
///
/// ```swift
/// let nerf = NeRFDiffrep(field: VoxelGridField(resolution: 32), imageSize: 32)
/// var rng = RandomGenerator(seed: 0)
/// let views = nerf.sampleViews(count: 4, using: &rng)
/// nerf.render(views).shape          // [4, 3, 32, 32]
/// ```
public final class NeRFDiffrep: Diffrep {
    public typealias View = OrbitView
    public let field: VoxelGridField
    public let renderer: NeRFRenderer
    public let renderShape: [Int]
    /// Elevations views are drawn from (radians; default the toys' −10°…45°).
    public var elevationRange: ClosedRange<Float>
    /// Orbit radius and vertical field of view of every view (the toys' 4 and 40°).
    public var radius: Float, fovY: Float
    /// Weight of the squared total variation of the raw density and colour grids (removes
    /// floaters and holes the few views per step do not constrain).
    public var smoothness: Float = 0.005
    /// Weight of the mean density (keeps empty space empty).
    public var sparsity: Float = 0.01

    public init(field: VoxelGridField, imageSize: Int, renderer: NeRFRenderer = NeRFRenderer(),
                elevationRange: ClosedRange<Float> = OrbitView.defaultElevationRange,
                radius: Float = OrbitView.defaultRadius, fovY: Float = OrbitView.defaultFovY) {
        self.field = field
        self.renderer = renderer
        renderShape = [field.channels, imageSize, imageSize]
        self.elevationRange = elevationRange
        self.radius = radius
        self.fovY = fovY
    }

    public var parameters: Parameters { field.parameters }

    /// Azimuth uniform on the circle, elevation uniform in ``elevationRange``.
    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [OrbitView] {
        let u = rng.uniformValues(2 * count)
        return (0..<count).map { k in
            OrbitView(azimuth: 2 * .pi * u[2 * k],
                      elevation: elevationRange.lowerBound + (elevationRange.upperBound - elevationRange.lowerBound) * u[2 * k + 1],
                      radius: radius, fovY: fovY)
        }
    }

    /// `[K, C, H, W]`, bin-midpoint samples (deterministic, so J·v and Jᵀ·u see one function).
    public func render(_ views: [OrbitView]) -> Tensor {
        let size = renderShape[1]
        let images = views.map { renderer.render(field, view: $0, width: size, height: size).image.reshaped([1] + renderShape) }
        return images.count == 1 ? images[0] : Tensor.concat(images, axis: 0)
    }

    /// `smoothness·TV²(grids) + sparsity·mean(σ)`, added to every inner-Adam solve.
    public func regularizer() -> Tensor? {
        guard smoothness > 0 || sparsity > 0 else { return nil }
        var r = (field.density.squaredTotalVariation3D() + field.color.squaredTotalVariation3D()).scaled(by: smoothness)
        if sparsity > 0 {
            r = r + (field.density + field.densityBias).clamped(-30, 15).exp().mean().scaled(by: sparsity)
        }
        return r
    }

    /// Renders one view at any size (display: turntables, depth and opacity maps).
    public func display(_ view: OrbitView, size: Int) -> NeRFImage {
        GradMode.withoutGrad { renderer.render(field, view: view, width: size, height: size) }
    }

    /// `frames` views evenly around the circle at one elevation (a turntable).
    public func turntable(frames: Int, elevation: Float = 20 * .pi / 180) -> [OrbitView] {
        (0..<frames).map { OrbitView(azimuth: 2 * .pi * Float($0) / Float(frames), elevation: elevation, radius: radius, fovY: fovY) }
    }
}
