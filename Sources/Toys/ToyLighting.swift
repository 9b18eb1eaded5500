import Foundation

/// A directional light: `direction` points from the scene TOWARD the light (world frame).
///
/// ```swift
/// let sun = ToyLight(direction: SIMD3(0, 1, 0), intensity: 0.8)   // straight overhead
/// ```
public struct ToyLight: Sendable, Equatable {
    /// Unit vector toward the light (normalised on init).
    public var direction: SIMD3<Float>
    /// Scale of the Lambertian term `intensity · max(0, n·direction)`.
    public var intensity: Float

    public init(direction: SIMD3<Float>, intensity: Float) {
        let n = (direction * direction).sum().squareRoot()
        self.direction = direction / n
        self.intensity = intensity
    }
}

/// Lambertian lighting fixed in the world (so every view of a scene is consistent with one
/// radiance field): `colour = albedo · min(1, ambient + Σ intensity·max(0, n·l))`.
///
/// The default is a key light from the upper right front (`(0.55, 0.8, 0.35)`, 0.7), a soft
/// fill from the opposite low side (`(-0.6, 0.25, -0.55)`, 0.3) and ambient 0.3: top faces
/// are bright, faces toward the key mid-bright, faces away darker, so shapes read clearly.
///
/// ```swift
/// let flat = ToyLighting(ambient: 1, lights: [])          // unshaded albedo
/// let scene = ToyScene(primitives: [ball], lighting: flat)
/// ```
public struct ToyLighting: Sendable, Equatable {
    /// Light reaching every surface point regardless of its normal.
    public var ambient: Float
    /// The directional lights.
    public var lights: [ToyLight]

    public init(ambient: Float, lights: [ToyLight]) {
        self.ambient = ambient
        self.lights = lights
    }

    /// Key + fill + ambient, as described above.
    public static let standard = ToyLighting(ambient: 0.3, lights: [
        ToyLight(direction: SIMD3(0.55, 0.8, 0.35), intensity: 0.7),
        ToyLight(direction: SIMD3(-0.6, 0.25, -0.55), intensity: 0.3),
    ])
}
