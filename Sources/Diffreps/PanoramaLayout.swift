import Foundation
import TensorCore

/// What the 360° panoramas (``PanoramaGrid``, ``PanoramaField``) share: where the sampler's
/// windows go and where a perspective view looks. Positions are in panorama pixels: column `c`
/// spans azimuths `[2πc/W, 2π(c+1)/W)`, so its centre sits at column position `c + 0.5`.
///
/// ```swift
/// var rng = RandomGenerator(seed: 1)
/// PanoramaLayout.windowOffsets(count: 1, panoramaWidth: 256, windowWidth: 32,
///                              alignToPixels: true, using: &rng)   // 8 offsets 32 px apart
/// ```
enum PanoramaLayout {
    /// Windows evenly spaced around the circle from a random phase, so every step covers the
    /// whole panorama (as MultiDiffusion does): `max(count, ⌈W / w⌉)` windows, at
    /// `phase + k·W/n`; with `alignToPixels` the offsets are whole pixels.
    static func windowOffsets(count: Int, panoramaWidth: Int, windowWidth: Int, alignToPixels: Bool,
                              using rng: inout RandomGenerator) -> [Float] {
        let width = Float(panoramaWidth)
        let n = Swift.max(count, (panoramaWidth + windowWidth - 1) / windowWidth)
        let phase = rng.uniformValues(1)[0] * width
        return (0..<n).map { k in
            let offset = (phase + Float(k) * width / Float(n)).truncatingRemainder(dividingBy: width)
            return alignToPixels ? Foundation.floor(offset) : offset
        }
    }

    /// Where each pixel of a pinhole view `[h, w]` from the cylinder's axis lands on the panorama,
    /// row by row, as fractional pixel indices (`column`, `row`: the centre of pixel `c` is at
    /// index `c`; the column is not yet wrapped): the view looks at `yaw` radians with a
    /// horizontal field of view `fovX`, on a cylinder of `W` pixels around and `H` pixels high.
    static func perspectiveIndices(yaw: Float, fovX: Float, height h: Int, width w: Int,
                                   panoramaHeight H: Int, panoramaWidth W: Int) -> [(column: Float, row: Float)] {
        let f = Float(w) / 2 / Foundation.tan(fovX / 2)
        let radius = Float(W) / (2 * .pi)                      // cylinder radius in panorama pixels
        var out: [(column: Float, row: Float)] = []
        out.reserveCapacity(h * w)
        for i in 0..<h {
            for j in 0..<w {
                let x = Float(j) + 0.5 - Float(w) / 2, y = Float(i) + 0.5 - Float(h) / 2
                let phi = yaw + Foundation.atan2(x, f)
                out.append((column: phi / (2 * .pi) * Float(W) - 0.5,
                            row: y / (x * x + f * f).squareRoot() * radius + Float(H) / 2 - 0.5))
            }
        }
        return out
    }
}
