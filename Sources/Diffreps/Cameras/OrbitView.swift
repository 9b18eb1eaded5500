import Foundation
import TensorCore

/// A pinhole camera on a sphere about the origin, looking at the origin — the one camera
/// convention shared by the toys data set and the NeRF sampler.
///
/// Conventions (all exact, all in radians):
/// - World: right-handed, **y up**; the scene sits near the origin.
/// - Camera position: `radius · (cos(elevation)·sin(azimuth), sin(elevation), cos(elevation)·cos(azimuth))`.
///   Azimuth 0, elevation 0 puts the camera on +z looking toward −z with +x to the right;
///   increasing azimuth moves the camera from +z toward +x (counter-clockwise seen from above);
///   positive elevation looks down on the scene.
/// - Camera frame: `forward = −position/radius`,
///   `right = (cos(azimuth), 0, −sin(azimuth))` (= normalise(forward × y)),
///   `up = right × forward = (−sin(el)·sin(az), cos(el), −sin(el)·cos(az))`.
/// - Image: `width × height` pixels, row 0 at the TOP, column 0 at the LEFT. A point at
///   continuous pixel coordinates `(px, py)` (pixel `(row i, column j)` has its centre at
///   `(px, py) = (j + 0.5, i + 0.5)`) looks along
///   `normalise(forward + u·tan(fovY/2)·(width/height)·right + v·tan(fovY/2)·up)` with
///   `u = 2·px/width − 1`, `v = 1 − 2·py/height`; `fovY` is the full vertical field of view.
/// - Defaults: radius 4, fovY 40° (the toys data set draws azimuth uniformly in `[0, 2π)` and
///   elevation uniformly in `[−10°, 45°]`, ``OrbitView/random(using:elevationRange:)``).
///   Elevation must stay inside `(−90°, 90°)`.
///
/// ```swift
/// let front = OrbitView(azimuth: 0, elevation: 0)      // at (0, 0, 4)
/// let side = OrbitView(azimuth: .pi / 2, elevation: .pi / 6, radius: 4, fovY: 40 * .pi / 180)
/// let dir = side.rayDirection(px: 16, py: 16, width: 32, height: 32)   // == side.forward
/// ```
public struct OrbitView: Sendable, Equatable {
    /// Angle about the world y axis, radians; 0 = camera on +z, π/2 = camera on +x.
    public var azimuth: Float
    /// Angle above the xz plane, radians, in `(−π/2, π/2)`.
    public var elevation: Float
    /// Distance from the origin.
    public var radius: Float
    /// Full vertical field of view, radians.
    public var fovY: Float

    /// The default orbit radius (4).
    public static let defaultRadius: Float = 4
    /// The default vertical field of view (40°).
    public static let defaultFovY: Float = 40 * .pi / 180
    /// The elevation of `diffrep nerf`'s turntables (20°), which the evaluation's real-toy
    /// turntables share.
    public static let turntableElevation: Float = 20 * .pi / 180

    /// `frames` views at azimuths `2πk/frames` and one elevation: a turntable.
    ///
    /// ```swift
    /// let views = OrbitView.turntable(frames: 24)     // 15° apart, 20° up, radius 4, 40° field of view
    /// ```
    public static func turntable(frames: Int, elevation: Float = OrbitView.turntableElevation,
                                 radius: Float = OrbitView.defaultRadius, fovY: Float = OrbitView.defaultFovY) -> [OrbitView] {
        (0..<frames).map { OrbitView(azimuth: 2 * .pi * Float($0) / Float(frames), elevation: elevation, radius: radius, fovY: fovY) }
    }

    /// The data set's elevation range, `[−10°, 45°]` in radians.
    public static let defaultElevationRange: ClosedRange<Float> = (-10 * .pi / 180)...(45 * .pi / 180)

    public init(azimuth: Float = 0, elevation: Float = 0, radius: Float = OrbitView.defaultRadius,
                fovY: Float = OrbitView.defaultFovY) {
        self.azimuth = azimuth
        self.elevation = elevation
        self.radius = radius
        self.fovY = fovY
    }

    /// A random view: azimuth uniform in `[0, 2π)`, elevation uniform in `elevationRange`,
    /// default radius and field of view. Consumes one draw of two uniforms from `rng`.
    public static func random(using rng: inout RandomGenerator,
                              elevationRange: ClosedRange<Float> = OrbitView.defaultElevationRange) -> OrbitView {
        let u = rng.uniformValues(2)
        let el = elevationRange.lowerBound + (elevationRange.upperBound - elevationRange.lowerBound) * u[1]
        return OrbitView(azimuth: 2 * .pi * u[0], elevation: el)
    }

    /// The camera centre in world coordinates.
    public var position: SIMD3<Float> {
        let ce = Foundation.cos(elevation)
        return radius * SIMD3(ce * Foundation.sin(azimuth), Foundation.sin(elevation), ce * Foundation.cos(azimuth))
    }

    /// Unit viewing direction (toward the origin).
    public var forward: SIMD3<Float> { -position / radius }

    /// Unit image-right direction (horizontal).
    public var right: SIMD3<Float> { SIMD3(Foundation.cos(azimuth), 0, -Foundation.sin(azimuth)) }

    /// Unit image-up direction.
    public var up: SIMD3<Float> {
        let se = Foundation.sin(elevation)
        return SIMD3(-se * Foundation.sin(azimuth), Foundation.cos(elevation), -se * Foundation.cos(azimuth))
    }

    /// The unit ray direction through continuous pixel coordinates `(px, py)` (pixel centres
    /// at half-integers, `(0, 0)` the top-left image corner).
    public func rayDirection(px: Float, py: Float, width: Int, height: Int) -> SIMD3<Float> {
        let t = Foundation.tan(fovY / 2)
        let u = (2 * px / Float(width) - 1) * t * Float(width) / Float(height)
        let v = (1 - 2 * py / Float(height)) * t
        let d = forward + u * right + v * up
        return d / (d * d).sum().squareRoot()
    }
}
