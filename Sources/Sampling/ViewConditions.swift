import Diffreps
import Diffusion

/// The per-view conditions a sampler passes to its denoiser: the class (if any) and, for views
/// that are cameras (``Diffreps/OrbitView``: a NeRF's, or a user diffrep's), the camera — so a
/// camera-aware model knows where each render is seen from. Denoisers that read no camera
/// ignore it; views that are not cameras (image grids, panorama windows) pass none.
///
/// ```swift
/// let c = ViewConditions.make(views: nerf.sampleViews(count: 4, using: &rng), classLabel: 2)
/// c[0].camera   // CameraPose of the first view
/// ```
public enum ViewConditions {
    /// One condition per view; `withCamera: false` gives every view the "no camera" condition
    /// (the class alone), as a camera-aware model was trained with for dropped cameras.
    public static func make<V>(views: [V], classLabel: Int?, withCamera: Bool = true) -> [DenoiserCondition] {
        views.map { DenoiserCondition(classLabel: classLabel, camera: withCamera ? camera(of: $0) : nil) }
    }

    /// The camera of a view, when the view is an ``OrbitView``.
    public static func camera<V>(of view: V) -> CameraPose? {
        guard let orbit = view as? OrbitView else { return nil }
        return CameraPose(azimuth: orbit.azimuth, elevation: orbit.elevation)
    }
}
