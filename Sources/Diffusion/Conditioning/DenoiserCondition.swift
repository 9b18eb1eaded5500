import Foundation
import TensorCore

/// Where a camera looks from: the unit vector from the scene centre to the camera, in the
/// world frame shared by the toys data set and the NeRF sampler (y up; see `OrbitView` in
/// Diffreps). For an orbit camera at azimuth `a` and elevation `e` it is
/// `(cos e·sin a, sin e, cos e·cos a)`.
///
/// The toys are lit by world-fixed lights, so this direction is also where the lights are
/// relative to the view: a camera-aware model can shade every view of one scene alike.
///
/// ```swift
/// let front = CameraPose(azimuth: 0, elevation: 0)          // direction (0, 0, 1)
/// let above = CameraPose(direction: SIMD3(0, 1, 0.001))
/// ```
public struct CameraPose: Sendable, Equatable, Hashable {
    /// Unit vector from the scene centre toward the camera (normalised on init).
    public var direction: SIMD3<Float>

    /// A pose from a direction (need not be unit length; must not be zero).
    public init(direction: SIMD3<Float>) {
        let n = (direction * direction).sum().squareRoot()
        precondition(n > 0 && n.isFinite, "a camera direction must be finite and non-zero, got \(direction)")
        self.direction = direction / n
    }

    /// The pose of an orbit camera, angles in radians (azimuth 0 = on +z, π/2 = on +x).
    public init(azimuth: Float, elevation: Float) {
        let ce = Foundation.cos(elevation)
        self.init(direction: SIMD3(ce * Foundation.sin(azimuth), Foundation.sin(elevation), ce * Foundation.cos(azimuth)))
    }
}

/// What a denoiser is told about one batch item besides its noisy image: an optional class
/// label, an optional camera and an optional encoded prompt. A sampler rendering views of a 3D
/// representation passes each view's camera with its render; plain image sampling passes none;
/// a text-conditioned model (a ``StableDiffusionPipeline``) reads the prompt's ``TextEmbedding``.
/// Denoisers ignore what they do not read.
///
/// ```swift
/// let c = DenoiserCondition(classLabel: 3, camera: CameraPose(azimuth: 1.2, elevation: 0.3))
/// let d = denoiser.denoise(x, sigma: 0.8, conditions: [c])        // x [1, 3, 32, 32]
/// let t = DenoiserCondition(text: pipeline.encode(prompts: ["a red box"])[0])
/// ```
public struct DenoiserCondition: Sendable, Equatable, Hashable {
    /// The class (`nil`: none given; a class-conditional model then uses its null class).
    public var classLabel: Int?
    /// The view's camera (`nil`: unknown; a camera-aware model was trained to accept that).
    public var camera: CameraPose?
    /// The encoded prompt (`nil`: none given; a text-conditioned model then uses its empty prompt).
    public var text: TextEmbedding?

    public init(classLabel: Int? = nil, camera: CameraPose? = nil, text: TextEmbedding? = nil) {
        self.classLabel = classLabel
        self.camera = camera
        self.text = text
    }

    /// One condition per class label (no cameras); `nil` gives `nil`.
    public static func classes(_ labels: [Int]?) -> [DenoiserCondition]? {
        labels.map { $0.map { DenoiserCondition(classLabel: $0) } }
    }

    /// One condition per item from optional class labels and optional cameras (the two lists, when
    /// both are given, have one entry per item); `nil` when neither is given, exactly the class-only call.
    public static func combining(classLabels labels: [Int]?, cameras: [CameraPose?]?) -> [DenoiserCondition]? {
        guard let cameras else { return classes(labels) }
        return cameras.indices.map { DenoiserCondition(classLabel: labels?[$0], camera: cameras[$0]) }
    }

    /// The class labels if every item has one, else `nil` (what a class-only API can take).
    public static func classLabels(of conditions: [DenoiserCondition]?) -> [Int]? {
        guard let conditions else { return nil }
        let labels = conditions.compactMap(\.classLabel)
        return labels.count == conditions.count ? labels : nil
    }
}

/// The documented camera input of a camera-aware ``UNet2D``: the camera's
/// ``CameraPose/direction`` `(x, y, z)` as three constant planes concatenated after the image
/// channels, so the network is a plain diffusers `UNet2DModel` with
/// `in_channels = out_channels + 3`. An unknown camera is three zero planes (never a valid
/// direction). In diffusers:
///
/// ```python
/// planes = direction.view(B, 3, 1, 1).expand(B, 3, H, W)     # zeros for "no camera"
/// eps = unet(torch.cat([x_t, planes], dim=1), t, class_labels=labels).sample
/// ```
public enum CameraPlanes {
    /// Extra input channels a camera-aware network takes.
    public static let count = 3

    /// `[B, 3, height, width]` planes for one optional camera per item.
    public static func planes(_ cameras: [CameraPose?], height: Int, width: Int) -> Tensor {
        let hw = height * width
        var data = [Float](repeating: 0, count: cameras.count * count * hw)
        for (b, camera) in cameras.enumerated() {
            guard let d = camera?.direction else { continue }
            for c in 0..<count {
                let v = d[c], base = (b * count + c) * hw
                for p in 0..<hw { data[base + p] = v }
            }
        }
        return Tensor([cameras.count, count, height, width], data: data)
    }
}
