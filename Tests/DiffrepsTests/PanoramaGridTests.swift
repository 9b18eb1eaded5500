import Foundation
import Testing
import TensorCore
import Diffreps
import TestSupport

/// The pixel panorama: windows select columns (wrapping the seam), fractional offsets blend
/// neighbours linearly, the sampler's windows cover the panorama evenly, and a perspective view
/// turns with the yaw.
@Suite struct PanoramaGridTests {
    /// A `[1, 2, W]` panorama whose value is its column index (row 1: minus it).
    static func columns(width: Int, window: Int, aligned: Bool = true) -> PanoramaGrid {
        let pano = PanoramaGrid(channels: 1, height: 2, width: width, windowWidth: window, alignViewsToPixels: aligned)
        pano.pixels.data = (0..<width).map(Float.init) + (0..<width).map { -Float($0) }
        return pano
    }

    @Test func windowsSelectColumnsAndWrapTheSeam() {
        let pano = Self.columns(width: 16, window: 4)
        let w = GradMode.withoutGrad { pano.render([0, 14, -1, 19]) }                 // [4, 1, 2, 4]
        #expect(w.shape == [4, 1, 2, 4])
        func firstRow(_ k: Int) -> [Float] { Array(w.data[(k * 8)..<(k * 8 + 4)]) }
        #expect(firstRow(0) == [0, 1, 2, 3])
        #expect(firstRow(1) == [14, 15, 0, 1])                                          // across the seam
        #expect(firstRow(2) == [15, 0, 1, 2])                                           // offsets wrap both ways
        #expect(firstRow(3) == [3, 4, 5, 6])
        #expect(Array(w.data[12..<16]) == [-14, -15, 0, -1], "the second row follows its own columns")
    }

    @Test func fractionalOffsetsBlendNeighbouringColumns() {
        let pano = Self.columns(width: 8, window: 3)
        let w = GradMode.withoutGrad { pano.render([2.25, 7.5]) }
        assertClose(Array(w.data[0..<3]), [2.25, 3.25, 4.25], "0.75·column + 0.25·next")
        assertClose(Array(w.data[6..<9]), [3.5, 0.5, 1.5], "7.5 blends 7 with 0 across the seam")
        checkDerivatives(pano.parameters.tensors, "fractional windows") { _ in pano.render([2.25, 7.5, 0]).square() }
    }

    @Test(arguments: [(1, 4), (3, 4), (6, 6)])
    func sampledWindowsCoverThePanoramaEvenly(count: Int, expected: Int) {
        let pano = Self.columns(width: 64, window: 16)
        var rng = RandomGenerator(seed: UInt64(count))
        let offsets = pano.sampleViews(count: count, using: &rng)
        #expect(offsets.count == expected, "max(count, ⌈W / w⌉) windows")
        #expect(offsets.allSatisfy { $0 == $0.rounded(.down) && $0 >= 0 && $0 < 64 }, "whole pixels inside the panorama")
        let sorted = offsets.sorted()
        let gaps = zip(sorted.dropFirst(), sorted).map { $0 - $1 } + [sorted[0] + 64 - sorted.last!]
        #expect(gaps.allSatisfy { abs($0 - 64 / Float(expected)) <= 1 }, "gaps \(gaps)")
        var unaligned = RandomGenerator(seed: 9)
        #expect(Self.columns(width: 64, window: 16, aligned: false).sampleViews(count: 4, using: &unaligned)
            .contains { $0 != $0.rounded(.down) })
    }

    @Test func parameterNoiseCoversEveryPixel() throws {
        let pano = PanoramaGrid(channels: 3, height: 4, width: 20, windowWidth: 4)
        var rng = RandomGenerator(seed: 2)
        let noise = try #require(pano.parameterNoise(using: &rng))
        #expect(noise.map(\.count) == [3 * 4 * 20])
    }

    /// Turning the yaw by `s` columns' worth shows a panorama turned by `s` columns.
    @Test func perspectiveViewsTurnWithTheYaw() {
        var rng = RandomGenerator(seed: 4)
        let (width, s) = (24, 5)
        let pano = PanoramaGrid(channels: 2, height: 6, width: width, windowWidth: 6)
        pano.pixels.data = rng.uniformValues(2 * 6 * width)
        let turned = PanoramaGrid(channels: 2, height: 6, width: width, windowWidth: 6)
        turned.pixels.data = (0..<(2 * 6 * width)).map { i in                // turned[c] = pano[c − s]
            let (row, c) = (i / width, i % width)
            return pano.pixels.data[row * width + (c - s + width) % width]
        }
        let a = pano.perspectiveView(yaw: 0.4, height: 5, width: 7)
        let b = turned.perspectiveView(yaw: 0.4 + 2 * .pi * Float(s) / Float(width), height: 5, width: 7)
        #expect(a.shape == [2, 5, 7])
        assertClose(b.data, a.data, rtol: 0, atol: 1e-4, "turned panorama, turned view")
    }
}
