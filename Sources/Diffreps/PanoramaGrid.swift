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
        PanoramaLayout.windowOffsets(count: count, panoramaWidth: panoramaWidth, windowWidth: renderShape[2],
                                     alignToPixels: alignViewsToPixels, using: &rng)
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
        let positions = PanoramaLayout.perspectiveIndices(yaw: yaw, fovX: fovX, height: h, width: w,
                                                          panoramaHeight: H, panoramaWidth: W)
        var out = [Float](repeating: 0, count: c * h * w)
        let p = pixels.data
        for (n, (col, row)) in positions.enumerated() {
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
                out[ch * h * w + n] = v
            }
        }
        return Tensor([c, h, w], data: out)
    }
}
