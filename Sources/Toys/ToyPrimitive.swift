import Foundation

/// One coloured, posed primitive of a toy scene.
///
/// A world point `p` maps to the shape's local frame by `rotation.inverseApply(p - center)`.
///
/// ```swift
/// let ball = ToyPrimitive(shape: .sphere, parameters: SIMD3(0.8, 0, 0),
///                         center: .zero, color: SIMD3(0.9, 0.2, 0.1))
/// ball.signedDistance(SIMD3(1, 0, 0))   // 0.2
/// ball.boundingRadius                   // 0.8
/// ```
public struct ToyPrimitive: Sendable, Equatable {
    /// The kind of shape (its `rawValue` is the class label).
    public var shape: ToyShape
    /// Shape sizes in world units; see ``ToyShape`` for their meaning per shape.
    public var parameters: SIMD3<Float>
    /// Where the shape's local origin sits in the world.
    public var center: SIMD3<Float>
    /// Local-to-world rotation.
    public var rotation: ToyRotation
    /// Albedo, RGB in `[0, 1]`.
    public var color: SIMD3<Float>

    public init(shape: ToyShape, parameters: SIMD3<Float>, center: SIMD3<Float> = .zero,
                rotation: ToyRotation = .identity, color: SIMD3<Float>) {
        self.shape = shape
        self.parameters = parameters
        self.center = center
        self.rotation = rotation
        self.color = color
    }

    /// Radius of the smallest sphere about `center` that holds the shape; the label of a
    /// scene is the shape of its primitive with the largest bounding radius.
    public var boundingRadius: Float { shape.boundingRadius(parameters) }

    /// The exact signed distance from world point `p` to this primitive's surface.
    public func signedDistance(_ p: SIMD3<Float>) -> Float {
        shape.signedDistance(rotation.inverseApply(p - center), parameters: parameters)
    }
}
