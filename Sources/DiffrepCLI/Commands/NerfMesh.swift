import ArgumentParser
import Diffreps
import Foundation

/// `diffrep nerf --mesh`: the density iso-surface (marching cubes) with vertex colours, at the
/// density level whose silhouettes best match the NeRF's opacity maps (``NeRFDiffrep/silhouetteDensityLevel(views:size:)``).
enum NerfMesh {
    /// Writes the mesh (`.ply` or `.obj`) and returns its triangle count, the level and how well
    /// the level's silhouettes match the opacity maps (IoU over 8 turntable views); an empty NeRF (no ray
    /// reaches half opacity) or an empty mesh is an error, not an empty file.
    static func write(_ nerf: NeRFDiffrep, to url: URL) throws -> (triangles: Int, level: Float, silhouetteIoU: Double) {
        guard let (level, iou) = nerf.silhouetteDensityLevel(views: nerf.turntable(frames: 8)) else {
            throw ValidationError("no mesh: no ray of the NeRF reaches half opacity (it is empty or only haze)")
        }
        let mesh = nerf.field.extractMesh(threshold: level, resolution: nil, closeBoundary: true)
        guard !mesh.triangles.isEmpty else {
            throw ValidationError("no mesh: the density never crosses the silhouette level \(level) on the field's lattice")
        }
        try mesh.write(to: url)
        return (mesh.triangles.count, level, iou)
    }
}
