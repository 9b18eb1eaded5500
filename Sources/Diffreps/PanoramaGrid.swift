import Foundation
import TensorCore

/// A seamless 360° cylindrical panorama stored as pixels `θ [C, H, W]`; the width wraps
/// around. A view is a window of the denoiser's size at a horizontal offset (yaw) in pixels;
/// windows wrap across the seam, so the result tiles seamlessly.
///
/// Pixel-aligned offsets select columns exactly; fractional offsets blend neighbouring columns
/// linearly. White noise on `θ` is exact white noise in every pixel-aligned window.
///
/// ```swift
/// let pano = PanoramaGrid(channels: 3, height: 32, width: 256, windowWidth: 32)
/// let windows = pano.render([0, 240])        // [2, 3, 32, 32]; the second wraps the seam
/// ```
public final class PanoramaGrid: Diffrep {
    /// Horizontal offset of a window's left edge, in panorama pixels (taken modulo the width).
    public typealias View = Float
    public let parameters: Parameters
    public let renderShape: [Int]
    /// Draw offsets on whole pixels (the exact, MultiDiffusion-equivalent case) or anywhere.
    public var alignViewsToPixels: Bool

    /// `[C, H, W]`
    public var pixels: Tensor { parameters["pixels"]! }
    public var panoramaWidth: Int { pixels.shape[2] }

    public init(channels: Int, height: Int, width: Int, windowWidth: Int, alignViewsToPixels: Bool = true) {
        precondition(windowWidth <= width, "window width \(windowWidth) exceeds panorama width \(width)")
        renderShape = [channels, height, windowWidth]
        parameters = Parameters([("pixels", Tensor.zeros([channels, height, width]))])
        self.alignViewsToPixels = alignViewsToPixels
    }

    /// Windows evenly spaced around the circle from a random phase, so every step covers the
    /// whole panorama (as MultiDiffusion does): `max(count, ⌈W / w⌉)` windows, at
    /// `phase + k·W/n`; with ``alignViewsToPixels`` the offsets are whole pixels.
    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Float] {
        let width = Float(panoramaWidth)
        let n = Swift.max(count, (panoramaWidth + renderShape[2] - 1) / renderShape[2])
        let phase = rng.uniformValues(1)[0] * width
        return (0..<n).map { k in
            let offset = (phase + Float(k) * width / Float(n)).truncatingRemainder(dividingBy: width)
            return alignViewsToPixels ? Foundation.floor(offset) : offset
        }
    }

    /// Windows `[K, C, H, w]` at the given offsets.
    public func render(_ views: [Float]) -> Tensor {
        let w = renderShape[2], width = panoramaWidth
        let windows = views.map { offset -> Tensor in
            let base = Int(Foundation.floor(offset))
            let frac = offset - Float(base)
            let cols = (0..<w).map { ((base + $0) % width + width) % width }
            let left = pixels.gather(indices: cols, axis: 2)
            if frac == 0 { return left }
            let right = pixels.gather(indices: cols.map { ($0 + 1) % width }, axis: 2)
            return left.scaled(by: 1 - frac) + right.scaled(by: frac)
        }
        return Tensor.concat(windows.map { $0.reshaped([1] + renderShape) }, axis: 0)
    }

    public func parameterNoise(using rng: inout RandomGenerator) -> [[Float]]? {
        [rng.normalValues(pixels.count)]
    }

    /// A pinhole view `[C, h, w]` of the panorama seen from the cylinder's axis, looking at
    /// `yaw` radians with a horizontal field of view `fovX` (for display; not differentiable).
    public func perspectiveView(yaw: Float, fovX: Float = .pi / 2, height h: Int, width w: Int) -> Tensor {
        let (c, H, W) = (pixels.shape[0], pixels.shape[1], pixels.shape[2])
        let f = Float(w) / 2 / Foundation.tan(fovX / 2)
        let radius = Float(W) / (2 * .pi)                      // cylinder radius in panorama pixels
        var out = [Float](repeating: 0, count: c * h * w)
        let p = pixels.data
        for i in 0..<h {
            for j in 0..<w {
                let x = Float(j) + 0.5 - Float(w) / 2, y = Float(i) + 0.5 - Float(h) / 2
                let phi = yaw + Foundation.atan2(x, f)
                let col = phi / (2 * .pi) * Float(W) - 0.5
                let row = y / (x * x + f * f).squareRoot() * radius + Float(H) / 2 - 0.5
                let c0 = Int(Foundation.floor(col)), r0 = Int(Foundation.floor(row))
                let fc = col - Float(c0), fr = row - Float(r0)
                for ch in 0..<c {
                    var v: Float = 0
                    for (dr, wr) in [(0, 1 - fr), (1, fr)] {
                        let r = Swift.min(Swift.max(r0 + dr, 0), H - 1)
                        for (dc, wc) in [(0, 1 - fc), (1, fc)] {
                            let cc = ((c0 + dc) % W + W) % W
                            v += wr * wc * p[(ch * H + r) * W + cc]
                        }
                    }
                    out[(ch * h + i) * w + j] = v
                }
            }
        }
        return Tensor([c, h, w], data: out)
    }
}
