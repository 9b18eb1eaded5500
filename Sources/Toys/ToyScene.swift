import Foundation
import Diffreps
import TensorCore

/// A toy scene: one to three coloured primitives near the origin, lit by world-fixed
/// Lambertian ``ToyLighting``, on a white background.
///
/// Every point of a scene made by ``random(using:)`` lies within ``fitRadius`` (1.25) of the
/// origin, so with the default ``OrbitView`` (radius 4, fovY 40°: the view cone's half-angle
/// 20° exceeds asin(1.25/4) ≈ 18.2°) the whole scene is in view and the image border is
/// pure background.
///
/// ```swift
/// var rng = RandomGenerator(seed: 7)
/// let scene = ToyScene.random(using: &rng)
/// let image = scene.render(view: OrbitView(azimuth: 1, elevation: 0.3), size: 64)  // [3, 64, 64] in [-1, 1]
/// print(ToyShape(rawValue: scene.label)!.name)
/// ```
public struct ToyScene: Sendable, Equatable {
    /// The primitives; the scene is their union (SDF `min`). Must not be empty.
    public var primitives: [ToyPrimitive]
    /// World-fixed lights.
    public var lighting: ToyLighting
    /// Colour where rays miss, RGB in `[0, 1]` (white).
    public var background: SIMD3<Float>

    /// Radius about the origin that holds every random scene.
    public static let fitRadius: Float = 1.25

    public init(primitives: [ToyPrimitive], lighting: ToyLighting = .standard,
                background: SIMD3<Float> = SIMD3(1, 1, 1)) {
        precondition(!primitives.isEmpty, "a toy scene needs at least one primitive")
        self.primitives = primitives
        self.lighting = lighting
        self.background = background
    }

    /// The primitive with the largest bounding radius (the first one on ties).
    public var largestPrimitive: ToyPrimitive {
        primitives.dropFirst().reduce(primitives[0]) { $1.boundingRadius > $0.boundingRadius ? $1 : $0 }
    }

    /// Class label: `rawValue` of the shape of ``largestPrimitive`` (largest bounding radius).
    public var label: Int { largestPrimitive.shape.rawValue }

    /// The scene's signed distance at world point `p` (min over primitives: exact outside).
    public func signedDistance(_ p: SIMD3<Float>) -> Float {
        primitives.map { $0.signedDistance(p) }.min()!
    }

    /// Renders the scene as a `[3, size, size]` image in `[-1, 1]` by exact SDF sphere tracing
    /// with `supersampling`² samples per pixel (see ``ToyRenderer``).
    public func render(view: OrbitView, size: Int, supersampling: Int = 3) -> Tensor {
        ToyRenderer(supersampling: supersampling).render(self, view: view, width: size, height: size)
    }

    // MARK: - Random scenes

    /// A random scene, drawing from `rng` (one draw of 64 uniforms):
    /// - 1, 2 or 3 primitives (equally likely), each shape uniform over ``ToyShape``;
    /// - the first ("main") primitive has bounding radius in `[0.75, 1.05]` and sits within
    ///   0.15 of the origin; the others have bounding radius in `[0.3, 0.5]` (so the main one
    ///   is always the largest: it gives the label) and sit beside it, their centres
    ///   0.55–0.95 from the y axis at heights −0.35…0.15, pulled in if they would leave
    ///   ``fitRadius``;
    /// - random aspect ratios (box half extents, cylinder/cone height-to-radius angle
    ///   30°–60°, torus tube 0.25–0.45 of the ring, capsule radius 0.3–0.5 of the length),
    ///   uniformly random rotations (or each shape's fixed pose with `pose: .canonical`, see
    ///   ``ToyPose``; the same uniforms are drawn either way);
    /// - saturated colours: HSV hue uniform, saturation in `[0.65, 1]`, value in `[0.65, 0.95]`.
    public static func random(using rng: inout RandomGenerator, pose: ToyPose = .random) -> ToyScene {
        let u = rng.uniformValues(64)
        var k = 0
        func next() -> Float { defer { k += 1 }; return u[k] }
        func next(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * next() }

        let count = 1 + Swift.min(Int(next() * 3), 2)
        var prims: [ToyPrimitive] = []
        for i in 0..<count {
            let shape = ToyShape(rawValue: Swift.min(Int(next() * 6), 5))!
            let bound = i == 0 ? next(0.75, 1.05) : next(0.3, 0.5)
            let params = parameters(for: shape, boundingRadius: bound, next(), next(), next())
            let drawn = ToyRotation(uniform: next(), next(), next())
            let rotation = pose == .random ? drawn : .canonical(for: shape)
            var center: SIMD3<Float>
            if i == 0 {
                let a = next(0, 2 * .pi), r = 0.15 * next().squareRoot()
                center = SIMD3(r * Foundation.cos(a), next(-0.1, 0.1), r * Foundation.sin(a))
            } else {
                let a = next(0, 2 * .pi), r = next(0.55, 0.95)
                center = SIMD3(r * Foundation.cos(a), next(-0.35, 0.15), r * Foundation.sin(a))
            }
            let reach = (center * center).sum().squareRoot() + bound
            if reach > fitRadius { center *= (fitRadius - bound) / (reach - bound) }
            let color = hsv(next(), next(0.65, 1), next(0.65, 0.95))
            prims.append(ToyPrimitive(shape: shape, parameters: params, center: center,
                                      rotation: rotation, color: color))
        }
        return ToyScene(primitives: prims)
    }

    /// Shape sizes with the given bounding radius; `a`, `b`, `c` in `[0, 1)` pick the aspect.
    static func parameters(for shape: ToyShape, boundingRadius R: Float, _ a: Float, _ b: Float, _ c: Float) -> SIMD3<Float> {
        switch shape {
        case .sphere:
            return SIMD3(R, 0, 0)
        case .box:
            let e = SIMD3<Float>(0.55 + 0.45 * a, 0.55 + 0.45 * b, 0.55 + 0.45 * c)
            return e * (R / (e * e).sum().squareRoot())
        case .cylinder, .cone:
            let theta = (30 + 30 * a) * Float.pi / 180      // elevation of the rim seen from the centre
            return SIMD3(R * Foundation.cos(theta), R * Foundation.sin(theta), 0)
        case .torus:
            let ratio = 0.25 + 0.2 * a                       // tube / ring
            return SIMD3(R / (1 + ratio), R * ratio / (1 + ratio), 0)
        case .capsule:
            let r = R * (0.3 + 0.2 * a)
            return SIMD3(r, R - r, 0)
        }
    }

    /// HSV (all in `[0, 1]`) to RGB.
    static func hsv(_ h: Float, _ s: Float, _ v: Float) -> SIMD3<Float> {
        func f(_ n: Float) -> Float {
            let k = (n + h * 6).truncatingRemainder(dividingBy: 6)
            return v - v * s * Swift.max(0, Swift.min(k, 4 - k, 1))
        }
        return SIMD3(f(5), f(3), f(1))
    }
}
