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
    /// Colours `[V, C]` in `[-1, 1]` as 0–255 RGB (one channel gives grey; NaN gives 0).
    ///
    /// ```swift
    /// TriangleMesh.colors([-1, 0, 1], channels: 3)   // [SIMD3(0, 128, 255)]
    /// ```
    public static func colors(_ values: [Float], channels C: Int) -> [SIMD3<UInt8>] {
        @inline(__always) func byte(_ c: Float) -> UInt8 {
            let v = ((c + 1) * 127.5).rounded()
            return v.isNaN ? 0 : UInt8(Swift.min(Swift.max(v, 0), 255))
        }
        return (0..<(values.count / Swift.max(C, 1))).map { i in
            let row = i * C
            return C >= 3 ? SIMD3(byte(values[row]), byte(values[row + 1]), byte(values[row + 2]))
                          : SIMD3(repeating: byte(values[row]))
        }
    }

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
