// Tiling a batch of images into one grid image (sample sheets).

import TensorCore

/// Lays out equally sized images in a grid of rows × columns, separated by white gutters.
///
/// Images fill the grid row by row; cells left over in the last row stay white.
///
/// ```swift
/// let samples = Tensor.zeros([8, 3, 32, 32])                 // [B, C, H, W] in [-1, 1]
/// let sheet = try ImageGrid.tile(samples, columns: 4)        // 2 rows × 4 columns
/// try PNG.write(sheet, to: "samples.png")                    // 4·32 + 3·2 = 134 px wide
/// ```
public enum ImageGrid {
    /// Rows and columns for `count` images: `columns` if given, else `ceil(sqrt(count))`,
    /// and as many rows as needed.
    ///
    /// ```swift
    /// ImageGrid.layout(count: 10)   // (rows: 3, columns: 4)
    /// ```
    public static func layout(count: Int, columns: Int? = nil) -> (rows: Int, columns: Int) {
        guard count > 0 else { return (0, 0) }
        var cols = columns ?? Int(Double(count).squareRoot().rounded(.up))
        cols = max(1, min(cols, count))
        return ((count + cols - 1) / cols, cols)
    }

    /// Tiles images that share one size and channel count; `gutter` pixels of white
    /// (opaque where there is alpha) separate neighbouring cells.
    ///
    /// ```swift
    /// let grid = try ImageGrid.tile(frames, columns: 3, gutter: 1)
    /// ```
    /// - Throws: ``PNGError/invalidImage(message:)`` for an empty list, mixed sizes or a negative gutter.
    public static func tile(_ images: [PNGImage], columns: Int? = nil, gutter: Int = 2) throws -> PNGImage {
        guard let first = images.first else { throw PNGError.invalidImage(message: "no images to tile") }
        guard gutter >= 0 else { throw PNGError.invalidImage(message: "negative gutter \(gutter)") }
        let (w, h, c) = (first.width, first.height, first.channels)
        guard images.allSatisfy({ $0.width == w && $0.height == h && $0.channels == c }) else {
            throw PNGError.invalidImage(message: "grid images must share one size and channel count")
        }
        let (rows, cols) = layout(count: images.count, columns: columns)
        var grid = PNGImage(width: cols * w + (cols - 1) * gutter, height: rows * h + (rows - 1) * gutter,
                            channels: c, filling: 255)
        let rowBytes = w * c
        for (i, image) in images.enumerated() {
            let x0 = (i % cols) * (w + gutter), y0 = (i / cols) * (h + gutter)
            for y in 0..<h {
                let dst = ((y0 + y) * grid.width + x0) * c
                let src = y * rowBytes
                grid.pixels.replaceSubrange(dst..<(dst + rowBytes), with: image.pixels[src..<(src + rowBytes)])
            }
        }
        return grid
    }

    /// Tiles a batch `[B, C, H, W]` in `[-1, 1]` (converted as ``PNGImage/init(tensor:)``).
    ///
    /// ```swift
    /// try PNG.write(ImageGrid.tile(batch), to: "grid.png")
    /// ```
    public static func tile(_ batch: Tensor, columns: Int? = nil, gutter: Int = 2) throws -> PNGImage {
        guard batch.rank == 4, batch.shape[0] > 0 else {
            throw PNGError.invalidImage(message: "expected a batch [B, C, H, W], got shape \(batch.shape)")
        }
        let item = Array(batch.shape.dropFirst()), n = item.reduce(1, *)
        let images = try (0..<batch.shape[0]).map { b in
            try PNGImage(tensor: Tensor(item, data: Array(batch.data[(b * n)..<((b + 1) * n)])))
        }
        return try tile(images, columns: columns, gutter: gutter)
    }
}
