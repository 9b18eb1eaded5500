// A small line chart rendered straight to an RGB PNGImage (the training loss curve, loss.png).

import Foundation
import PNGIO

/// A line chart: white background, axes box with grid lines, tick labels, optional title and axis
/// labels in the built-in ``PixelFont``, one or more series in distinct colours (with a legend
/// when there are several), optional logarithmic y axis. No anti-aliasing.
///
/// Non-finite points (and, on a log axis, points ≤ 0) are skipped and break the line.
///
/// ```swift
/// var plot = LinePlot(title: "training loss", xLabel: "step", yLabel: "loss", logY: true)
/// plot.add("loss", x: steps, y: losses)
/// plot.add("mean of 100", x: steps, y: LinePlot.movingAverage(losses, window: 100))
/// try PNG.write(plot.render(), to: out.appendingPathComponent("loss.png").path)
/// ```
public struct LinePlot: Sendable {
    /// An 8-bit RGB colour.
    public struct Color: Sendable, Equatable {
        public var r: UInt8, g: UInt8, b: UInt8
        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

        /// Distinct colours given to series in order (blue, orange, green, red, purple, brown, pink, grey).
        public static let palette: [Color] = [
            Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40),
            Color(148, 103, 189), Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127),
        ]
    }

    /// One line: points (`x[i]`, `y[i]`) joined in order.
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var color: Color
    }

    /// The axes box in image pixels, edges inclusive: data map into `left...right`, `top...bottom`.
    public struct Frame: Sendable, Equatable {
        public var left: Int, top: Int, right: Int, bottom: Int
    }

    /// Title above the plot ("" for none).
    public var title: String
    /// Label under the x axis ("" for none).
    public var xLabel: String
    /// Label left of the y axis, written upwards ("" for none).
    public var yLabel: String
    /// Whether the y axis is logarithmic (base 10).
    public var logY: Bool
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// Fixed x range (nil: the data's range).
    public var xRange: ClosedRange<Double>?
    /// Fixed y range (nil: the data's range plus a 5 % margin, a decade-aware margin on a log axis).
    public var yRange: ClosedRange<Double>?
    /// Line thickness in pixels.
    public var lineWidth: Int = 2
    /// Pixel size of the font (1: 5×7 pixel characters); the title uses one size more.
    public var fontScale: Int
    /// The series, in drawing order.
    public private(set) var series: [Series] = []

    /// An empty plot of `width` × `height` pixels.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", logY: Bool = false,
                width: Int = 640, height: Int = 400) {
        precondition(width >= 64 && height >= 48, "a plot needs at least 64×48 pixels, got \(width)×\(height)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.width = width
        self.height = height
        self.fontScale = max(1, min(3, (min(width, height) + 100) / 200))
    }

    /// Adds a series with the next palette colour unless `color` is given.
    public mutating func add(_ name: String, x: [Double], y: [Double], color: Color? = nil) {
        precondition(x.count == y.count, "series '\(name)': \(x.count) x values for \(y.count) y values")
        let colour = color ?? Color.palette[series.count % Color.palette.count]
        series.append(Series(name: name, x: x, y: y, color: colour))
    }

    /// Adds a series plotted against its index (x = 0, 1, 2, …).
    public mutating func add(_ name: String, y: [Double], color: Color? = nil) {
        add(name, x: (0..<y.count).map(Double.init), y: y, color: color)
    }

    /// Trailing moving average of `values` over `window` points (fewer at the start); non-finite
    /// values are left out of the averages. For drawing a readable trend over a noisy loss.
    ///
    /// ```swift
    /// LinePlot.movingAverage([1, 3, 5, 7], window: 2)   // [1, 2, 4, 6]
    /// ```
    public static func movingAverage(_ values: [Double], window: Int) -> [Double] {
        precondition(window >= 1, "moving-average window must be at least 1")
        var out = [Double](repeating: .nan, count: values.count)
        var sum = 0.0, count = 0
        for i in values.indices {
            if values[i].isFinite { sum += values[i]; count += 1 }
            if i >= window, values[i - window].isFinite { sum -= values[i - window]; count -= 1 }
            if count > 0 { out[i] = sum / Double(count) }
        }
        return out
    }

    // MARK: layout

    /// Where the axes box lies in the image for the current labels and data.
    public var frame: Frame {
        let s = fontScale
        let (_, yr) = ranges()
        let yTickWidth = yTicks(yr).map { PixelFont.width(of: $0.label, scale: s) }.max() ?? 0
        let left = 8 * s + (yLabel.isEmpty ? 0 : PixelFont.height(scale: s) + 8 * s) + yTickWidth + 6 * s
        let top = title.isEmpty ? 10 * s : PixelFont.height(scale: s + 1) + 16 * s
        let bottom = height - 1 - (6 * s + PixelFont.height(scale: s) + 6 * s
                                   + (xLabel.isEmpty ? 0 : PixelFont.height(scale: s) + 6 * s))
        let right = width - 1 - 14 * s
        return Frame(left: left, top: top, right: max(left + 8, right), bottom: max(top + 8, bottom))
    }

    /// The x and y ranges drawn, y in axis units (log10 of the values on a log axis).
    func ranges() -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        var xs = [Double](), ys = [Double]()
        for s in series {
            for (x, y) in zip(s.x, s.y) {
                guard let t = axisY(y), x.isFinite else { continue }
                xs.append(x); ys.append(t)
            }
        }
        let xr: ClosedRange<Double>
        if let xRange { xr = xRange } else if let lo = xs.min(), let hi = xs.max() {
            xr = lo < hi ? lo...hi : (lo - 1)...(hi + 1)
        } else { xr = 0...1 }
        let yr: ClosedRange<Double>
        if let yRange {
            let lo = axisY(yRange.lowerBound) ?? -1, hi = axisY(yRange.upperBound) ?? 0
            yr = lo < hi ? lo...hi : lo...(lo + 1)
        } else if let lo = ys.min(), let hi = ys.max() {
            if lo < hi {
                let margin = (hi - lo) * 0.05
                yr = (lo - margin)...(hi + margin)
            } else {
                let pad = logY ? 0.5 : max(abs(lo) * 0.1, 1)
                yr = (lo - pad)...(hi + pad)
            }
        } else { yr = logY ? 0...1 : 0...1 }
        return (xr, yr)
    }

    /// A data y in axis units, nil when it cannot be drawn.
    private func axisY(_ y: Double) -> Double? {
        guard y.isFinite else { return nil }
        if logY { return y > 0 ? log10(y) : nil }
        return y
    }

    // MARK: ticks

    /// Tick positions (in axis units) and labels for the y axis.
    func yTicks(_ range: ClosedRange<Double>) -> [(position: Double, label: String)] {
        if logY {
            let first = Int(floor(range.lowerBound)), last = Int(ceil(range.upperBound))
            let span = range.upperBound - range.lowerBound
            if span >= 3 {            // many decades: a tick per decade (or per few)
                let every = max(1, Int((span / 8).rounded(.up)))
                return stride(from: first, through: last, by: every).compactMap { k in
                    let t = Double(k)
                    guard t >= range.lowerBound - 1e-9, t <= range.upperBound + 1e-9 else { return nil }
                    let v = pow(10, t)
                    return (t, LinePlot.tickLabel(v, step: v))
                }
            }
            if span >= 0.6 {          // a few decades: 1, 2, 5 × 10^k
                var ticks = [(position: Double, label: String)]()
                for k in first...last {
                    for m in [1.0, 2, 5] {
                        let v = k < 0 ? m / pow(10, Double(-k)) : m * pow(10, Double(k))
                        let t = log10(v)
                        if t >= range.lowerBound - 1e-9, t <= range.upperBound + 1e-9 {
                            ticks.append((t, LinePlot.tickLabel(v, step: v)))
                        }
                    }
                }
                return ticks
            }
            // Less than a decade or so: nice steps in value space, placed on the log axis.
            let values = LinePlot.niceTicks(pow(10, range.lowerBound)...pow(10, range.upperBound))
            return values.ticks.filter { $0 > 0 }.map { (log10($0), LinePlot.tickLabel($0, step: values.step)) }
        }
        let values = LinePlot.niceTicks(range)
        return values.ticks.map { ($0, LinePlot.tickLabel($0, step: values.step)) }
    }

    /// Tick values at a 1, 2 or 5 × 10^k step, about five of them, inside `range`.
    ///
    /// ```swift
    /// LinePlot.niceTicks(0...1).ticks   // [0, 0.2, 0.4, 0.6, 0.8, 1]
    /// ```
    public static func niceTicks(_ range: ClosedRange<Double>, target: Int = 5) -> (ticks: [Double], step: Double) {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return ([range.lowerBound], 1) }
        let rough = span / Double(target)
        let normalised = rough / pow(10, floor(log10(rough)))
        let digit: Double = normalised < 1.5 ? 1 : normalised < 3.5 ? 2 : normalised < 7.5 ? 5 : 10
        // k·digit·10^e, divided rather than multiplied by the power when e < 0 so 3·0.2 prints as 0.6.
        let exponent = floor(log10(rough))
        let value = { (k: Double) -> Double in
            exponent < 0 ? k * digit / pow(10, -exponent) : k * digit * pow(10, exponent)
        }
        let step = value(1)
        // A hair of tolerance so a bound that is a tick in decimal (3e-4 = 6 × 5e-5) counts as one.
        let first = (range.lowerBound / step - 1e-9).rounded(.up), last = (range.upperBound / step + 1e-9).rounded(.down)
        guard first <= last else { return ([], step) }
        return (stride(from: first, through: last, by: 1).map { $0 == 0 ? 0 : value($0) }, step)
    }

    /// A tick label: plain decimals with as many places as `step` needs, or `2.5E-5` style for
    /// very large or small values.
    ///
    /// ```swift
    /// LinePlot.tickLabel(0.25, step: 0.05)    // "0.25"
    /// LinePlot.tickLabel(2000, step: 500)     // "2000"
    /// LinePlot.tickLabel(1e-5, step: 1e-5)    // "1E-5"
    /// ```
    public static func tickLabel(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-3 {
            var exponent = Int(floor(log10(magnitude)))
            var mantissa = value / pow(10, Double(exponent))
            mantissa = (mantissa * 100).rounded() / 100
            if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
            var text = String(format: "%.2f", mantissa)
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
            return text + "E" + String(exponent)
        }
        let places = max(0, min(6, -Int(floor(log10(step) + 1e-9))))
        return String(format: "%.\(places)f", value)
    }

    // MARK: rendering

    /// Draws the chart as a `width` × `height` RGB image.
    public func render() -> PNGImage {
        var image = PNGImage(width: width, height: height, channels: 3, filling: 255)
        let f = frame
        let (xr, yr) = ranges()
        let s = fontScale
        let black = Color(0, 0, 0), grid = Color(225, 225, 225), ink = (UInt8(40), UInt8(40), UInt8(40))
        let px = { (x: Double) -> Double in Double(f.left) + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(f.right - f.left) }
        let py = { (t: Double) -> Double in Double(f.bottom) - (t - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * Double(f.bottom - f.top) }

        // Grid lines and tick labels.
        let xTickValues = LinePlot.niceTicks(xr, target: max(2, (f.right - f.left) / (60 * s)))
        for x in xTickValues.ticks {
            let column = Int(px(x).rounded())
            fillRect(&image, column, f.top, column, f.bottom, grid)
            fillRect(&image, column, f.bottom + 1, column, f.bottom + 4 * s, black)
            let label = LinePlot.tickLabel(x, step: xTickValues.step)
            let w = PixelFont.width(of: label, scale: s)
            PixelFont.draw(label, into: &image, x: min(max(0, column - w / 2), width - w),
                           y: f.bottom + 6 * s, scale: s, color: ink)
        }
        for tick in yTicks(yr) {
            let row = Int(py(tick.position).rounded())
            fillRect(&image, f.left, row, f.right, row, grid)
            fillRect(&image, f.left - 4 * s, row, f.left - 1, row, black)
            PixelFont.draw(tick.label, into: &image, x: f.left - 6 * s - PixelFont.width(of: tick.label, scale: s),
                           y: row - PixelFont.height(scale: s) / 2, scale: s, color: ink)
        }

        // Series, clipped to the inside of the box.
        for line in series {
            var previous: (Double, Double)?
            for (x, y) in zip(line.x, line.y) {
                guard x.isFinite, let t = axisY(y) else { previous = nil; continue }
                let point = (px(x), py(t))
                drawSegment(&image, from: previous ?? point, to: point, color: line.color, clip: f)
                previous = point
            }
        }

        // Axes box over the data, then the text.
        fillRect(&image, f.left, f.top, f.right, f.top, black)
        fillRect(&image, f.left, f.bottom, f.right, f.bottom, black)
        fillRect(&image, f.left, f.top, f.left, f.bottom, black)
        fillRect(&image, f.right, f.top, f.right, f.bottom, black)
        if !title.isEmpty {
            // One size up from the labels, smaller if the title would not fit the width.
            var titleScale = s + 1
            while titleScale > 1 && PixelFont.width(of: title, scale: titleScale) > width - 8 { titleScale -= 1 }
            let w = PixelFont.width(of: title, scale: titleScale)
            let x = min(max(4, (f.left + f.right - w) / 2), max(4, width - 4 - w))
            PixelFont.draw(title, into: &image, x: x, y: 8 * s, scale: titleScale, color: (0, 0, 0))
        }
        if !xLabel.isEmpty {
            let w = PixelFont.width(of: xLabel, scale: s)
            PixelFont.draw(xLabel, into: &image, x: (f.left + f.right - w) / 2,
                           y: height - 1 - 6 * s - PixelFont.height(scale: s), scale: s, color: ink)
        }
        if !yLabel.isEmpty {
            let w = PixelFont.width(of: yLabel, scale: s)
            PixelFont.draw(yLabel, into: &image, x: 8 * s, y: (f.top + f.bottom + w) / 2, scale: s,
                           color: ink, vertical: true)
        }
        if series.count > 1 { drawLegend(&image, frame: f) }
        return image
    }

    /// Writes the chart as a PNG file (atomically).
    public func write(to url: URL) throws {
        try PNG.write(render(), to: url.path)
    }

    /// Names with colour swatches in the top-right corner of the box, on white.
    private func drawLegend(_ image: inout PNGImage, frame f: Frame) {
        let s = fontScale
        let lineHeight = PixelFont.height(scale: s) + 4 * s
        let textWidth = series.map { PixelFont.width(of: $0.name, scale: s) }.max() ?? 0
        let boxWidth = 6 * s + 16 * s + 4 * s + textWidth + 6 * s
        let boxHeight = 6 * s + lineHeight * series.count
        let x0 = f.right - 6 * s - boxWidth, y0 = f.top + 6 * s
        fillRect(&image, x0, y0, x0 + boxWidth, y0 + boxHeight, Color(255, 255, 255))
        let edge = Color(160, 160, 160)
        fillRect(&image, x0, y0, x0 + boxWidth, y0, edge)
        fillRect(&image, x0, y0 + boxHeight, x0 + boxWidth, y0 + boxHeight, edge)
        fillRect(&image, x0, y0, x0, y0 + boxHeight, edge)
        fillRect(&image, x0 + boxWidth, y0, x0 + boxWidth, y0 + boxHeight, edge)
        for (i, line) in series.enumerated() {
            let rowTop = y0 + 5 * s + i * lineHeight
            let middle = rowTop + PixelFont.height(scale: s) / 2
            fillRect(&image, x0 + 6 * s, middle - s / 2, x0 + 22 * s, middle - s / 2 + lineWidth - 1, line.color)
            PixelFont.draw(line.name, into: &image, x: x0 + 26 * s, y: rowTop, scale: s, color: (40, 40, 40))
        }
    }

    /// A line from `a` to `b` (pixel coordinates): clipped to the frame (Liang–Barsky), then
    /// drawn with Bresenham's algorithm and a `lineWidth`-pixel square pen inside the box only.
    private func drawSegment(_ image: inout PNGImage, from a: (Double, Double), to b: (Double, Double),
                             color: Color, clip f: Frame) {
        guard let (p, q) = LinePlot.clip(a, b, to: f) else { return }
        var (x, y) = (Int(p.0.rounded()), Int(p.1.rounded()))
        let end = (Int(q.0.rounded()), Int(q.1.rounded()))
        let dx = abs(end.0 - x), dy = -abs(end.1 - y)
        let sx = x < end.0 ? 1 : -1, sy = y < end.1 ? 1 : -1
        var error = dx + dy
        let low = -(lineWidth - 1) / 2, high = lineWidth / 2
        while true {
            for oy in low...high {
                for ox in low...high {
                    let u = x + ox, v = y + oy
                    guard u > f.left, u < f.right, v > f.top, v < f.bottom else { continue }
                    let base = (v * image.width + u) * 3
                    image.pixels[base] = color.r; image.pixels[base + 1] = color.g; image.pixels[base + 2] = color.b
                }
            }
            if x == end.0 && y == end.1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// The part of segment `a`–`b` inside the frame's rectangle, nil when none (Liang–Barsky).
    static func clip(_ a: (Double, Double), _ b: (Double, Double), to f: Frame) -> ((Double, Double), (Double, Double))? {
        let dx = b.0 - a.0, dy = b.1 - a.1
        var t0 = 0.0, t1 = 1.0
        let edges = [(-dx, a.0 - Double(f.left)), (dx, Double(f.right) - a.0),
                     (-dy, a.1 - Double(f.top)), (dy, Double(f.bottom) - a.1)]
        for (p, q) in edges {
            if p == 0 {
                if q < 0 { return nil }
                continue
            }
            let r = q / p
            if p < 0 { if r > t1 { return nil }; t0 = max(t0, r) } else { if r < t0 { return nil }; t1 = min(t1, r) }
        }
        return ((a.0 + t0 * dx, a.1 + t0 * dy), (a.0 + t1 * dx, a.1 + t1 * dy))
    }

    /// Fills the rectangle between two corners (inclusive), clipped to the image.
    private func fillRect(_ image: inout PNGImage, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: Color) {
        let xa = max(0, min(x0, x1)), xb = min(image.width - 1, max(x0, x1))
        let ya = max(0, min(y0, y1)), yb = min(image.height - 1, max(y0, y1))
        guard xa <= xb, ya <= yb else { return }
        for v in ya...yb {
            for u in xa...xb {
                let base = (v * image.width + u) * 3
                image.pixels[base] = color.r; image.pixels[base + 1] = color.g; image.pixels[base + 2] = color.b
            }
        }
    }
}
