import Diffreps
import Foundation

/// `diffrep nerf --mesh`: the density iso-surface (marching cubes) with vertex colours.
enum NerfMesh {
    /// Writes the mesh (`.ply` or `.obj`) and returns its triangle count.
    static func write(_ field: any RadianceField, to url: URL) throws -> Int {
        let mesh = field.extractMesh(threshold: nil, resolution: nil, closeBoundary: true)
        try mesh.write(to: url)
        return mesh.triangles.count
    }
}
