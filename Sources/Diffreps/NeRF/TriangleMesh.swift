/// An indexed triangle mesh with one colour per vertex: what
/// ``VoxelGridField/extractMesh(threshold:resolution:closeBoundary:)`` produces (from
/// ``MarchingCubes``) and ``write(to:)`` saves as PLY or OBJ.
///
/// Triangles list vertex indices counter-clockwise seen from outside: the right-hand normal
/// `(b − a) × (c − a)` points out of the solid.
///
/// ```swift
/// let mesh = TriangleMesh(vertices: [[0, 0, 0], [1, 0, 0], [0, 1, 0]],
///                         colors: [[255, 0, 0], [0, 255, 0], [0, 0, 255]],
///                         triangles: [[0, 1, 2]])
/// try mesh.write(to: URL(fileURLWithPath: "triangle.ply"))
/// ```
public struct TriangleMesh: Sendable, Equatable {
    /// Vertex positions (world coordinates).
    public var vertices: [SIMD3<Float>]
    /// One RGB colour per vertex, 0–255.
    public var colors: [SIMD3<UInt8>]
    /// Vertex indices of each triangle, counter-clockwise seen from outside.
    public var triangles: [SIMD3<Int32>]

    /// A mesh from its parts; `colors` must have one entry per vertex and every index must
    /// name a vertex.
    ///
    /// ```swift
    /// let empty = TriangleMesh(vertices: [], colors: [], triangles: [])
    /// ```
    public init(vertices: [SIMD3<Float>], colors: [SIMD3<UInt8>], triangles: [SIMD3<Int32>]) {
        precondition(colors.count == vertices.count,
                     "TriangleMesh: \(colors.count) colours for \(vertices.count) vertices")
        let n = Int32(truncatingIfNeeded: vertices.count)
        precondition(triangles.allSatisfy { t in all(t .>= 0) && all(t .< n) },
                     "TriangleMesh: a triangle names a vertex outside 0..<\(vertices.count)")
        self.vertices = vertices
        self.colors = colors
        self.triangles = triangles
    }

    /// Whether the mesh has no triangles.
    ///
    /// ```swift
    /// VoxelGridField(resolution: 8).extractMesh().isEmpty   // true: an empty field
    /// ```
    public var isEmpty: Bool { triangles.isEmpty }
}
