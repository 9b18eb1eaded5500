// Decoding PNG files and bytes into 8-bit images (libpng simplified API, no setjmp).

import CPNG
import Foundation

extension PNG {
    /// Reads a PNG file into an 8-bit image.
    ///
    /// Every PNG libpng accepts is read: 1/2/4/8/16-bit grey, grey + alpha, RGB, RGBA and palette
    /// images (palette images become RGB, or RGBA when they carry transparency). 16-bit samples are
    /// treated as sRGB-encoded like 8-bit ones and scaled to 8 bits (`v8 ≈ round(v16 / 257)`).
    /// Pass `channels` (1...4) to convert on read: colour to grey, grey to RGB, and alpha removed
    /// by compositing on white.
    ///
    /// ```swift
    /// let rgb = try PNG.read("photo.png", channels: 3)   // [H * W * 3] bytes whatever the file holds
    /// ```
    /// - Throws: ``PNGError/read(path:message:)`` with libpng's message for a missing file,
    ///   a file that is not a PNG, truncated or corrupt data, or a header over ``maxPixelCount``.
    public static func read(_ path: String, channels: Int? = nil) throws -> PNGImage {
        try decode(name: path, channels: channels, byteCount: regularFileSize(path)) { png_image_begin_read_from_file(&$0, path) }
    }

    /// Decodes PNG bytes held in memory (see ``read(_:channels:)``); errors name the path `"<memory>"`.
    ///
    /// ```swift
    /// let image = try PNG.decode(try PNG.encode(PNGImage(width: 2, height: 2, channels: 1)))
    /// ```
    public static func decode(_ bytes: [UInt8], channels: Int? = nil) throws -> PNGImage {
        try bytes.withUnsafeBytes { raw in
            // libpng keeps reading from `raw` until finish_read, so both calls stay inside this closure.
            try decode(name: "<memory>", channels: channels, byteCount: raw.count) {
                png_image_begin_read_from_memory(&$0, raw.baseAddress, raw.count)
            }
        }
    }

    /// The size of the regular file at `path`, or nil (not a regular file, or unreadable).
    static func regularFileSize(_ path: String) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular else { return nil }
        return (attributes[.size] as? NSNumber)?.intValue
    }

    /// The most bytes deflate expands one compressed byte into (a 258-byte match coded in 2 bits).
    static let maxDeflateRatio = 1032

    /// Whether `byteCount` bytes of PNG can hold a `width × height` image at all: its pixels take
    /// at least 1 bit each, compressed at most ``maxDeflateRatio`` to 1.
    static func canHold(width: Int, height: Int, byteCount: Int) -> Bool {
        width * height / 8 <= maxDeflateRatio * byteCount + 4096
    }

    /// Runs `begin` (a `png_image_begin_read_*` call), then finishes the read into a fresh image.
    /// `byteCount` (the input's size, when known) refuses a header that claims more pixels than the
    /// input can hold before the pixel buffer is allocated.
    private static func decode(name: String, channels wanted: Int?, byteCount: Int?,
                               begin: (inout png_image) -> Int32) throws -> PNGImage {
        if let wanted, !(1...4).contains(wanted) {
            throw PNGError.invalidImage(message: "PNG images have 1...4 channels, asked for \(wanted)")
        }
        var image = LibPNG.makeImage()
        guard begin(&image) != 0 else {   // on failure libpng has already freed its state
            throw PNGError.read(path: name, message: LibPNG.message(&image))
        }
        let width = Int(image.width), height = Int(image.height)
        guard width * height <= maxPixelCount else {
            png_image_free(&image)
            throw PNGError.read(path: name, message: "image of \(width)×\(height) pixels is too large")
        }
        if let byteCount, !canHold(width: width, height: height, byteCount: byteCount) {
            png_image_free(&image)
            throw PNGError.read(path: name, message: "the header claims \(width)×\(height) pixels, more than \(byteCount) bytes of PNG can hold (truncated or corrupt)")
        }
        let fileChannels = LibPNG.channels(format: image.format)
        let channels = wanted ?? fileChannels
        // 16-bit files without a gAMA chunk are sRGB in practice (Pillow, ImageMagick), not linear.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        image.format = LibPNG.format(channels: channels)

        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        var white = png_color(red: 255, green: 255, blue: 255)
        let removesAlpha = fileChannels % 2 == 0 && channels % 2 == 1
        let ok = pixels.withUnsafeMutableBytes { buffer in
            withUnsafePointer(to: &white) { background in
                png_image_finish_read(&image, removesAlpha ? background : nil, buffer.baseAddress,
                                      Int32(width * channels), nil)
            }
        }
        guard ok != 0 else { throw PNGError.read(path: name, message: LibPNG.message(&image)) }
        return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
