import Diffreps
import Foundation

/// Mesh export for `diffrep nerf --mesh` (filled in by the mesh extraction work).
enum NerfMesh {
    static func write(_ field: VoxelGridField, to url: URL) throws -> Int {
        throw CocoaError(.featureUnsupported)
    }
}
