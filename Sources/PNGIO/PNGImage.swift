/// An 8-bit image held in memory: `height` rows of `width` pixels, each `channels` bytes,
/// interleaved row-major (`pixels[(y * width + x) * channels + c]`).
///
/// Channels follow PNG's layouts: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
///
/// ```swift
/// var image = PNGImage(width: 4, height: 2, channels: 3, filling: 255)   // white
/// image[1, 0, 0] = 0                                                     // x 1, y 0: cyan
/// try PNG.write(image, to: "out.png")
/// ```
public struct PNGImage: Sendable, Equatable {
    /// Pixels per row.
    public let width: Int
    /// Number of rows.
    public let height: Int
    /// Bytes per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// `height * width * channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// An image from its pixels (`pixels.count` must be `width * height * channels`).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        precondition((1...4).contains(channels), "PNG images have 1...4 channels, got \(channels)")
        precondition(pixels.count == width * height * channels,
                     "a \(width)×\(height)×\(channels) image holds \(width * height * channels) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every byte set to `value` (255 = white, opaque).
    public init(width: Int, height: Int, channels: Int, filling value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// Whether the last channel is alpha (2 or 4 channels).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// The byte of channel `c` at column `x`, row `y`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}

/// Reading and writing PNG files through libpng's simplified API.
///
/// ```swift
/// let image = try PNG.read("in.png")             // any 8/16-bit grey, grey+alpha, RGB, RGBA, palette PNG
/// try PNG.write(image, to: "copy.png")           // written to a temporary file, then renamed
/// let x = try PNG.readTensor("in.png")           // [C, H, W] in [-1, 1]
/// ```
public enum PNG {
    /// The largest image (in pixels) a read will allocate; bigger headers are rejected as corrupt.
    public static let maxPixelCount = 1 << 28
}
