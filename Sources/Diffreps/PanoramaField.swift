import Foundation
import TensorCore

/// A 360° cylindrical panorama as a neural field: a SIREN (``SineNetwork``) on the points of a
/// cylinder, `(R cos φ, R sin φ, y)`. The azimuth enters only through `cos φ` and `sin φ`, so the
/// field is periodic in φ and the panorama is seamless by construction (nothing to wrap). The
/// cylinder's radius `R = W/(πH)` makes one panorama pixel the same length across and down
/// (`2/H`), so a square window looks like ``SirenImage``'s `[-1, 1]²` and `ω0` means the same.
///
/// Views are ``PanoramaGrid``'s: a window of the denoiser's size whose left edge is a horizontal
/// offset in panorama pixels (taken modulo the width), drawn the same way, so the samplers and
/// the CLI take either. Pixel `(i, j)` of the window at offset `o` is the field at column
/// position `o + j + 0.5`, row position `i + 0.5` — at pixel-aligned offsets the grid's pixel
/// centres; at fractional offsets the field itself, where the grid blends columns.
///
/// ```swift
/// let pano = PanoramaField(channels: 3, height: 32, width: 256, windowWidth: 32)
/// let windows = pano.render([0, 240])      // [2, 3, 32, 32]; the second straddles the seam
/// let whole = pano.panorama()              // [3, 32, 256]
/// ```
public final class PanoramaField: Diffrep {
    /// Horizontal offset of a window's left edge, in panorama pixels (taken modulo the width).
    public typealias View = Float
    public let parameters: Parameters
    public let renderShape: [Int]
    /// Draw offsets on whole pixels (the same windows as ``PanoramaGrid``'s) or anywhere.
    public var alignViewsToPixels: Bool
    /// The panorama's size in pixels (its display size; the field itself has none).
    public let panoramaHeight: Int, panoramaWidth: Int
    let network: SineNetwork
    /// Scales Adam-based solves and SDS/SJC, as ``SirenImage/optimizerStepScale`` (the same
    /// network and coordinate scale).
    public var optimizerStepScale: Float = 0.01

    /// - Parameters:
    ///   - height, width: the panorama in pixels (`height` is the window's height too).
    ///   - windowWidth: the width of a view (the denoiser's image width).
    ///   - hidden, layers, omega: the SIREN (width, sine layers, first-layer `ω0`; 10 as for
    ///     ``SirenImage``, since a window spans the same `[-1, 1]`).
    ///   - seed: seeds SIREN's initialisation.
    public init(channels: Int, height: Int, width: Int, windowWidth: Int, hidden: Int = 128, layers: Int = 3,
                omega: Float = 10, alignViewsToPixels: Bool = true, seed: UInt64 = 0) {
        precondition(windowWidth <= width, "window width \(windowWidth) exceeds panorama width \(width)")
        precondition(layers >= 1, "a SIREN needs at least one sine layer")
        renderShape = [channels, height, windowWidth]
        panoramaHeight = height
        panoramaWidth = width
        network = SineNetwork(inputs: 3, hidden: hidden, sineLayers: layers, outputs: channels, firstOmega: omega)
        var rng = RandomGenerator(seed: seed)
        parameters = Parameters(network.initialParameters(using: &rng))
        self.alignViewsToPixels = alignViewsToPixels
    }

    /// ``PanoramaGrid``'s windows: `max(count, ⌈W / w⌉)` evenly spaced from a random phase.
    public func sampleViews(count: Int, using rng: inout RandomGenerator) -> [Float] {
        PanoramaLayout.windowOffsets(count: count, panoramaWidth: panoramaWidth, windowWidth: renderShape[2],
                                     alignToPixels: alignViewsToPixels, using: &rng)
    }

    /// Windows `[K, C, H, w]` at the given offsets.
    public func render(_ views: [Float]) -> Tensor {
        let (c, h, w) = (renderShape[0], renderShape[1], renderShape[2])
        var positions: [(column: Double, row: Double)] = []
        positions.reserveCapacity(views.count * h * w)
        for offset in views {
            for i in 0..<h { for j in 0..<w { positions.append((Double(offset) + Double(j) + 0.5, Double(i) + 0.5)) } }
        }
        return network(points(positions), parameters)                     // [K·h·w, C]
            .reshaped([views.count, h * w, c]).permuted([0, 2, 1]).reshaped([views.count, c, h, w])
    }

    /// Noise that lives on the panorama rather than on each window: one white-noise panorama
    /// `[C, H, W]` drawn from `seed`, each window reading its columns (at a fractional offset the
    /// column whose span holds the pixel centre). Overlapping windows see the same noise where
    /// they overlap, as they do on a ``PanoramaGrid`` that holds `x + σ·ε` in its pixels — what the
    /// denoised-state sampler needs to treat the windows as views of one panorama. `[K, C, H, w]`.
    public func viewConsistentNoise(_ views: [Float], seed: UInt64) -> Tensor? {
        let (c, h, w) = (renderShape[0], renderShape[1], renderShape[2])
        let W = panoramaWidth
        var rng = RandomGenerator(seed: seed)
        let noise = rng.normalValues(c * h * W)                                 // [C, H, W]
        var out = [Float](repeating: 0, count: views.count * c * h * w)
        for (k, offset) in views.enumerated() {
            let columns = (0..<w).map { j in
                let col = Int(Foundation.floor(Double(offset) + Double(j) + 0.5))
                return (col % W + W) % W
            }
            for ch in 0..<c { for i in 0..<h { for j in 0..<w {
                out[((k * c + ch) * h + i) * w + j] = noise[(ch * h + i) * W + columns[j]]
            } } }
        }
        return Tensor([views.count, c, h, w], data: out)
    }

    /// The whole panorama `[C, height, width]` at pixel centres, by default at its own size
    /// (for display; not differentiable). Any size shows the same picture, finer or coarser.
    public func panorama(height: Int? = nil, width: Int? = nil) -> Tensor {
        let (h, w) = (height ?? panoramaHeight, width ?? panoramaWidth)
        let (sy, sx) = (Double(panoramaHeight) / Double(h), Double(panoramaWidth) / Double(w))
        var positions: [(column: Double, row: Double)] = []
        positions.reserveCapacity(h * w)
        for i in 0..<h { for j in 0..<w { positions.append(((Double(j) + 0.5) * sx, (Double(i) + 0.5) * sy)) } }
        return GradMode.withoutGrad {
            network(points(positions), parameters).transposed().reshaped([renderShape[0], h, w])
        }
    }

    /// A pinhole view `[C, h, w]` of the panorama seen from the cylinder's axis, looking at
    /// `yaw` radians with a horizontal field of view `fovX` (``PanoramaGrid/perspectiveView(yaw:fovX:height:width:)``'s
    /// geometry; the field is read where each ray meets the cylinder, its height clamped to the
    /// panorama's; for display, not differentiable).
    public func perspectiveView(yaw: Float, fovX: Float = .pi / 2, height h: Int, width w: Int) -> Tensor {
        let H = Double(panoramaHeight)
        let positions = PanoramaLayout.perspectiveIndices(yaw: yaw, fovX: fovX, height: h, width: w,
                                                          panoramaHeight: panoramaHeight, panoramaWidth: panoramaWidth)
            .map { (column: Double($0.column) + 0.5, row: Swift.min(Swift.max(Double($0.row) + 0.5, 0.5), H - 0.5)) }
        return GradMode.withoutGrad {
            network(points(positions), parameters).transposed().reshaped([renderShape[0], h, w])
        }
    }

    /// Panorama positions (column, row in pixels; the column taken modulo the width) → cylinder
    /// points `[P, 3]`: `(R cos φ, R sin φ, y)` with `φ = 2π·column/W`, `y = 2·row/H − 1` and
    /// `R = W/(πH)`.
    func points(_ positions: [(column: Double, row: Double)]) -> Tensor {
        let W = Double(panoramaWidth), H = Double(panoramaHeight)
        let radius = W / (Double.pi * H)
        var p = [Float](repeating: 0, count: positions.count * 3)
        for (n, (column, row)) in positions.enumerated() {
            var u = column.truncatingRemainder(dividingBy: W)
            if u < 0 { u += W }
            let phi = 2 * Double.pi * u / W
            p[3 * n] = Float(radius * Foundation.cos(phi))
            p[3 * n + 1] = Float(radius * Foundation.sin(phi))
            p[3 * n + 2] = Float(2 * row / H - 1)
        }
        return Tensor([positions.count, 3], data: p)
    }
}
