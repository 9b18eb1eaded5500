import Foundation

/// The primitive kinds of the toys data set; `rawValue` is the class label (0..<6).
///
/// Each shape is centred on its local origin and symmetric about its local y axis. Its
/// three `parameters` mean (unused ones are ignored):
///
/// | shape    | parameters.x | parameters.y | parameters.z | bounding radius |
/// |----------|--------------|--------------|--------------|-----------------|
/// | sphere   | radius       |              |              | x               |
/// | box      | half extent x| half extent y| half extent z| ‖(x, y, z)‖     |
/// | cylinder | radius       | half height  |              | √(x² + y²)      |
/// | cone     | base radius  | half height  |              | √(x² + y²)      |
/// | torus    | major radius | minor radius |              | x + y           |
/// | capsule  | radius       | half length  |              | x + y           |
///
/// The cone's base disc is at `y = -halfHeight`, its apex at `y = +halfHeight`; the torus
/// lies in the local xz plane; the cylinder and capsule run along y.
///
/// ```swift
/// let label = ToyShape.torus.rawValue          // 4
/// ToyShape(rawValue: 2)!.name                  // "cylinder"
/// ToyShape.box.boundingRadius(SIMD3(1, 2, 2))  // 3
/// ```
public enum ToyShape: Int, CaseIterable, Sendable, Codable {
    case sphere = 0, box, cylinder, cone, torus, capsule

    /// A lower-case name for the class ("sphere", "box", …).
    public var name: String { String(describing: self) }

    /// The radius of the smallest origin-centred sphere holding the shape.
    public func boundingRadius(_ parameters: SIMD3<Float>) -> Float {
        let p = parameters
        switch self {
        case .sphere: return p.x
        case .box: return (p.x * p.x + p.y * p.y + p.z * p.z).squareRoot()
        case .cylinder, .cone: return (p.x * p.x + p.y * p.y).squareRoot()
        case .torus, .capsule: return p.x + p.y
        }
    }

    /// The exact signed distance from local point `p` to the shape's surface.
    public func signedDistance(_ p: SIMD3<Float>, parameters: SIMD3<Float>) -> Float {
        signedDistance(ToyVec(p), ToyVec(parameters))
    }

    @inline(__always) func signedDistance(_ p: ToyVec, _ a: ToyVec) -> Float {
        switch self {
        case .sphere: return ToySDF.sphere(p, radius: a.x)
        case .box: return ToySDF.box(p, halfExtents: a)
        case .cylinder: return ToySDF.cylinder(p, radius: a.x, halfHeight: a.y)
        case .cone: return ToySDF.cone(p, radius: a.x, halfHeight: a.y)
        case .torus: return ToySDF.torus(p, majorRadius: a.x, minorRadius: a.y)
        case .capsule: return ToySDF.capsule(p, radius: a.x, halfLength: a.y)
        }
    }
}
