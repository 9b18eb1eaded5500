import Foundation
import TensorCore

/// White noise attached to 3D space, seen through a NeRF: each pixel's noise is the value of a
/// fixed random field at the point its ray meets — so a point of the object shows the same noise
/// from every view, and the noise turns with the object ("noise carried by the representation").
///
/// The field is i.i.d. `N(0, 1)` per channel on a lattice of cubes of side ``cellSize`` (about a
/// pixel's footprint at the toys' 32×32: neighbouring pixels mostly meet different cells, so the
/// rendered noise stays nearly white, and a point seen again from a nearby view mostly keeps its
/// value — the compromise of nearest-cell lookup); a value comes from a counter-based hash of the
/// cell, the channel and the seed, so nothing is stored. Where a ray meets the NeRF's surface
/// (opacity above ½) the point is the expected hit point; elsewhere it is where the ray meets a
/// proxy sphere of radius ``proxyRadius`` about the origin (the region the toys fill), or, for
/// rays that miss it, a point on a far sphere along the ray (a sky that turns with the views).
/// Every pixel gets exactly one standard normal value per channel: unit variance per pixel.
///
/// ```swift
/// let noise = SurfaceNoise(seed: 7)
/// let eps = noise.render(view: OrbitView(azimuth: 1), size: 32, channels: 3,
///                        opacity: image.opacity.data, depth: image.depth.data)   // [3·32·32]
/// ```
public struct SurfaceNoise: Sendable {
    public var seed: UInt64
    /// Side of the lattice cubes that carry independent values (world units).
    public var cellSize: Float = 0.08
    /// Radius of the proxy sphere used where the NeRF shows no surface.
    public var proxyRadius: Float = 1.0
    /// Radius of the far sphere for rays that miss the proxy.
    public var skyRadius: Float = 8

    public init(seed: UInt64) { self.seed = seed }

    /// The field's value at `point` for `channel`: `N(0, 1)`, constant over each lattice cube.
    public func value(at point: SIMD3<Float>, channel: Int) -> Float {
        let cell = (point / cellSize).rounded(.down)
        var h = seed &* 0x9E37_79B9_7F4A_7C15
        for c in [Int64(cell.x), Int64(cell.y), Int64(cell.z), Int64(channel)] {
            h = Self.mix(h ^ UInt64(bitPattern: c))
        }
        // Box–Muller from two 24-bit uniforms in (0, 1).
        let u1 = (Float(h >> 40) + 0.5) / 16_777_216, u2 = (Float((h >> 8) & 0xFF_FFFF) + 0.5) / 16_777_216
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
    }

    /// SplitMix64's finaliser.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The point a ray meets: the surface at `hitDistance` if given, else the proxy sphere, else the sky.
    func point(origin: SIMD3<Float>, direction d: SIMD3<Float>, hitDistance: Float?) -> SIMD3<Float> {
        if let t = hitDistance { return origin + t * d }
        for r in [proxyRadius, skyRadius] {
            // |o + t d|² = r²: t² + 2(o·d)t + |o|² − r² = 0, nearest positive root.
            let b = (origin * d).sum(), c = (origin * origin).sum() - r * r
            let disc = b * b - c
            if disc >= 0 {
                let root = disc.squareRoot()
                let t = -b - root > 0 ? -b - root : -b + root
                if t > 0 { return origin + t * d }
            }
        }
        return origin + skyRadius * d
    }

    /// The noise of one view, `[channels · size · size]` (channel-major), given the view's
    /// opacity and expected-distance maps (`[size · size]` each, as ``NeRFImage`` holds them).
    public func render(view: OrbitView, size: Int, channels: Int, opacity: [Float], depth: [Float]) -> [Float] {
        let plane = size * size
        precondition(opacity.count == plane && depth.count == plane, "maps must be \(size)×\(size)")
        var out = [Float](repeating: 0, count: channels * plane)
        for i in 0..<size {
            for j in 0..<size {
                let p = i * size + j
                let d = view.rayDirection(px: Float(j) + 0.5, py: Float(i) + 0.5, width: size, height: size)
                let hit: Float? = opacity[p] > 0.5 ? depth[p] / opacity[p] : nil
                let x = point(origin: view.position, direction: d, hitDistance: hit)
                for c in 0..<channels { out[c * plane + p] = value(at: x, channel: c) }
            }
        }
        return out
    }
}

extension NeRFDiffrep {
    /// ``SurfaceNoise`` rendered in `views` at the NeRF's render size: `[K, C, H, W]`; with
    /// ``azimuthSteps``, each view's azimuth's own white-noise image instead.
    public func viewConsistentNoise(_ views: [OrbitView], seed: UInt64) -> Tensor? {
        let size = renderShape[1], channels = renderShape[0]
        if let n = azimuthSteps {            // one white-noise image per azimuth, drawn once per run
            return Tensor([views.count] + renderShape, data: views.flatMap { view in
                var rng = RandomGenerator(seed: seed).fork(UInt64(Self.azimuthIndex(view.azimuth, steps: n)))
                return rng.normalValues(channels * size * size)
            })
        }
        let noise = SurfaceNoise(seed: seed)
        var data: [Float] = []
        data.reserveCapacity(views.count * channels * size * size)
        for view in views {
            let r = display(view, size: size)
            data += noise.render(view: view, size: size, channels: channels, opacity: r.opacity.data, depth: r.depth.data)
        }
        return Tensor([views.count] + renderShape, data: data)
    }
}
