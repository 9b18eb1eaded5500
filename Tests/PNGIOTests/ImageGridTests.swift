// Tiling batches into grid images with white gutters.

import Testing
import TensorCore
@testable import PNGIO

@Test func layoutIsNearlySquareUnlessColumnsAreGiven() {
    #expect(ImageGrid.layout(count: 1) == (1, 1))
    #expect(ImageGrid.layout(count: 4) == (2, 2))
    #expect(ImageGrid.layout(count: 5) == (2, 3))
    #expect(ImageGrid.layout(count: 10) == (3, 4))
    #expect(ImageGrid.layout(count: 7, columns: 2) == (4, 2))
    #expect(ImageGrid.layout(count: 3, columns: 8) == (1, 3))
}

@Test(arguments: [(5, nil, 2), (5, 2, 1), (3, 3, 0), (4, 1, 2)] as [(Int, Int?, Int)])
func everyPixelLandsInItsCellOrTheGutter(count: Int, columns: Int?, gutter: Int) throws {
    let (w, h, c) = (3, 2, 3)
    // Image i, pixel (x, y, ch) holds 10·i + 3·y + x + ch (never 255), so each cell is recognisable.
    let images = (0..<count).map { i in
        var image = PNGImage(width: w, height: h, channels: c)
        for y in 0..<h {
            for x in 0..<w { for ch in 0..<c { image[x, y, ch] = UInt8(10 * i + 3 * y + x + ch) } }
        }
        return image
    }
    let grid = try ImageGrid.tile(images, columns: columns, gutter: gutter)
    let (rows, cols) = ImageGrid.layout(count: count, columns: columns)
    #expect(grid.width == cols * w + (cols - 1) * gutter)
    #expect(grid.height == rows * h + (rows - 1) * gutter)
    #expect(grid.channels == c)
    for gy in 0..<grid.height {
        for gx in 0..<grid.width {
            let (col, x) = (gx / (w + gutter), gx % (w + gutter))
            let (row, y) = (gy / (h + gutter), gy % (h + gutter))
            let i = row * cols + col
            for ch in 0..<c {
                let want: UInt8 = x < w && y < h && i < count ? UInt8(10 * i + 3 * y + x + ch) : 255
                #expect(grid[gx, gy, ch] == want, "pixel (\(gx), \(gy), \(ch))")
            }
        }
    }
}

@Test func batchTensorTilesLikeItsImages() throws {
    let batch = Tensor([3, 4, 2, 2], data: (0..<48).map { Float($0) / 24 - 1 })   // [B, C, H, W]
    let images = try (0..<3).map { b in
        try PNGImage(tensor: Tensor([4, 2, 2], data: Array(batch.data[(b * 16)..<((b + 1) * 16)])))
    }
    let grid = try ImageGrid.tile(batch, gutter: 1)
    #expect(grid == (try ImageGrid.tile(images, gutter: 1)))
    #expect(grid.width == 5 && grid.height == 5 && grid.channels == 4)
    #expect(Array(grid.pixels[(2 * 5 * 4)..<(3 * 5 * 4)]) == [UInt8](repeating: 255, count: 20))   // gutter row: opaque white
}

@Test func mismatchedOrEmptyInputThrows() {
    let a = PNGImage(width: 2, height: 2, channels: 3), b = PNGImage(width: 3, height: 2, channels: 3)
    #expect(pngError { _ = try ImageGrid.tile([a, b]) } != nil)
    #expect(pngError { _ = try ImageGrid.tile([PNGImage]()) } != nil)
    #expect(pngError { _ = try ImageGrid.tile([a], gutter: -1) } != nil)
    #expect(pngError { _ = try ImageGrid.tile(Tensor.zeros([3, 2, 2])) } != nil)
}
