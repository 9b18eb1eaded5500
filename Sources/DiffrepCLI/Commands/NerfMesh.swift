import Diffreps
import Foundation

/// `diffrep nerf --mesh`: the density iso-surface (marching cubes) with vertex colours.
enum NerfMesh {
    /// Writes the mesh (`.ply` or `.obj`) and returns its triangle count.
    static func write(_ field: VoxelGridField, to url: URL) throws -> Int {
        let mesh = field.extractMesh()
        try mesh.write(to: url)
        return mesh.triangles.count
    }
}
