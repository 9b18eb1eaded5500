import Foundation

/// Cameras folded into the class label: the second, stronger route for a camera-aware
/// ``UNet2D`` (the first is ``CameraPlanes``).
///
/// The orbit is cut into `azimuthBins × elevationBins` view bins (azimuth bins centred on
/// `2π·k/azimuthBins`; elevation bins evenly over `elevationRange`, cameras outside it clamped);
/// bin `count` (one past the last) stands for "no camera". The network's class embedding then has
/// one row per (class, bin): row `classLabel · (count + 1) + bin`, the null class included. A
/// view's embedding is added to the time embedding and so reaches every ResNet block — a model
/// learns "what a box looks like from here" as fast as it learns classes, where three constant
/// input planes reach only the first convolution and were measured to stay unused (see
/// docs/DESIGN.md, "3D NeRFs").
///
/// The network stays a plain diffusers `UNet2DModel` (`num_class_embeds = classes · (count + 1)`);
/// the bins are recorded in its `config.json` under ``configKey`` (diffusers keeps keys that start
/// with `_` and ignores them). In diffusers:
///
/// ```python
/// label = class_label * (bins.count + 1) + bins.bin(camera)        # bins.count for "no camera"
/// eps = unet(x_t, t, class_labels=label).sample
/// ```
///
/// ```swift
/// let bins = CameraBins(azimuthBins: 16, elevationBins: 3)
/// bins.bin(CameraPose(azimuth: 0, elevation: 0.3))      // 1: azimuth bin 0, elevation bin 1
/// bins.embeddingRow(classLabel: 2, camera: nil)          // 2 · 49 + 48
/// ```
public struct CameraBins: Codable, Equatable, Sendable {
    /// Bins around the vertical axis (bin 0 is centred on azimuth 0, the camera on +z).
    public var azimuthBins: Int
    /// Bins over ``elevationMinDegrees``…``elevationMaxDegrees``.
    public var elevationBins: Int
    public var elevationMinDegrees: Float
    public var elevationMaxDegrees: Float

    /// The key of `config.json` that holds the bins.
    public static let configKey = "_diffrep_camera_bins"

    /// View bins; the elevation range defaults to the toys' views (−10°…45°).
    public init(azimuthBins: Int = 16, elevationBins: Int = 3, elevationMinDegrees: Float = -10, elevationMaxDegrees: Float = 45) {
        self.azimuthBins = azimuthBins
        self.elevationBins = elevationBins
        self.elevationMinDegrees = elevationMinDegrees
        self.elevationMaxDegrees = elevationMaxDegrees
    }

    enum CodingKeys: String, CodingKey {
        case azimuthBins = "azimuth_bins", elevationBins = "elevation_bins"
        case elevationMinDegrees = "elevation_min_degrees", elevationMaxDegrees = "elevation_max_degrees"
    }

    /// Why these bins cannot be used, or `nil` when they can.
    public var problem: String? {
        guard (1...360).contains(azimuthBins) else { return "azimuth_bins must be in 1...360, got \(azimuthBins)" }
        guard (1...90).contains(elevationBins) else { return "elevation_bins must be in 1...90, got \(elevationBins)" }
        guard elevationMinDegrees.isFinite, elevationMaxDegrees.isFinite, elevationMinDegrees >= -90,
              elevationMaxDegrees <= 90, elevationMinDegrees < elevationMaxDegrees else {
            return "the elevation range must satisfy -90 ≤ min < max ≤ 90 degrees, got \(elevationMinDegrees)…\(elevationMaxDegrees)"
        }
        return nil
    }

    /// Known view bins (the "no camera" bin is one more).
    public var count: Int { azimuthBins * elevationBins }

    /// The bin of `camera`: `azimuthBin · elevationBins + elevationBin`, or ``count`` for `nil`.
    public func bin(_ camera: CameraPose?) -> Int {
        guard let d = camera?.direction else { return count }
        let turn = Float(2 * Double.pi)
        var azimuth = Foundation.atan2(d.x, d.z)                          // 0 on +z, π/2 on +x
        if azimuth < 0 { azimuth += turn }
        let a = Int((azimuth / turn * Float(azimuthBins)).rounded()) % azimuthBins
        let elevation = Foundation.asin(Swift.min(Swift.max(d.y, -1), 1)) * 180 / .pi
        let u = (elevation - elevationMinDegrees) / (elevationMaxDegrees - elevationMinDegrees)
        let e = Swift.min(Swift.max(Int((u * Float(elevationBins)).rounded(.down)), 0), elevationBins - 1)
        return a * elevationBins + e
    }

    /// The class-embedding row of a class (the null class included) seen from `camera`.
    public func embeddingRow(classLabel: Int, camera: CameraPose?) -> Int {
        classLabel * (count + 1) + bin(camera)
    }
}
