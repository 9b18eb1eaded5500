import Foundation
import Diffreps
import TensorCore
import Toys

/// One rendered view with what the 3D measures need besides the picture.
public struct RenderedView: Sendable {
    /// The camera.
    public var view: OrbitView
    /// The image `[3, H, W]` in `[-1, 1]`.
    public var image: Tensor
    /// Opacity (coverage) `[H, W]` in `[0, 1]`: where the object is.
    public var opacity: Tensor
    /// Hit distance `[H, W]`: distance from the camera along each pixel's ray to the surface
    /// (0 where nothing is hit).
    public var distance: Tensor

    public init(view: OrbitView, image: Tensor, opacity: Tensor, distance: Tensor) {
        self.view = view
        self.image = image
        self.opacity = opacity
        self.distance = distance
    }

    /// Nothing shown: fewer than 1 % of the pixels are object (opacity above ½).
    public var isBlank: Bool {
        Double(opacity.data.filter { $0 > TurntableConsistency.objectThreshold }.count) < 0.01 * Double(opacity.count)
    }
}

/// Views of one object from evenly spaced azimuths at one elevation — the frames a person looks
/// at in `diffrep nerf`'s turntable, rendered at the model's size for measuring. A sampled NeRF
/// and a real toy scene rendered from the same `OrbitView.turntable(frames:)` compare frame for frame.
///
/// ```swift
/// let real = Turntable(scene: scene, views: OrbitView.turntable(frames: 24), size: 32)
/// let sampled = Turntable(nerf: nerf, frames: 24, size: 32)
/// TurntableConsistency.silhouetteChange(real)      // ≈ 0.2–0.6 for toys
/// ```
public struct Turntable: Sendable {
    /// The frames, in azimuth order.
    public var frames: [RenderedView]

    public init(frames: [RenderedView]) {
        precondition(!frames.isEmpty, "a turntable needs at least one frame")
        self.frames = frames
    }

    /// A NeRF's turntable (its own turntable views) rendered at `size`.
    public init(nerf: NeRFDiffrep, frames: Int, size: Int) {
        self.init(nerf: nerf, views: nerf.turntable(frames: frames), size: size)
    }

    /// A NeRF rendered from `views` at `size`; the hit distance is the expected distance divided
    /// by the opacity.
    public init(nerf: NeRFDiffrep, views: [OrbitView], size: Int) {
        self.init(frames: views.map { view in
            let r = nerf.display(view, size: size)
            let distance = zip(r.depth.data, r.opacity.data).map { d, a in a > 1e-3 ? d / a : 0 }
            return RenderedView(view: view, image: r.image, opacity: r.opacity, distance: Tensor(r.opacity.shape, data: distance))
        })
    }

    /// A real toy scene rendered exactly from `views` at `size`.
    public init(scene: ToyScene, views: [OrbitView], size: Int, renderer: ToyRenderer = ToyRenderer()) {
        self.init(frames: views.map { view in
            let r = renderer.renderLayers(scene, view: view, width: size, height: size)
            return RenderedView(view: view, image: r.image, opacity: r.coverage, distance: r.depth)
        })
    }

    /// All frames' images as one batch `[F, 3, H, W]`.
    public var images: Tensor {
        Tensor.concat(frames.map { $0.image.reshaped([1] + $0.image.shape) }, axis: 0)
    }
}

/// Real references: toy scenes of one class from the toys data set, as turntables.
///
/// ```swift
/// let refs = ToyReferences.turntables(classLabel: 1, count: 8, views: OrbitView.turntable(frames: 24), size: 32)
/// ```
public enum ToyReferences {
    /// The data set seed references are drawn from (scenes the default model and the shipped
    /// classifier were not trained on).
    public static let defaultSeed: UInt64 = 0x7EF5

    /// The first `count` scenes of `ToyDataset(seed:pose:)` whose label is `classLabel`.
    public static func scenes(classLabel: Int, count: Int, seed: UInt64 = ToyReferences.defaultSeed,
                              pose: ToyPose = .random) -> [ToyScene] {
        let toys = ToyDataset(seed: seed, pose: pose)
        return toys.indices(labelledIn: [classLabel], count: count).map { toys.scene($0).scene }
    }

    /// Turntables of ``scenes(classLabel:count:seed:pose:)`` from `views` at `size`.
    public static func turntables(classLabel: Int, count: Int, views: [OrbitView], size: Int,
                                  seed: UInt64 = ToyReferences.defaultSeed, pose: ToyPose = .random) -> [Turntable] {
        let scenes = scenes(classLabel: classLabel, count: count, seed: seed, pose: pose)
        var result = [Turntable?](repeating: nil, count: scenes.count)
        result.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let out = buf.baseAddress!
            Parallel.forEach(scenes.count) { k in out[k] = Turntable(scene: scenes[k], views: views, size: size) }
        }
        return result.map { $0! }
    }
}
