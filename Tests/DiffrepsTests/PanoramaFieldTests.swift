import Foundation
import Testing
import TensorCore
@testable import Diffreps
import TestSupport

/// The neural-field panorama: derivatives of its windows (VJP against finite differences, JVP
/// against VJP), seamless by construction (azimuth 0 and 2π are the same point, and the field is
/// as continuous across the seam as anywhere else), PanoramaGrid's views and perspective
/// geometry, panorama noise shared by overlapping windows, and the same field for the same seed.
@Suite struct PanoramaFieldTests {
    static let (height, width, window) = (4, 12, 4)

    static func small(seed: UInt64 = 3, omega: Float = 30) -> PanoramaField {
        PanoramaField(channels: 2, height: height, width: width, windowWidth: window, hidden: 6, layers: 2, omega: omega, seed: seed)
    }

    /// Pixel column `j` of each of `K` windows `[K, C, H, w]`: `[K, C·H]`.
    static func column(_ windows: Tensor, _ j: Int) -> [[Float]] {
        let (k, c, h, w) = (windows.shape[0], windows.shape[1], windows.shape[2], windows.shape[3])
        return (0..<k).map { v in (0..<c * h).map { windows.data[(v * c * h + $0) * w + j] } }
    }

    @Test func windowDerivativesInEveryWeight() {
        let pano = Self.small()
        // A pixel-aligned window, one straddling the seam and one at a fractional offset.
        checkDerivatives(pano.parameters.tensors, epsilon: 1e-3, tolerance: 1e-2, "panorama field windows") { _ in
            pano.render([0, 10, 5.5])
        }
    }

    @Test func azimuthZeroAndTwoPiRenderTheSame() {
        let pano = Self.small()
        let w = Float(Self.width)
        let r = GradMode.withoutGrad { pano.render([0, w, -w, 3, 3 + w, -9]) }
        #expect(r.shape == [6, 2, Self.height, Self.window])
        let per = r.count / 6
        let window = { (k: Int) in Array(r.data[k * per..<(k + 1) * per]) }
        #expect(window(1) == window(0) && window(2) == window(0), "offset W or −W is not offset 0")
        #expect(window(4) == window(3) && window(5) == window(3), "offset 3 + W or 3 − W is not offset 3")
    }

    /// A window straddling the seam is the last columns of the panorama followed by its first.
    @Test func aWindowAcrossTheSeamJoinsTheEndToTheStart() {
        let pano = Self.small()
        let whole = pano.panorama()                                           // [2, 4, 12]
        let straddle = GradMode.withoutGrad { pano.render([Float(Self.width - 2)]) }
        for j in 0..<Self.window {
            let col = (Self.width - 2 + j) % Self.width
            let expected = (0..<2 * Self.height).map { whole.data[$0 * Self.width + col] }
            assertClose(Self.column(straddle, j)[0], expected, rtol: 0, atol: 1e-5, "window column \(j) = panorama column \(col)")
        }
    }

    /// Just left and just right of the seam the field differs by a tiny fraction of what one
    /// pixel changes it, as across any other column boundary: no jump where the azimuth wraps
    /// (a field of the azimuth itself, not of cos φ and sin φ, would jump by about a pixel's change).
    @Test func theFieldIsContinuousAcrossTheSeam() {
        let pano = Self.small()
        let d: Float = 1e-3, w = Float(Self.width)
        // Window column 0 sits at offset + 0.5: the first two sample just left and right of the
        // seam, the last two of the boundary between columns 5 and 6.
        let r = GradMode.withoutGrad { pano.render([w - 0.5 - d, -0.5 + d, 5.5 - d, 5.5 + d]) }
        let c = Self.column(r, 0)
        let jump = { (a: [Float], b: [Float]) in zip(a, b).map { abs($0 - $1) }.max()! }
        let seam = jump(c[0], c[1]), interior = jump(c[2], c[3])
        let step = jump(Self.column(r, 0)[1], Self.column(r, 1)[1])          // one whole pixel apart
        #expect(step > 0.01, "the field is nearly constant (\(step)): the test would not see a jump")
        #expect(seam < 100 * d * step, "jump \(seam) across the seam (one pixel changes it by \(step))")
        #expect(interior < 100 * d * step, "jump \(interior) across an interior column boundary")
    }

    @Test func viewsAreThePanoramaGridsViews() {
        let field = Self.small(), grid = PanoramaGrid(channels: 2, height: Self.height, width: Self.width, windowWidth: Self.window)
        for aligned in [true, false] {
            field.alignViewsToPixels = aligned
            grid.alignViewsToPixels = aligned
            for count in [1, 5] {
                var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
                #expect(field.sampleViews(count: count, using: &a) == grid.sampleViews(count: count, using: &b))
            }
        }
    }

    /// A smooth field (small ω0) seen in perspective matches PanoramaGrid's view of the field's
    /// own pixels: the same geometry, read from the field instead of interpolated.
    @Test func perspectiveViewsMatchTheGridsGeometry() {
        let pano = PanoramaField(channels: 2, height: 16, width: 64, windowWidth: 16, hidden: 8, layers: 2, omega: 2, seed: 4)
        let grid = PanoramaGrid(channels: 2, height: 16, width: 64, windowWidth: 16)
        grid.pixels.data = pano.panorama().data
        for yaw: Float in [0, 1, 5.9] {
            let a = pano.perspectiveView(yaw: yaw, height: 12, width: 18), b = grid.perspectiveView(yaw: yaw, height: 12, width: 18)
            #expect(a.shape == [2, 12, 18])
            let scale = b.data.map(abs).max()!
            assertClose(a.data, b.data, rtol: 0, atol: 0.05 * scale, "yaw \(yaw)")
        }
    }

    @Test func thePanoramaIsTheWindowsSideBySideAndRendersAtAnySize() {
        let pano = Self.small()
        let whole = pano.panorama()
        let windows = GradMode.withoutGrad { pano.render([0, 4, 8]) }
        for col in 0..<Self.width {
            let expected = (0..<2 * Self.height).map { whole.data[$0 * Self.width + col] }
            assertClose(Self.column(windows, col % 4)[col / 4], expected, rtol: 0, atol: 1e-5, "column \(col)")
        }
        #expect(pano.panorama(height: 8, width: 48).shape == [2, 8, 48])
    }

    @Test func overlappingWindowsShareTheirNoise() throws {
        let pano = Self.small()
        let e = try #require(pano.viewConsistentNoise([0, 2, 10, 2.6], seed: 5))
        #expect(e.shape == [4, 2, Self.height, Self.window])
        for j in 0..<2 { #expect(Self.column(e, j + 2)[0] == Self.column(e, j)[1], "offset 0 column \(j + 2) vs offset 2 column \(j)") }
        #expect(Self.column(e, 2)[2] == Self.column(e, 0)[0], "offset 10 wraps onto column 0")
        #expect(Self.column(e, 0)[3] == Self.column(e, 3)[0], "offset 2.6: pixel 0 sits in column 3")
        #expect(try #require(pano.viewConsistentNoise([0, 2, 10, 2.6], seed: 5)).data == e.data)
        #expect(try #require(pano.viewConsistentNoise([0, 2, 10, 2.6], seed: 6)).data != e.data)
        // White: a whole panorama's worth of it has unit spread.
        let big = PanoramaField(channels: 3, height: 32, width: 256, windowWidth: 32, hidden: 4, layers: 1)
        let all = try #require(big.viewConsistentNoise((0..<8).map { Float($0 * 32) }, seed: 1)).data
        let mean = all.reduce(0, +) / Float(all.count), variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(all.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.03, "mean \(mean), variance \(variance)")
    }

    @Test func theSameSeedGivesTheSameField() {
        let a = Self.small(seed: 7).parameters.tensors.map(\.data)
        #expect(Self.small(seed: 7).parameters.tensors.map(\.data) == a)
        #expect(Self.small(seed: 8).parameters.tensors.map(\.data) != a)
    }
}
