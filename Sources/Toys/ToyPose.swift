import Foundation

/// How the primitives of a random ``ToyScene`` are turned.
///
/// - ``random``: a uniformly random 3D rotation per primitive (the original data set). Nothing in
///   an image says which way is up or how the object faces, so a model trained on it cannot tie
///   an object's appearance to the camera.
/// - ``canonical``: every primitive stands in one fixed pose per shape, like objects of a
///   catalogue photographed on a turntable: cylinders, cones and capsules upright along the world
///   y axis, boxes with their faces aligned to the world axes, tori standing on edge with their
///   hole facing ±z. A camera-aware model trained on it knows what each view of a class looks
///   like, which is what a NeRF needs to become a 3D object (docs/DESIGN.md, "3D NeRFs").
///   Everything else (sizes, aspect, colours, positions, the other primitives) stays random.
///
/// Both draw the same uniforms, so a seed gives the same sizes, colours and positions in either.
///
/// ```swift
/// var rng = RandomGenerator(seed: 3)
/// let scene = ToyScene.random(using: &rng, pose: .canonical)
/// scene.primitives[0].rotation        // ToyRotation.canonical(for: shape)
/// ```
public enum ToyPose: String, CaseIterable, Sendable, Codable {
    case random, canonical
}

extension ToyRotation {
    /// The fixed pose of `shape` in ``ToyPose/canonical`` scenes: the identity (local y up),
    /// except the torus, which is turned 90° about x to stand on edge (its ring in the xy plane).
    public static func canonical(for shape: ToyShape) -> ToyRotation {
        shape == .torus ? ToyRotation(axis: SIMD3(1, 0, 0), angle: .pi / 2) : .identity
    }
}
