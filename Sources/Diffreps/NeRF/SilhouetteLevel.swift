import Foundation
import TensorCore

extension NeRFDiffrep {
    /// The density level whose iso-surface has the NeRF's silhouettes: a ray meets the
    /// iso-surface at level `L` exactly when the largest density along it reaches `L`, and it is
    /// inside the NeRF's silhouette when its opacity reaches ½; over the rays of `views`
    /// (`size`×`size`), the level that makes the two masks agree best (largest IoU) is returned,
    /// with that IoU. Sampled NeRFs are much softer than fitted ones, so a fixed level can miss
    /// them entirely. `nil` when no ray reaches half opacity (an empty NeRF).
    ///
    /// ```swift
    /// if let (level, iou) = nerf.silhouetteDensityLevel(views: nerf.turntable(frames: 8)) {
    ///     let mesh = nerf.field.extractMesh(threshold: level, resolution: nil, closeBoundary: true)
    /// }
    /// ```
    public func silhouetteDensityLevel(views: [OrbitView], size: Int = 32) -> (level: Float, iou: Double)? {
        var rays: [(peak: Float, inside: Bool)] = []
        GradMode.withoutGrad {
            for view in views {
                let samples = renderer.sampler(field).samples(along: Rays(view: view, width: size, height: size))
                let sigma = field(samples.points).density.data                     // [R·S]
                let s = samples.samplesPerRay
                for r in 0..<samples.rayCount {
                    var depth: Float = 0, peak: Float = 0
                    for k in 0..<s {
                        let d = sigma[r * s + k]
                        depth += d * samples.deltas[r * s + k]
                        if samples.deltas[r * s + k] > 0 { peak = Swift.max(peak, d) }
                    }
                    rays.append((peak, Foundation.exp(-depth) <= 0.5))
                }
            }
        }
        let inside = rays.filter(\.inside).count
        guard inside > 0 else { return nil }
        // Sweep the level down through the rays' peaks: at each candidate, the rays with
        // peak ≥ level form the iso-surface's silhouette.
        let sorted = rays.sorted { $0.peak > $1.peak }
        var both = 0, best = (level: sorted[0].peak, iou: 0.0)
        for (n, ray) in sorted.enumerated() {
            if ray.inside { both += 1 }
            let union = (n + 1) + inside - both
            let iou = Double(both) / Double(union)
            let nextDiffers = n + 1 == sorted.count || sorted[n + 1].peak < ray.peak
            if nextDiffers && iou > best.iou && ray.peak > 0 { best = (ray.peak, iou) }
        }
        return best.iou > 0 ? best : nil
    }
}
