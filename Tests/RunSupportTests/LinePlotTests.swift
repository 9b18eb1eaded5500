// Line plots checked pixel by pixel; tick choice and labels; the pixel font.

import Foundation
import PNGIO
import Testing
@testable import RunSupport

private func rgb(_ image: PNGImage, _ x: Int, _ y: Int) -> LinePlot.Color {
    LinePlot.Color(image[x, y, 0], image[x, y, 1], image[x, y, 2])
}

/// Rows of column `x` (strictly inside the frame) painted `color`.
private func rows(of color: LinePlot.Color, in image: PNGImage, column x: Int, frame f: LinePlot.Frame) -> [Int] {
    ((f.top + 1)..<f.bottom).filter { rgb(image, x, $0) == color }
}

@Test func plotHasTheAskedSizeWhiteBackgroundAndBlackBox() {
    var plot = LinePlot(title: "loss", xLabel: "step", yLabel: "loss", width: 320, height: 200)
    plot.add("loss", y: [3, 2, 1])
    let image = plot.render()
    #expect(image.width == 320 && image.height == 200 && image.channels == 3)
    #expect(rgb(image, 0, 0) == LinePlot.Color(255, 255, 255))
    #expect(rgb(image, 319, 199) == LinePlot.Color(255, 255, 255))
    let f = plot.frame
    #expect(f.left > 0 && f.right < 319 && f.top > 0 && f.bottom < 199 && f.left < f.right && f.top < f.bottom)
    for (x, y) in [(f.left, f.top), (f.right, f.bottom), ((f.left + f.right) / 2, f.top), (f.left, (f.top + f.bottom) / 2)] {
        #expect(rgb(image, x, y) == LinePlot.Color(0, 0, 0), "box edge at \(x),\(y)")
    }
}

@Test func constantSeriesDrawsAHorizontalLineAtItsRow() throws {
    var plot = LinePlot(width: 400, height: 300)
    plot.xRange = 0...10
    plot.yRange = 0...1
    plot.lineWidth = 1
    let blue = LinePlot.Color.palette[0]
    plot.add("flat", x: [0, 10], y: [0.25, 0.25])
    let image = plot.render()
    let f = plot.frame
    let expected = Int((Double(f.bottom) - 0.25 * Double(f.bottom - f.top)).rounded())
    for x in stride(from: f.left + 1, to: f.right, by: 7) {
        #expect(rows(of: blue, in: image, column: x, frame: f) == [expected], "column \(x)")
    }
    // Nothing else is blue.
    let blueCount = (0..<image.height).reduce(0) { n, y in n + (0..<image.width).filter { rgb(image, $0, y) == blue }.count }
    #expect(blueCount == f.right - f.left - 1)
}

@Test func seriesGetDistinctColoursAndALegend() {
    var plot = LinePlot(width: 400, height: 300)
    plot.yRange = 0...10                                  // data stay in the bottom tenth, clear of the legend
    plot.add("train", y: [0.1, 0.2, 0.3, 0.4])
    plot.add("eval", y: [0.4, 0.3, 0.2, 0.1])
    plot.add("custom", y: [0.2, 0.2, 0.2, 0.2], color: LinePlot.Color(10, 200, 30))
    let image = plot.render()
    let colours = Set(stride(from: 0, to: image.pixels.count, by: 3).map {
        [image.pixels[$0], image.pixels[$0 + 1], image.pixels[$0 + 2]]
    })
    let palette = LinePlot.Color.palette
    #expect(colours.contains([palette[0].r, palette[0].g, palette[0].b]))
    #expect(colours.contains([palette[1].r, palette[1].g, palette[1].b]))
    #expect(colours.contains([10, 200, 30]))
    // The legend's swatches sit near the top-right corner, one row per series.
    let f = plot.frame
    let corner = (f.right - 250...f.right).flatMap { x in (f.top...f.top + 120).map { rgb(image, x, $0) } }
    #expect(corner.contains(palette[0]) && corner.contains(palette[1]) && corner.contains(LinePlot.Color(10, 200, 30)))
    // A single series has no legend.
    var single = LinePlot(width: 400, height: 300)
    single.yRange = 0...10
    single.add("train", y: [0.1, 0.2, 0.3, 0.4])
    let alone = single.render()
    #expect(!(f.right - 250...f.right).contains { x in (f.top...f.top + 120).contains { rgb(alone, x, $0) == palette[0] } })
}

@Test func logAxisPutsDecadesEvenlyApart() {
    var plot = LinePlot(logY: true, width: 400, height: 300)
    plot.xRange = 0...2
    plot.yRange = 1...100
    plot.lineWidth = 1
    plot.add("decay", x: [0, 1, 1, 2], y: [10, 10, 100, 100])    // a step from 10 to 100 at x = 1
    let image = plot.render()
    let f = plot.frame
    let middle = Int((Double(f.bottom) - 0.5 * Double(f.bottom - f.top)).rounded())
    let quarter = f.left + (f.right - f.left) / 4
    #expect(rows(of: LinePlot.Color.palette[0], in: image, column: quarter, frame: f) == [middle])
    // Values ≤ 0 cannot be drawn on a log axis: they are skipped, not a crash.
    var bad = LinePlot(logY: true)
    bad.add("zeros", y: [0, -1, 0.5, 0.25])
    #expect(bad.render().width == 640)
}

@Test func nonFiniteValuesBreakTheLine() {
    var plot = LinePlot(width: 400, height: 300)
    plot.xRange = 0...4
    plot.yRange = 0...1
    plot.add("gappy", x: [0, 1, 2, 3, 4], y: [0.5, 0.5, .nan, 0.5, 0.5])
    let image = plot.render()
    let f = plot.frame
    let gap = f.left + (f.right - f.left) / 2
    #expect(rows(of: LinePlot.Color.palette[0], in: image, column: gap, frame: f).isEmpty)
    #expect(!rows(of: LinePlot.Color.palette[0], in: image, column: f.left + 10, frame: f).isEmpty)
}

@Test func pointsFarOutsideAFixedRangeAreClipped() {
    var plot = LinePlot(width: 200, height: 150)
    plot.yRange = 0...1
    plot.add("spike", y: [0.5, 1e300, 0.5, -1e300])
    let image = plot.render()
    let f = plot.frame
    #expect(rgb(image, f.left, f.top) == LinePlot.Color(0, 0, 0))
    #expect(rgb(image, 0, 0) == LinePlot.Color(255, 255, 255))
}

@Test func niceTicksAndLabels() {
    #expect(LinePlot.niceTicks(0...1).ticks == [0, 0.2, 0.4, 0.6, 0.8, 1])
    #expect(LinePlot.niceTicks(0...1).step == 0.2)
    #expect(LinePlot.niceTicks(0...10_000).ticks == [0, 2000, 4000, 6000, 8000, 10_000])
    #expect(LinePlot.niceTicks(-0.03...0.07).ticks == [-0.02, 0, 0.02, 0.04, 0.06])
    #expect(LinePlot.niceTicks(0...3e-4).ticks == [0, 5e-5, 1e-4, 1.5e-4, 2e-4, 2.5e-4, 3e-4])
    #expect(LinePlot.tickLabel(0.25, step: 0.05) == "0.25")
    #expect(LinePlot.tickLabel(0.4, step: 0.2) == "0.4")
    #expect(LinePlot.tickLabel(2000, step: 500) == "2000")
    #expect(LinePlot.tickLabel(1e-5, step: 1e-5) == "1E-5")
    #expect(LinePlot.tickLabel(2.5e6, step: 5e5) == "2.5E6")
    #expect(LinePlot.tickLabel(0, step: 0.1) == "0")
    #expect(LinePlot.tickLabel(-0.5, step: 0.5) == "-0.5")
}

@Test func logAxisTicks() {
    let plot = LinePlot(logY: true)
    #expect(plot.yTicks(-2...0).map(\.label) == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"])
    #expect(plot.yTicks(-2...0).map(\.position)[3] == -1)
    #expect(plot.yTicks(-5.5...1.2).map(\.label) == ["1E-5", "1E-4", "0.001", "0.01", "0.1", "1", "10"])
    #expect(plot.yTicks(-12...12).map(\.label) == ["1E-12", "1E-9", "1E-6", "0.001", "1", "1000", "1E6", "1E9", "1E12"])
    #expect(plot.yTicks(log10(2)...log10(6)).map(\.label) == ["2", "3", "4", "5", "6"])
}

@Test func movingAverageSkipsNonFiniteValues() {
    #expect(LinePlot.movingAverage([1, 3, 5, 7], window: 2) == [1, 2, 4, 6])
    let gappy = LinePlot.movingAverage([.nan, 2, .nan, 4], window: 2)
    #expect(gappy[0].isNaN && gappy[1] == 2 && gappy[2] == 2 && gappy[3] == 4)
}

@Test func pixelFontDrawsGlyphsAtScale() {
    var image = PNGImage(width: 20, height: 20, channels: 3, filling: 255)
    PixelFont.draw("1", into: &image, x: 1, y: 1, scale: 2, color: (0, 0, 0))
    // "1": top row "..#..", bottom row ".###." — each font pixel is 2×2 image pixels.
    let ink = { (x: Int, y: Int) in image[x, y, 0] == 0 }
    #expect(ink(1 + 4, 1) && ink(1 + 5, 2) && !ink(1 + 3, 1) && !ink(1 + 6, 1))
    #expect(ink(1 + 2, 13) && ink(1 + 7, 14) && !ink(1 + 1, 13) && !ink(1 + 8, 13))
    #expect(PixelFont.width(of: "seed 42", scale: 2) == 82)
    #expect(PixelFont.width(of: "", scale: 3) == 0)
    // Lower case draws as capitals; unknown characters as '?'.
    var lower = PNGImage(width: 12, height: 8, channels: 1, filling: 255)
    var upper = lower, unknown = lower, question = lower
    PixelFont.draw("a", into: &lower, x: 0, y: 0, color: (0, 0, 0))
    PixelFont.draw("A", into: &upper, x: 0, y: 0, color: (0, 0, 0))
    PixelFont.draw("€", into: &unknown, x: 0, y: 0, color: (0, 0, 0))
    PixelFont.draw("?", into: &question, x: 0, y: 0, color: (0, 0, 0))
    #expect(lower == upper && unknown == question && lower != question)
}

@Test func plotWritesAPNGFile() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    var plot = LinePlot(title: "training loss", xLabel: "step", yLabel: "loss", logY: true, width: 320, height: 200)
    let losses = (1...200).map { 0.02 + 0.8 * exp(-Double($0) / 40) }
    plot.add("loss", y: losses)
    plot.add("mean of 10", y: LinePlot.movingAverage(losses, window: 10))
    let url = scratch.file("loss.png")
    try plot.write(to: url)
    #expect(try PNG.read(url.path) == plot.render())
    #expect(try scratch.contents() == ["loss.png"])
}
